import * as k8s from '@kubernetes/client-node';
import { RetryableError } from '../errors.js';
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
 * deployed last). A write carries the resourceVersion this store last read or wrote for that
 * environment: if anyone else (a replica that still believes it leads) wrote in between, the
 * write fails with a `RetryableError` instead of overwriting what it did not see.
 */
export class ConfigMapStatusStore implements StatusStore {
  private readonly core: k8s.CoreV1Api;
  /** resourceVersion by environment, as last read or written; null: read, and absent. */
  private readonly versions = new Map<string, string | null>();

  constructor(config: k8s.KubeConfig, readonly namespace: string) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  async list(): Promise<EnvironmentStatus[]> {
    const list = await this.core.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: `${STATUS_LABEL}=true` });
    const statuses: EnvironmentStatus[] = [];
    for (const item of list.items) {
      const status = parseStatus(item.data);
      if (status === undefined) continue;
      this.versions.set(status.environment, item.metadata?.resourceVersion ?? null);
      statuses.push(status);
    }
    return statuses.sort((a, b) => (a.environment < b.environment ? -1 : 1));
  }

  async get(environment: string): Promise<EnvironmentStatus | undefined> {
    try {
      const map = await this.core.readNamespacedConfigMap({ name: statusObjectName(environment), namespace: this.namespace });
      this.versions.set(environment, map.metadata?.resourceVersion ?? null);
      return parseStatus(map.data);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      this.versions.set(environment, null);
      return undefined;
    }
  }

  async put(status: EnvironmentStatus): Promise<void> {
    if (!this.versions.has(status.environment)) await this.get(status.environment);
    const version = this.versions.get(status.environment) ?? null;
    const body = statusConfigMap(this.namespace, status) as k8s.V1ConfigMap;
    try {
      const written = version === null
        ? await this.core.createNamespacedConfigMap({ namespace: this.namespace, body })
        : await this.core.replaceNamespacedConfigMap({ name: body.metadata?.name ?? '', namespace: this.namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion: version } } });
      this.versions.set(status.environment, written.metadata?.resourceVersion ?? null);
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      // Someone else wrote it since we read it: read again before the next write, and let the caller retry.
      this.versions.delete(status.environment);
      throw new RetryableError(`the status of ${status.environment} was changed by someone else since it was read; not overwritten`, { cause: error });
    }
  }

  async delete(environment: string): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({ name: statusObjectName(environment), namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    this.versions.delete(environment);
  }
}
