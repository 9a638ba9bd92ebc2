/**
 * `diploid apply`'s add-ons: those of the cluster the environment deploys to, read from the ops
 * folder and applied before the environment, as the controller applies the default branch's
 * before any environment. They share the controller's inventories (in its namespace of the home
 * cluster), so `apply` and the controller prune each other's removals alike.
 */
import type * as k8s from '@kubernetes/client-node';
import { addonCount, addonTargets } from '../addons/clusters.js';
import { loadAddons } from '../addons/load.js';
import { ADDONS_INVENTORY, applyAddons, clusterAddonsInventory, type AddonsApplyResult } from '../cluster/addons-apply.js';
import { readInventory } from '../cluster/inventory.js';
import { statusOf } from '../cluster/kube-client.js';
import { ensureNamespace } from '../cluster/namespace.js';
import { UserError } from '../errors.js';
import type { ConfigSpec } from '../model/config.js';
import { DirectoryTree } from '../sources/trees.js';
import { defaultCacheDir } from './options.js';

export interface ApplyAddonsOptions {
  readonly opsDir: string;
  readonly config: ConfigSpec;
  /** The environment's cluster of `clusters`; undefined for home (the cluster of --kubeconfig). */
  readonly cluster: string | undefined;
  /** Where the add-ons go: the environment's cluster. */
  readonly target: k8s.KubeConfig;
  /**
   * The cluster of --kubeconfig, whose controller namespace keeps the inventories: made only when
   * needed (with --cluster-kubeconfig, --kubeconfig need not be readable when no add-on is declared).
   */
  readonly home: () => k8s.KubeConfig;
  readonly controllerNamespace: string;
  readonly timeoutMs: number;
}

/** Applies the add-ons meant for the environment's cluster, waits for them, prunes those removed. */
export async function applyEnvironmentAddons(options: ApplyAddonsOptions): Promise<AddonsApplyResult> {
  const all = await loadAddons(new DirectoryTree(options.opsDir, ''), options.config, defaultCacheDir());
  const target = addonTargets(options.config, all).find((candidate) => candidate.cluster?.name === options.cluster);
  // A cluster with `addons: false` (or hosting no environment by its own choice) gets none: nothing applied, nothing pruned.
  if (target === undefined) return { applied: [], pruned: [] };
  const where = options.cluster === undefined ? 'the cluster of --kubeconfig' : `cluster ${options.cluster}`;
  // An ops repo without add-ons asks nothing of a user who may not read the controller's namespace.
  if (addonCount(target.addons) === 0 && !(await recordedBefore(options))) return { applied: [], pruned: [] };
  try {
    // The inventory lives in the controller's namespace, which a cluster without the controller may not have yet.
    const home = options.home();
    if (addonCount(target.addons) > 0) await ensureNamespace(home, options.controllerNamespace);
    return await applyAddons(options.target, target.addons, {
      inventoryNamespace: options.controllerNamespace,
      project: options.config.project,
      timeoutMs: options.timeoutMs,
      ...(options.cluster === undefined ? {} : { inventory: { kube: home, name: clusterAddonsInventory(options.cluster) } }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UserError(`the add-ons of ${where} failed, so nothing of the environment was applied (--no-addons skips them): ${reason}`, { cause: error });
  }
}

/**
 * Whether add-ons applied before are recorded for this cluster. With none declared, an inventory
 * the user may not read (a refused read, a --kubeconfig they did not give beside
 * --cluster-kubeconfig) counts as none: there is nothing to apply, and nothing known to prune.
 */
async function recordedBefore(options: ApplyAddonsOptions): Promise<boolean> {
  const name = options.cluster === undefined ? ADDONS_INVENTORY : clusterAddonsInventory(options.cluster);
  try {
    return (await readInventory(options.home(), options.controllerNamespace, name)).length > 0;
  } catch (error) {
    if (statusOf(error) === 403 || error instanceof UserError) return false;
    throw error;
  }
}
