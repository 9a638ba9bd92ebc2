import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { statusOf } from '../cluster/kube-client.js';
import { RetryableError } from '../errors.js';

/** Remembers webhook deliveries, so one delivered twice is handled once. */
export interface DeliveryLog {
  /** Records `key`; false when it was recorded before (a redelivery). */
  claim(key: string): Promise<boolean>;
}

/** Name of the ConfigMap holding recent delivery ids in the controller's namespace. */
export const DELIVERY_LOG_NAME = 'diploid-deliveries';

/**
 * Recent deliveries in a ConfigMap of the controller's namespace, so a restarted controller (or
 * another replica) still knows them. Each claim is a read and a write carrying the read's
 * resourceVersion: two claims of the same delivery cannot both win. Keys are stored hashed (a
 * ConfigMap key allows few characters), with the time they were claimed; the oldest are
 * forgotten past `remember`.
 */
export class ConfigMapDeliveryLog implements DeliveryLog {
  private readonly core: k8s.CoreV1Api;

  constructor(config: k8s.KubeConfig, private readonly namespace: string, private readonly remember = 2_000, private readonly now: () => Date = () => new Date()) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  async claim(key: string): Promise<boolean> {
    const id = createHash('sha256').update(key).digest('hex').slice(0, 40);
    for (let attempt = 1; attempt <= 8; attempt++) {
      const current = await this.read();
      const data = { ...(current?.data ?? {}) };
      if (data[id] !== undefined) return false;
      data[id] = this.now().toISOString();
      const kept = Object.fromEntries(Object.entries(data).sort(([, a], [, b]) => (a < b ? 1 : a > b ? -1 : 0)).slice(0, this.remember));
      try {
        if (current === undefined) {
          await this.core.createNamespacedConfigMap({ namespace: this.namespace, body: { metadata: { name: DELIVERY_LOG_NAME, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'diploid' } }, data: kept } });
        } else {
          // The resourceVersion makes this a compare-and-swap: a concurrent claim makes it fail with 409.
          await this.core.replaceNamespacedConfigMap({ name: DELIVERY_LOG_NAME, namespace: this.namespace, body: { ...current, data: kept } });
        }
        return true;
      } catch (error) {
        if (statusOf(error) === 409) continue;
        throw error;
      }
    }
    throw new RetryableError(`the delivery log ${this.namespace}/${DELIVERY_LOG_NAME} kept changing under us; try the delivery again`);
  }

  private async read(): Promise<k8s.V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name: DELIVERY_LOG_NAME, namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}
