import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { splitPreRollout } from '../backends/kubernetes/tasks.js';
import { applyObjects, type AppliedObject } from './apply.js';
import { pruneObjects } from './prune.js';
import { waitForRollout, type RolloutFailure } from './rollout.js';
import { waitForTasks } from './tasks.js';

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
 * longer rendered: a rollout that fails leaves everything that served before in place. Tasks
 * that must run before the rollout (`splitPreRollout`) are applied and awaited first.
 */
export async function deployEnvironment(config: k8s.KubeConfig, objects: readonly KubeObject[], options: DeployOptions): Promise<DeployResult> {
  // One-shot tasks (migrations) run to completion first; if one fails, nothing else is applied.
  const { before, tasks, rest } = splitPreRollout(objects);
  const early = tasks.length > 0 ? await applyObjects(config, [...before, ...tasks]) : [];
  if (tasks.length > 0) {
    const failed = await waitForTasks(config, tasks, { timeoutMs: options.timeoutMs });
    if (failed.length > 0) return { applied: early, pruned: [], failures: failed };
  }
  const applied = [...early, ...(await applyObjects(config, rest))];
  const failures = options.wait ? await waitForRollout(config, objects, { timeoutMs: options.timeoutMs }) : [];
  const pruned = options.prune && failures.length === 0 ? await pruneObjects(config, { namespace: options.namespace, project: options.project, environment: options.environment, keep: objects }) : [];
  return { applied, pruned, failures };
}
