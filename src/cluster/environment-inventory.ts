import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { describeObject } from './apply.js';
import { objectDigest } from './object-digest.js';
import { objectClient, statusOf } from './kube-client.js';

/** One object diploid applied: enough to find it again, and a hash of what was applied. */
export interface InventoryEntry {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** Hash of the applied content: the same hash means the object's desired state did not change. */
  readonly hash: string;
}

/**
 * Kinds never pruned, whatever the inventory says: a claim holds data, and a namespace holds
 * everything in it (claims included). Removing them is a person's decision.
 */
const NEVER_PRUNED = new Set(['PersistentVolumeClaim', 'PersistentVolume', 'Namespace']);

/** Name of the ConfigMap, in an environment's namespace, holding the inventory of its last successful deploy. */
export const INVENTORY_NAME = 'diploid-inventory';
const INVENTORY_KEY = 'inventory.json';

/** Keys made, by entry (entries are never changed): at 1000 services sorting 4000 entries made two keys per comparison. */
const keys = new WeakMap<object, string>();

/** The same object across API versions (`autoscaling/v2` and a later one): group, kind, namespace, name. Pure. */
export function inventoryKey(entry: Pick<InventoryEntry, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  let key = keys.get(entry);
  if (key === undefined) {
    const group = entry.apiVersion.includes('/') ? entry.apiVersion.split('/')[0] : '';
    key = `${group}/${entry.kind}/${entry.namespace ?? ''}/${entry.name}`;
    keys.set(entry, key);
  }
  return key;
}

/** One object's inventory entry. Pure. */
export function entryOf(object: KubeObject): InventoryEntry {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
    name: object.metadata.name,
    hash: objectDigest(object).slice(0, 16),
  };
}


/** The inventory of a set of objects, sorted by key. Pure. */
export function inventoryOf(objects: readonly KubeObject[]): InventoryEntry[] {
  return sortEntries(objects.map(entryOf));
}

/** Entries already made, sorted by key as an inventory is (sorts the array given). Pure. */
export function sortInventory(entries: InventoryEntry[]): InventoryEntry[] {
  return sortEntries(entries);
}

/** Entries of `next`, plus those of `previous` it lacks: what is in the cluster after a deploy that pruned nothing. Pure. */
export function inventoryUnion(previous: readonly InventoryEntry[], next: readonly InventoryEntry[]): InventoryEntry[] {
  const known = new Set(next.map(inventoryKey));
  return sortEntries([...next, ...previous.filter((entry) => !known.has(inventoryKey(entry)))]);
}

function sortEntries(entries: InventoryEntry[]): InventoryEntry[] {
  return entries.sort((a, b) => (inventoryKey(a) < inventoryKey(b) ? -1 : inventoryKey(a) > inventoryKey(b) ? 1 : 0));
}

/** What to delete: in the old inventory, not in the new one, and not a kind that holds data. Pure. */
export function inventoryDiff(previous: readonly InventoryEntry[], next: readonly InventoryEntry[]): InventoryEntry[] {
  const kept = new Set(next.map(inventoryKey));
  return previous.filter((entry) => !kept.has(inventoryKey(entry)) && !NEVER_PRUNED.has(entry.kind));
}

/** Reads the inventory of an environment's last successful deploy; empty when there is none (or it is not ours). */
export async function readInventory(config: k8s.KubeConfig, namespace: string): Promise<InventoryEntry[]> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  let map: k8s.V1ConfigMap;
  try {
    map = await core.readNamespacedConfigMap({ name: INVENTORY_NAME, namespace });
  } catch (error) {
    if (statusOf(error) === 404) return [];
    throw error;
  }
  try {
    const value = JSON.parse(map.data?.[INVENTORY_KEY] ?? '[]') as unknown;
    return Array.isArray(value) ? value.filter(isEntry) : [];
  } catch {
    return [];
  }
}

function isEntry(value: unknown): value is InventoryEntry {
  const entry = value as Partial<InventoryEntry> | null;
  return entry !== null && typeof entry === 'object' && typeof entry.apiVersion === 'string' && typeof entry.kind === 'string' && typeof entry.name === 'string' && typeof entry.hash === 'string';
}

/** The ConfigMap that keeps an inventory in the environment's namespace. Pure. */
export function inventoryConfigMap(namespace: string, entries: readonly InventoryEntry[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: INVENTORY_NAME, namespace, labels: { 'app.kubernetes.io/managed-by': 'diploid', 'app.kubernetes.io/component': 'inventory' } },
    data: { [INVENTORY_KEY]: `${JSON.stringify(entries)}\n` },
  };
}

/**
 * Deletes what the old inventory has and the new one lacks. An object that is gone already is
 * skipped, and so is one that no longer carries diploid's managed-by label (someone took it over).
 */
export async function pruneInventory(config: k8s.KubeConfig, previous: readonly InventoryEntry[], next: readonly InventoryEntry[]): Promise<string[]> {
  const client = objectClient(config);
  const deleted: string[] = [];
  for (const entry of inventoryDiff(previous, next)) {
    const ref = { apiVersion: entry.apiVersion, kind: entry.kind, metadata: { name: entry.name, ...(entry.namespace === undefined ? {} : { namespace: entry.namespace }) } };
    try {
      const live = await client.read(ref);
      if (live.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'diploid') continue;
      await client.delete(ref);
      deleted.push(describeObject(ref));
    } catch (error) {
      // Gone already, or its kind no longer served (a CRD removed): nothing to delete.
      if (statusOf(error) === 404) continue;
      throw error;
    }
  }
  return deleted;
}
