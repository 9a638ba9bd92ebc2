import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { statusOf } from '../cluster/kube-client.js';
import type { Pin } from './history.js';

/**
 * Pins live in their own ConfigMaps (`diploid-pin-<env>`), apart from the status: the status is
 * the controller's (it rewrites it on every step), a pin is the operator's request. So a
 * controller write can never lose a rollback made a moment earlier, and `unpin` is a delete.
 */
export interface PinStore {
  list(): Promise<Map<string, Pin>>;
  get(environment: string): Promise<Pin | undefined>;
  set(environment: string, pin: Pin): Promise<void>;
  /** Ends the pin; with `only`, only when it is still that pin (set at that time), so a newer one survives. */
  clear(environment: string, only?: Pin): Promise<boolean>;
}

export const PIN_LABEL = 'diploid.dev/pin';
const PIN_KEY = 'pin.json';

/** `diploid-pin-<env>`, shortened with a hash past 63 characters. Pure. */
export function pinObjectName(environment: string): string {
  const name = `diploid-pin-${environment}`;
  if (name.length <= 63) return name;
  return `${name.slice(0, 52).replace(/-+$/, '')}-${createHash('sha256').update(environment).digest('hex').slice(0, 10)}`;
}

function parsePin(data: Readonly<Record<string, string>> | undefined): { environment: string; pin: Pin } | undefined {
  const text = data?.[PIN_KEY];
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as { environment?: unknown; pin?: Pin };
    if (typeof value.environment !== 'string' || value.pin === undefined || typeof value.pin.commits !== 'object' || typeof value.pin.at !== 'string') return undefined;
    return { environment: value.environment, pin: value.pin };
  } catch {
    return undefined;
  }
}

export class ConfigMapPinStore implements PinStore {
  private readonly core: k8s.CoreV1Api;

  constructor(config: k8s.KubeConfig, readonly namespace: string) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  async list(): Promise<Map<string, Pin>> {
    const list = await this.core.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: `${PIN_LABEL}=true` });
    const pins = new Map<string, Pin>();
    for (const item of list.items) {
      const parsed = parsePin(item.data);
      if (parsed !== undefined) pins.set(parsed.environment, parsed.pin);
    }
    return pins;
  }

  async get(environment: string): Promise<Pin | undefined> {
    return (await this.read(environment))?.pin;
  }

  async set(environment: string, pin: Pin): Promise<void> {
    const body: k8s.V1ConfigMap = {
      metadata: { name: pinObjectName(environment), namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'diploid', [PIN_LABEL]: 'true', 'diploid.dev/environment': environment } },
      data: { [PIN_KEY]: `${JSON.stringify({ environment, pin }, null, 2)}\n` },
    };
    try {
      await this.core.createNamespacedConfigMap({ namespace: this.namespace, body });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      // The operator's latest word wins: a second rollback replaces the first.
      await this.core.replaceNamespacedConfigMap({ name: pinObjectName(environment), namespace: this.namespace, body });
    }
  }

  async clear(environment: string, only?: Pin): Promise<boolean> {
    const current = await this.read(environment);
    if (current === undefined) return false;
    if (only !== undefined && current.pin.at !== only.at) return false;
    try {
      // The read version as precondition: a pin set in between is not deleted.
      await this.core.deleteNamespacedConfigMap({ name: pinObjectName(environment), namespace: this.namespace, body: { preconditions: { resourceVersion: current.version } } });
      return true;
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 409) return false;
      throw error;
    }
  }

  private async read(environment: string): Promise<{ pin: Pin; version: string } | undefined> {
    try {
      const map = await this.core.readNamespacedConfigMap({ name: pinObjectName(environment), namespace: this.namespace });
      const parsed = parsePin(map.data);
      return parsed === undefined || parsed.environment !== environment ? undefined : { pin: parsed.pin, version: map.metadata?.resourceVersion ?? '' };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}
