import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { describeObject } from './apply.js';
import type { RolloutFailure } from './rollout.js';

interface JobStatus {
  status?: { succeeded?: number; failed?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

export type TaskState = { readonly done: true } | { readonly done: false; readonly failed: boolean; readonly reason: string };

/** Reads a Job's status: complete, failed for good (with why), or still running. Pure. */
export function taskState(job: JobStatus): TaskState {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((condition) => (condition.type === 'Complete' || condition.type === 'SuccessCriteriaMet') && condition.status === 'True')) return { done: true };
  const failed = conditions.find((condition) => (condition.type === 'Failed' || condition.type === 'FailureTarget') && condition.status === 'True');
  if (failed !== undefined) return { done: false, failed: true, reason: `the task failed (${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''})` };
  return { done: false, failed: false, reason: `running (${job.status?.failed ?? 0} failed attempt(s) so far)` };
}

/**
 * Waits until every pre-rollout task has completed. A failed task, or one still running at the
 * deadline, is a failure: the caller then applies nothing else, so the previous version serves.
 */
export async function waitForTasks(config: k8s.KubeConfig, tasks: readonly KubeObject[], options: { timeoutMs: number; pollMs?: number }): Promise<RolloutFailure[]> {
  const client = k8s.KubernetesObjectApi.makeApiClient(config);
  const deadline = Date.now() + options.timeoutMs;
  let pending = [...tasks];
  while (pending.length > 0) {
    const next: Array<{ object: KubeObject; reason: string }> = [];
    for (const object of pending) {
      const current = (await client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, namespace: object.metadata.namespace ?? 'default' } })) as JobStatus;
      const state = taskState(current);
      if (state.done) continue;
      if (state.failed) return [{ object: describeObject(object), reason: state.reason }];
      next.push({ object, reason: state.reason });
    }
    if (next.length === 0) return [];
    if (Date.now() > deadline) return next.map(({ object, reason }) => ({ object: describeObject(object), reason: `not complete after ${Math.round(options.timeoutMs / 1000)}s: ${reason}` }));
    pending = next.map(({ object }) => object);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
  return [];
}
