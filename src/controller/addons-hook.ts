/**
 * The ops repo's add-ons, applied before any environment to every cluster that needs them: home
 * (the controller's own cluster) and each cluster of `clusters` that hosts an environment, each
 * with its own order and waits and its own inventory (see `addons/clusters.ts`). A cluster whose
 * add-ons fail blocks only the environments that live there.
 */
import type * as k8s from '@kubernetes/client-node';
import { addonCount, addonTargets, type AddonTarget } from '../addons/clusters.js';
import { loadAddons } from '../addons/load.js';
import { applyAddons, CLUSTER_SECRET_ANNOTATION, CLUSTER_SECRET_KEY_ANNOTATION, clusterAddonsInventory, listClusterAddonsInventories } from '../cluster/addons-apply.js';
import { ClusterSecretError, type ClusterConnections } from '../cluster/clusters.js';
import { deleteInventory, readInventory } from '../cluster/inventory.js';
import type { ConfigSpec } from '../model/config.js';
import { RetryableError, TerminalError } from '../errors.js';
import type { Workspace } from '../sources/git/workspace.js';
import { classifyError } from './errors.js';

/** The clusters whose add-ons failed, by name (`''` for home), each with the error its environments fail with. */
export interface AddonsOutcome {
  readonly blocked: ReadonlyMap<string, Error>;
}

/**
 * Applies the add-ons of the ops repo's default branch; returns the clusters they failed in.
 * Throws (stopping every environment) only when the add-ons cannot be read at all.
 */
export type AddonsHook = (workspace: Workspace) => Promise<AddonsOutcome>;

/**
 * A cluster's add-ons failed: its environments wait, and are tried again with backoff. Retried
 * even when the API server refused an add-on: the add-ons come from the default branch, so the fix
 * is a commit there, which an environment following another branch would never see if its own
 * commit were stalled for good.
 */
