import * as k8s from '@kubernetes/client-node';
import { applyObjects } from '../cluster/apply.js';
import { statusOf } from '../cluster/kube-client.js';
import { parseStatus, STATUS_LABEL, statusConfigMap, statusObjectName, type EnvironmentStatus } from './status.js';

/** Where environment statuses are kept. */
export interface StatusStore {
  list(): Promise<EnvironmentStatus[]>;
  get(environment: string): Promise<EnvironmentStatus | undefined>;
  put(status: EnvironmentStatus): Promise<void>;
  delete(environment: string): Promise<void>;
}

/**
 * Statuses as ConfigMaps `diploid-status-<env>` in the controller's namespace: readable with
 * kubectl, and the controller's memory across restarts (which environments exist, what was
 * deployed last).
 */
export class ConfigMapStatusStore implements StatusStore {
  private readonly core: k8s.CoreV1Api;

  constructor(private readonly config: k8s.KubeConfig, readonly namespace: string) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  async list(): Promise<EnvironmentStatus[]> {
    const list = await this.core.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: `${STATUS_LABEL}=true` });
    return list.items
      .map((item) => parseStatus(item.data))
      .filter((status): status is EnvironmentStatus => status !== undefined)
      .sort((a, b) => (a.environment < b.environment ? -1 : 1));
  }

  async get(environment: string): Promise<EnvironmentStatus | undefined> {
    try {
      return parseStatus((await this.core.readNamespacedConfigMap({ name: statusObjectName(environment), namespace: this.namespace })).data);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async put(status: EnvironmentStatus): Promise<void> {
    await applyObjects(this.config, [statusConfigMap(this.namespace, status)]);
  }

  async delete(environment: string): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({ name: statusObjectName(environment), namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }
}
