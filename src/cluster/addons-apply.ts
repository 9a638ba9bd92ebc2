/**
 * Applies the cluster's add-ons in three phases, waiting between them: CRDs until Established,
 * then the controllers until their Deployments are Available, then the custom resources. Then
 * prunes, by inventory, the add-on objects applied before and no longer declared: custom
 * resources first, CRDs and namespaces last.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { groupOf, type AddonObject, type OrderedAddons } from '../addons/order.js';
import { applyObjects, describeObject, type AppliedObject } from './apply.js';
import { deleteEntry, entryOf, inventoryDiff, readInventory, writeInventory, type InventoryEntry } from './inventory.js';
import { rolloutState } from './rollout.js';

/** The inventory ConfigMap of add-ons, in the controller's namespace. */
export const ADDONS_INVENTORY = 'diploid-addons';

/** The inventory ConfigMap of another cluster's add-ons, kept at home next to the home one's. */
export function clusterAddonsInventory(cluster: string): string {
  return `${ADDONS_INVENTORY}-cluster-${cluster}`;
}

/**
 * On another cluster's inventory: the Secret (and key) its kubeconfig was read from, so that the
 * add-ons can still be removed once the cluster has left `clusters`.
 */
export const CLUSTER_SECRET_ANNOTATION = 'diploid.dev/kubeconfig-secret';
export const CLUSTER_SECRET_KEY_ANNOTATION = 'diploid.dev/kubeconfig-secret-key';

/** Another cluster's add-on inventory found at home: the cluster's name, and its Secret if recorded. */
export interface ClusterAddonsRecord {
  readonly cluster: string;
  readonly secret?: { readonly name: string; readonly key: string };
}

/** The inventories of other clusters' add-ons kept in `namespace` of home for `project`. */
export async function listClusterAddonsInventories(home: k8s.KubeConfig, namespace: string, project: string): Promise<ClusterAddonsRecord[]> {
  const prefix = clusterAddonsInventory('');
  const list = await home.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace, labelSelector: `app.kubernetes.io/managed-by=diploid,app.kubernetes.io/part-of=${project}` });
  return list.items.flatMap((map) => {
    const name = map.metadata?.name ?? '';
    if (!name.startsWith(prefix)) return [];
    const secret = map.metadata?.annotations?.[CLUSTER_SECRET_ANNOTATION];
    const key = map.metadata?.annotations?.[CLUSTER_SECRET_KEY_ANNOTATION];
    return [{ cluster: name.slice(prefix.length), ...(secret === undefined ? {} : { secret: { name: secret, key: key ?? 'kubeconfig' } }) }];
  });
}

/** An add-on that did not become ready in time: retried, the cluster may be slow. */
export class AddonNotReadyError extends Error {
  override readonly name = 'AddonNotReadyError';
}

export interface AddonsApplyOptions {
  readonly inventoryNamespace: string;
  /**
   * Where the inventory is kept, when not in the cluster the add-ons go to: another cluster's
   * add-ons keep theirs at home, as a Flux Kustomization with a `kubeConfig` keeps its own.
   */
  readonly inventory?: { readonly kube: k8s.KubeConfig; readonly name: string; readonly annotations?: Record<string, string> };
  readonly project: string;
  /** For each wait (Established, then Available). */
  readonly timeoutMs: number;
  readonly pollMs?: number;
  /** Called at each step, for logs and tests. */
  readonly onPhase?: (phase: string, objects: readonly string[]) => void | Promise<void>;
}

export interface AddonsApplyResult {
  readonly applied: readonly AppliedObject[];
  readonly pruned: readonly string[];
}

