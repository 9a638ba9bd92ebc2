import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { applyObjects, describeObject, type AppliedObject } from './apply.js';
import { pruneObjects } from './prune.js';
import { keepsNoOldPods, restorePreviousRevision } from './rollback.js';
import { waitForRollout, type RolloutFailure } from './rollout.js';

export interface DeployResult {
  readonly applied: readonly AppliedObject[];
  readonly pruned: readonly string[];
  /**
   * Workloads whose new version did not become ready; their previous version keeps serving (a
   * `Recreate` Deployment, which keeps no old pods, is restored to its previous revision).
   */
  readonly failures: readonly RolloutFailure[];
}

export interface DeployOptions {
  readonly project: string;
  readonly environment: string;
  readonly namespace: string;
  readonly prune: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
}

/**
 * Applies an environment's objects, waits for its workloads, and only then prunes what is no
 * longer rendered: a rollout that fails leaves everything that served before in place.
 */
export async function deployEnvironment(config: k8s.KubeConfig, objects: readonly KubeObject[], options: DeployOptions): Promise<DeployResult> {
  const applied = await applyObjects(config, objects);
  const waited = options.wait ? await waitForRollout(config, objects, { timeoutMs: options.timeoutMs }) : [];
  const failures = await Promise.all(waited.map((failure) => restoreIfNothingServes(config, objects, failure, options.timeoutMs)));
  const pruned = options.prune && failures.length === 0 ? await pruneObjects(config, { namespace: options.namespace, project: options.project, environment: options.environment, keep: objects }) : [];
  return { applied, pruned, failures };
}

/**
 * A failed `Recreate` Deployment has no old pods left: put its previous revision back and wait
 * for it, saying so in the failure's reason.
 */
async function restoreIfNothingServes(config: k8s.KubeConfig, objects: readonly KubeObject[], failure: RolloutFailure, timeoutMs: number): Promise<RolloutFailure> {
  const object = objects.find((candidate) => describeObject(candidate) === failure.object);
  if (object === undefined || !keepsNoOldPods(object)) return failure;
  const revision = await restorePreviousRevision(config, object);
  if (revision === undefined) return { ...failure, reason: `${failure.reason}; a Recreate Deployment keeps no old pods, and there is no previous revision to restore` };
  const again = await waitForRollout(config, [object], { timeoutMs });
  const outcome = again.length === 0 ? 'which runs again' : `which did not become ready either: ${again[0]?.reason ?? ''}`;
  return { ...failure, reason: `${failure.reason}; a Recreate Deployment keeps no old pods, so diploid restored revision ${revision}, ${outcome}` };
}