export class ClusterAddonsError extends RetryableError {
  override readonly name = 'ClusterAddonsError';
  override readonly reason: 'AddonsFailed' | 'AddonsNotReady';
  constructor(reason: 'AddonsFailed' | 'AddonsNotReady', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Names a target in messages: never anything of its kubeconfig, only the cluster's name. */
export function clusterLabel(cluster: string | undefined): string {
  return cluster === undefined ? "the controller's own cluster" : `cluster ${cluster}`;
}

/**
 * What the environments of a cluster whose add-ons failed fail with. A cluster Secret that is
 * missing or unusable keeps its own error (it names the cluster and the Secret); anything else
 * says whose add-ons failed: `AddonsFailed` when the cluster refused one, `AddonsNotReady` when
 * one did not become ready or the cluster did not answer.
 */
export function blockedBy(cluster: string | undefined, error: unknown): Error {
  if (error instanceof ClusterSecretError) return error;
  const classified = classifyError(error);
  const message = `add-ons of ${clusterLabel(cluster)} failed, so its environments wait for them: ${classified.message}`;
  return new ClusterAddonsError(classified.retryable ? 'AddonsNotReady' : 'AddonsFailed', message, { cause: error });
}

export interface AddonsHookOptions {
  readonly controllerNamespace: string;
  readonly project: string;
  readonly cacheDir: string;
  readonly log: (line: string) => void;
  /** Other clusters, reached with the kubeconfigs of Secrets in the controller's namespace. */
  readonly clusters?: ClusterConnections;
  /** A commit applied successfully to a cluster less than this ago is not applied there again. */
  readonly freshMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Add-ons from the ops repo's default branch head. A commit applied successfully to a cluster
 * less than `freshMs` ago is not applied there again: a resync pass reconciles many pushes in a row.
 */
export function kubeAddonsHook(kube: k8s.KubeConfig, options: AddonsHookOptions): AddonsHook {
  const last = new Map<string, { commit: string; at: number }>();
  let sweep: { clusters?: string; at: number; clean: boolean } = { at: 0, clean: false };
  return async (workspace) => {
    const blocked = new Map<string, Error>();
    const ops = await workspace.ops();
    const head = (await ops.branches()).get(await ops.defaultBranch());
    if (head === undefined) return { blocked };
    const { config } = await workspace.config(head);
    const targets = addonTargets(config, await loadAddons(await ops.tree(head, ''), config, options.cacheDir));
    // Clusters that left `clusters` are looked for when the list changes (and at start), and again
    // later while one still has add-ons there: not at every push.
    const clustersNow = JSON.stringify(Object.keys(config.clusters ?? {}).sort());
    if (clustersNow !== sweep.clusters || (!sweep.clean && Date.now() - sweep.at >= (options.freshMs ?? 60_000))) {
      sweep = { clusters: clustersNow, at: Date.now(), clean: await removeFromLeftClusters(kube, config, head, options) };
    }
    // One cluster after the other: each waits for its own CRDs and Deployments.
    for (const target of targets) {
      const id = target.cluster?.name ?? '';
      const seen = last.get(id);
      if (seen?.commit === head && Date.now() - seen.at < (options.freshMs ?? 60_000)) continue;
      try {
        await applyTo(kube, target, head, options);
        last.set(id, { commit: head, at: Date.now() });
      } catch (error) {
        last.delete(id);
        const reason = blockedBy(target.cluster?.name, error);
        options.log(`add-ons at ops@${head.slice(0, 12)} failed in ${clusterLabel(target.cluster?.name)}; only its environments wait, tried again: ${reason.message}`);
        blocked.set(id, reason);
      }
    }
    return { blocked };
  };
}

async function applyTo(home: k8s.KubeConfig, target: AddonTarget, head: string, options: AddonsHookOptions): Promise<void> {
  const { cluster } = target;
  let kube = home;
  if (cluster !== undefined) {
    // No add-ons for it now nor applied before: its kubeconfig is not even read (its environments report a bad one).
    if (addonCount(target.addons) === 0 && (await readInventory(home, options.controllerNamespace, clusterAddonsInventory(cluster.name))).length === 0) return;
    if (options.clusters === undefined) throw new TerminalError('ClusterUnknown', `cluster ${cluster.name}: this controller was started without access to other clusters`);
    kube = await options.clusters.config(cluster);
  }
  const result = await applyAddons(kube, target.addons, {
    inventoryNamespace: options.controllerNamespace,
    project: options.project,
    timeoutMs: options.timeoutMs ?? 300_000,
    // Another cluster's inventory stays home, by the cluster's name: its kubeconfig may grant no namespace of ours there.
    ...(cluster === undefined ? {} : { inventory: { kube: home, name: clusterAddonsInventory(cluster.name), annotations: { [CLUSTER_SECRET_ANNOTATION]: cluster.secret, [CLUSTER_SECRET_KEY_ANNOTATION]: cluster.key } } }),
  });
  if (result.applied.length > 0 || result.pruned.length > 0) {
    options.log(`add-ons at ops@${head.slice(0, 12)}${cluster === undefined ? '' : ` in cluster ${cluster.name}`}: ${result.applied.filter((item) => item.outcome !== 'unchanged').length} of ${result.applied.length} objects changed, ${result.pruned.length} pruned`);
  }
}

const NO_ADDONS = { definitions: [], controllers: [], resources: [] };

/**
 * A cluster that left `clusters` keeps no add-ons of diploid's: those its inventory at home names
 * are removed there, reached with the Secret the inventory recorded, and the inventory goes, as
 * a Flux Kustomization taken out of its source is pruned. Its environments have moved away (see
 * `left-behind.ts`), so a failure holds nothing back: it is logged and tried again later.
 */
async function removeFromLeftClusters(home: k8s.KubeConfig, config: ConfigSpec, head: string, options: AddonsHookOptions): Promise<boolean> {
  let records;
  try {
    records = await listClusterAddonsInventories(home, options.controllerNamespace, options.project);
  } catch (error) {
    options.log(`could not look for add-ons left in clusters that left clusters; tried again: ${classifyError(error).message}`);
    return false;
  }
  let clean = true;
  for (const record of records) {
    if (Object.hasOwn(config.clusters ?? {}, record.cluster)) continue;
    const inventory = `${options.controllerNamespace}/${clusterAddonsInventory(record.cluster)}`;
    if (record.secret === undefined) {
      options.log(`add-ons left in cluster ${record.cluster}, which left clusters: its inventory (ConfigMap ${inventory}) does not say which Secret reached it; remove them there by hand, then delete that ConfigMap`);
      // Nothing to try again until someone acts: said once per change of `clusters`.
      continue;
    }
    try {
      await applyTo(home, { cluster: { name: record.cluster, secret: record.secret.name, key: record.secret.key }, addons: NO_ADDONS }, head, options);
      await deleteInventory(home, options.controllerNamespace, clusterAddonsInventory(record.cluster));
      options.log(`add-ons removed from cluster ${record.cluster}, which left clusters`);
    } catch (error) {
      options.log(`add-ons left in cluster ${record.cluster}, which left clusters, could not be removed yet; tried again (delete ConfigMap ${inventory} to leave them): ${classifyError(error).message}`);
      clean = false;
    }
  }
  return clean;
}
