/**
 * Removes what an environment left in a cluster it moved away from: the objects of its last
 * inventory there, the Secrets diploid wrote there, the inventory itself, and its namespace when
 * diploid created it. As a prune, never a volume: a namespace that still holds
 * PersistentVolumeClaims is kept (deleting it would delete them), and said so.
 */
import * as k8s from '@kubernetes/client-node';
import { describeObject } from './apply.js';
import { INVENTORY_NAME, pruneInventory, readInventory } from './environment-inventory.js';
import { statusOf } from './kube-client.js';

/** What removing a left-behind copy did. */
export interface LeftBehindRemoval {
  /** Objects deleted, as `Kind namespace/name`. */
  readonly removed: readonly string[];
  /**
   * The namespace: `deleted` (or being deleted), `absent`, `not-ours` (someone else created it:
   * left, emptied of diploid's objects), or `kept` because it holds volumes.
   */
  readonly namespace: 'deleted' | 'absent' | 'not-ours' | 'kept';
  /** The PersistentVolumeClaims that keep the namespace, as `namespace/name`. */
  readonly volumes: readonly string[];
}

const MANAGED = 'app.kubernetes.io/managed-by';

/**
 * Removes an environment's copy from `namespace` of the cluster `config` reaches. `secrets`
 * names the Secrets diploid wrote there (from the home cluster's secrets inventory).
 */
export async function removeLeftBehind(config: k8s.KubeConfig, namespace: string, secrets: readonly string[]): Promise<LeftBehindRemoval> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  let current: k8s.V1Namespace;
  try {
    current = await core.readNamespace({ name: namespace });
  } catch (error) {
    if (statusOf(error) === 404) return { removed: [], namespace: 'absent', volumes: [] };
    throw error;
  }
  // By inventory, as a prune to an empty environment: volumes, namespaces and objects someone took over stay.
  const removed = await pruneInventory(config, await readInventory(config, namespace), []);
  for (const name of secrets) {
    if (await deleteOurs(() => core.readNamespacedSecret({ name, namespace }), () => core.deleteNamespacedSecret({ name, namespace }))) removed.push(describeObject({ kind: 'Secret', metadata: { name, namespace } }));
  }
  if (current.metadata?.labels?.[MANAGED] !== 'diploid') {
    await deleteOurs(() => core.readNamespacedConfigMap({ name: INVENTORY_NAME, namespace }), () => core.deleteNamespacedConfigMap({ name: INVENTORY_NAME, namespace }));
    return { removed, namespace: 'not-ours', volumes: [] };
  }
  const claims = await core.listNamespacedPersistentVolumeClaim({ namespace });
  const volumes = claims.items.map((claim) => `${namespace}/${claim.metadata?.name ?? ''}`).sort();
  // The inventory stays with the volumes, so a later attempt (once they are deleted) still knows the namespace is ours to remove.
  if (volumes.length > 0) return { removed, namespace: 'kept', volumes };
  if (current.metadata?.deletionTimestamp !== undefined) return { removed, namespace: 'deleted', volumes: [] };
  try {
    await core.deleteNamespace({ name: namespace });
  } catch (error) {
    if (statusOf(error) === 404) return { removed, namespace: 'absent', volumes: [] };
    throw error;
  }
  return { removed, namespace: 'deleted', volumes: [] };
}

/** Deletes one object if it carries diploid's label; whether it did. */
async function deleteOurs(read: () => Promise<{ metadata?: k8s.V1ObjectMeta }>, remove: () => Promise<unknown>): Promise<boolean> {
  try {
    if ((await read()).metadata?.labels?.[MANAGED] !== 'diploid') return false;
    await remove();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}
