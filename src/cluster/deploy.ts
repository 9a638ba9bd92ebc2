import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { applyObjects, type AppliedObject } from './apply.js';
import { pruneObjects } from './prune.js';
import { waitForRollout, type RolloutFailure } from './rollout.js';

export interface DeployResult {
  readonly applied: readonly AppliedObject[];
  readonly pruned: readonly string[];
  /** Workloads whose new version did not become ready; their previous version keeps serving. */
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
  const failures = options.wait ? await waitForRollout(config, objects, { timeoutMs: options.timeoutMs }) : [];
  const pruned = options.prune && failures.length === 0 ? await pruneObjects(config, { namespace: options.namespace, project: options.project, environment: options.environment, keep: objects }) : [];
  return { applied, pruned, failures };
}
