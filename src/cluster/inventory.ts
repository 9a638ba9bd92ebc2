/**
 * An inventory: the list of objects a set of applies made, kept in a ConfigMap so that what is
 * no longer declared can be pruned (Flux's `inventory.Diff(old, new)`), never by listing kinds
 * with a label selector. Losing it only means nothing is pruned once.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { applyObjects } from './apply.js';
import { objectClient, statusOf } from './kube-client.js';

/** One object, by what identifies it. */
export interface InventoryEntry {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

const KEY = 'inventory.json';

export function entryOf(object: KubeObject): InventoryEntry {
  return { apiVersion: object.apiVersion, kind: object.kind, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }), name: object.metadata.name };
}

export function entryKey(entry: InventoryEntry): string {
  // The group, not the version: a CRD served under a new version is the same object.
  const group = entry.apiVersion.includes('/') ? entry.apiVersion.split('/')[0] : '';
  return `${group}/${entry.kind}/${entry.namespace ?? ''}/${entry.name}`;
}

/** Entries of `previous` that `current` no longer has, in `previous`'s order. */
export function inventoryDiff(previous: readonly InventoryEntry[], current: readonly InventoryEntry[]): InventoryEntry[] {
  const keep = new Set(current.map(entryKey));
  return previous.filter((entry) => !keep.has(entryKey(entry)));
}

/** The inventory kept in ConfigMap `name` of `namespace`; empty when there is none yet. */
export async function readInventory(config: k8s.KubeConfig, namespace: string, name: string): Promise<InventoryEntry[]> {
  try {
    const map = await config.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name, namespace });
    const parsed = JSON.parse(map.data?.[KEY] ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as InventoryEntry[]) : [];
  } catch (error) {
    if (statusOf(error) === 404) return [];
    throw error;
  }
}

export async function writeInventory(config: k8s.KubeConfig, namespace: string, name: string, entries: readonly InventoryEntry[], labels: Record<string, string>, annotations: Record<string, string> = {}): Promise<void> {
  const metadata = { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'diploid', ...labels }, ...(Object.keys(annotations).length === 0 ? {} : { annotations }) };
  await applyObjects(config, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { [KEY]: `${JSON.stringify(entries, null, 1)}\n` } }]);
}

/** Deletes the inventory ConfigMap itself; gone already is fine. */
export async function deleteInventory(config: k8s.KubeConfig, namespace: string, name: string): Promise<void> {
  try {
    await config.makeApiClient(k8s.CoreV1Api).deleteNamespacedConfigMap({ name, namespace });
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

/** Deletes one object; gone already is fine. Returns whether it was there. */
export async function deleteEntry(config: k8s.KubeConfig, entry: InventoryEntry): Promise<boolean> {
  const client = objectClient(config);
  try {
    await client.delete({ apiVersion: entry.apiVersion, kind: entry.kind, metadata: { name: entry.name, ...(entry.namespace === undefined ? {} : { namespace: entry.namespace }) } });
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}
