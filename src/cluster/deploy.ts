import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { splitPreRollout } from '../backends/kubernetes/tasks.js';
import { applyObjects, describeObject, type AppliedObject } from './apply.js';
import { entryOf, inventoryConfigMap, inventoryKey, inventoryUnion, pruneInventory, readInventory, sortInventory, type InventoryEntry } from './environment-inventory.js';
import { keepsNoOldPods, restorePreviousRevision, whyRestored } from './rollback.js';
import { waitForRollout, type RolloutFailure } from './rollout.js';
import { waitForTasks } from './tasks.js';

export interface DeployResult {
  readonly applied: readonly AppliedObject[];
  readonly pruned: readonly string[];
  /**
   * Workloads whose new version did not become ready; their previous version keeps serving (a
   * `Recreate` Deployment, a DaemonSet or a StatefulSet, which cannot keep their old pods, is
   * restored to its previous revision).
   */
  readonly failures: readonly RolloutFailure[];
  /**
   * Objects the server held differently from what diploid applied last, although diploid's
   * desired content did not change: edited by hand (drift), and now put back.
   */
  readonly drifted: readonly string[];
  /** What diploid now has in the environment (kept in the namespace's `diploid-inventory` ConfigMap). */
  readonly inventory: readonly InventoryEntry[];
}

export interface DeployOptions {
  readonly project: string;
  readonly environment: string;
  readonly namespace: string;
  readonly prune: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  /**
   * Apply only objects whose desired content changed since the last inventory (a push), and wait
   * for the rollout of those workloads only; false applies and waits for everything (a resync),
   * which is also what undoes drift made by hand.
   */
  readonly onlyChanged?: boolean;
}

/**
 * Applies an environment's objects, waits for its workloads, and only then prunes by inventory:
 * what the last successful deploy applied and this one no longer renders, of any kind (volumes
 * and namespaces never). A rollout that fails leaves everything that served before in place.
 * Tasks that must run before the rollout (`splitPreRollout`) are applied and awaited first.
 */
export async function deployEnvironment(config: k8s.KubeConfig, objects: readonly KubeObject[], options: DeployOptions): Promise<DeployResult> {
  const previous = await readInventory(config, options.namespace);
  const recorded = new Map(previous.map((entry) => [inventoryKey(entry), entry.hash]));
  // Each object hashed once: at 1000 services that is 4000 serializations, and they were done three times.
  const entries = new Map(objects.map((object) => [object, entryOf(object)] as const));
  const unchangedSinceLast = (object: KubeObject) => {
    const entry = entries.get(object)!;
    return recorded.get(inventoryKey(entry)) === entry.hash;
  };
  const changed = options.onlyChanged === true ? objects.filter((object) => !unchangedSinceLast(object)) : objects;
  const toApply = new Set(changed);
  const skipped = objects.filter((object) => !toApply.has(object)).map((object) => ({ object: describeObject(object), outcome: 'unchanged' as const }));
  // One-shot tasks (migrations) run to completion first; if one fails, nothing else is applied.
  const { before, tasks, rest } = splitPreRollout(changed);
  const early = tasks.length > 0 ? await applyObjects(config, [...before, ...tasks]) : [];
  if (tasks.length > 0) {
    const failed = await waitForTasks(config, tasks, { timeoutMs: options.timeoutMs });
    if (failed.length > 0) {
      // What was applied stays recorded, so that a later deploy, a move or a teardown removes it.
      const inventory = inventoryUnion(previous, [...before, ...tasks].map((object) => entries.get(object)!));
      await applyObjects(config, [inventoryConfigMap(options.namespace, inventory)]);
      return { applied: early, pruned: [], failures: failed, drifted: [], inventory };
    }
  }
  const applied = [...early, ...(await applyObjects(config, tasks.length > 0 ? rest : changed)), ...skipped];
  const configured = new Set(applied.filter((item) => item.outcome === 'configured').map((item) => item.object));
  const drifted = objects.filter((object) => configured.has(describeObject(object)) && unchangedSinceLast(object)).map(describeObject);
  const next = sortInventory([...entries.values()]);
  // When every recorded object is still rendered, nothing is pruned and the inventory is `next`
  // whatever the rollout's outcome: it is written while the rollout runs, not after it (at 1000
  // services that is 4000 entries to serialize and send, off the push's critical path).
  const rendered = new Set(next.map(inventoryKey));
  const writtenEarly = previous.every((entry) => rendered.has(inventoryKey(entry)))
    ? applyObjects(config, [inventoryConfigMap(options.namespace, next)]).then(() => undefined, (error: unknown) => ({ error }))
    : undefined;
  const waited = options.wait ? await waitForRollout(config, changed, { timeoutMs: options.timeoutMs }).catch(async (error: unknown) => {
    await writtenEarly;
    throw error;
  }) : [];
  const failures = await Promise.all(waited.map((failure) => restoreIfNothingServes(config, objects, failure, options.timeoutMs)));
  const pruneNow = options.prune && failures.length === 0;
  const pruned = pruneNow ? await pruneInventory(config, previous, next) : [];
  // Objects not pruned stay in the inventory, so a later deploy still prunes them.
  const inventory = pruneNow ? next : inventoryUnion(previous, next);
  if (writtenEarly === undefined) await applyObjects(config, [inventoryConfigMap(options.namespace, inventory)]);
  else {
    const written = await writtenEarly;
    if (written !== undefined) throw written.error;
  }
  return { applied, pruned, failures, drifted, inventory };
}

/**
 * A failed `Recreate` Deployment, DaemonSet or StatefulSet has no old pods left (or a broken one
 * that nothing repairs): put its previous revision back and wait for it, saying so in the
 * failure's reason.
 */
async function restoreIfNothingServes(config: k8s.KubeConfig, objects: readonly KubeObject[], failure: RolloutFailure, timeoutMs: number): Promise<RolloutFailure> {
  const object = objects.find((candidate) => describeObject(candidate) === failure.object);
  if (object === undefined || !keepsNoOldPods(object)) return failure;
  const why = whyRestored(object.kind);
  const revision = await restorePreviousRevision(config, object);
  if (revision === undefined) return { ...failure, reason: `${failure.reason}; ${why}, and there is no previous revision to restore` };
  const again = await waitForRollout(config, [object], { timeoutMs });
  const outcome = again.length === 0 ? 'which runs again' : `which did not become ready either: ${again[0]?.reason ?? ''}`;
  return { ...failure, reason: `${failure.reason}; ${why}, so diploid restored revision ${revision}, ${outcome}` };
}