export async function applyAddons(kube: k8s.KubeConfig, addons: OrderedAddons, options: AddonsApplyOptions): Promise<AddonsApplyResult> {
  const inventoryKube = options.inventory?.kube ?? kube;
  const inventoryName = options.inventory?.name ?? ADDONS_INVENTORY;
  const previous = await readInventory(inventoryKube, options.inventoryNamespace, inventoryName);
  const all = [...addons.definitions, ...addons.controllers, ...addons.resources];
  if (all.length === 0 && previous.length === 0) return { applied: [], pruned: [] };
  const objects = (items: readonly AddonObject[]) => items.map((item) => item.object);
  const applied: AppliedObject[] = [];

  const phase = async (name: string, items: readonly AddonObject[], wait: (objects: KubeObject[]) => Promise<void>) => {
    if (items.length === 0) return;
    await options.onPhase?.(name, items.map((item) => describeObject(item.object)));
    applied.push(...(await applyObjects(kube, objects(items))));
    await wait(objects(items));
  };
  await phase('definitions', addons.definitions, (items) => waitFor(kube, items.filter((object) => object.kind === 'CustomResourceDefinition'), established, 'Established', options));
  await phase('controllers', addons.controllers, (items) => waitFor(kube, items.filter((object) => object.kind === 'Deployment'), available, 'Available', options));
  await phase('resources', addons.resources, async () => {});

  const current = all.map((item) => entryOf(item.object));
  const pruned: string[] = [];
  for (const entry of inventoryDiff(previous, current).sort((a, b) => pruneRank(a) - pruneRank(b))) {
    if (await deleteEntry(kube, entry)) pruned.push(describeObject({ kind: entry.kind, metadata: { name: entry.name, ...(entry.namespace === undefined ? {} : { namespace: entry.namespace }) } }));
  }
  await options.onPhase?.('pruned', pruned);
  await writeInventory(inventoryKube, options.inventoryNamespace, inventoryName, current, { 'app.kubernetes.io/part-of': options.project }, options.inventory?.annotations);
  return { applied, pruned };
}

/** Custom resources go first (their controller may still need its CRD), CRDs and namespaces last. */
function pruneRank(entry: InventoryEntry): number {
  if (entry.kind === 'Namespace') return 3;
  if (entry.kind === 'CustomResourceDefinition') return 2;
  return ['', 'apps', 'batch', 'policy', 'rbac.authorization.k8s.io', 'networking.k8s.io', 'admissionregistration.k8s.io', 'storage.k8s.io', 'scheduling.k8s.io'].includes(groupOf(entry.apiVersion)) ? 1 : 0;
}

type Check = (current: Record<string, unknown>) => string | undefined;

/** A CRD is usable once its Established condition is True; returns why not, or undefined. */
const established: Check = (current) => {
  const conditions = (current.status as { conditions?: Array<{ type: string; status: string; message?: string }> } | undefined)?.conditions ?? [];
  const condition = conditions.find((item) => item.type === 'Established');
  return condition?.status === 'True' ? undefined : `not Established${condition?.message === undefined ? '' : `: ${condition.message}`}`;
};

/** A Deployment is ready once rolled out with its Available condition True. */
const available: Check = (current) => {
  const state = rolloutState('Deployment', current as Parameters<typeof rolloutState>[1]);
  if (!state.done) return state.reason;
  const conditions = (current.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
  return conditions.find((item) => item.type === 'Available')?.status === 'True' ? undefined : 'not Available';
};

async function waitFor(kube: k8s.KubeConfig, objects: readonly KubeObject[], check: Check, what: string, options: AddonsApplyOptions): Promise<void> {
  const client = k8s.KubernetesObjectApi.makeApiClient(kube);
  const deadline = Date.now() + options.timeoutMs;
  let pending = [...objects];
  let reasons: string[] = [];
  while (pending.length > 0) {
    const next: KubeObject[] = [];
    reasons = [];
    for (const object of pending) {
      const current = (await client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }) } })) as unknown as Record<string, unknown>;
      const reason = check(current);
      if (reason === undefined) continue;
      next.push(object);
      reasons.push(`${describeObject(object)}: ${reason}`);
    }
    pending = next;
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new AddonNotReadyError(`add-ons not ${what} after ${Math.round(options.timeoutMs / 1000)}s: ${reasons.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}
