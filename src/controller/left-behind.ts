/**
 * An environment moved to another cluster (`environments.<name>.cluster` changed or removed):
 * it is deployed to the new cluster first, and only once it is Ready there is its copy in the old
 * one removed. Argo CD and Flux leave that copy running and forget it (argo-cd#1640, #9172,
 * flux2#5003); diploid records it in the status (`leftBehind`) from the moment the move is
 * deployed, removes it by its inventory, and keeps the record, saying why, for as long as the
 * old cluster cannot be reached (its Secret gone, the cluster down): every later reconcile of the
 * environment, and every resync, tries again.
 */
import type * as k8s from '@kubernetes/client-node';
import type { ClusterConnections } from '../cluster/clusters.js';
import { readInventory } from '../cluster/inventory.js';
import { removeLeftBehind, type LeftBehindRemoval } from '../cluster/left-behind.js';
import { secretsInventoryName } from '../cluster/secrets-sync.js';
import type { ResolvedCluster } from '../resolve/model.js';
import { RetryableError } from '../errors.js';
import { classifyError } from './errors.js';
import { condition, conditionsFor, type EnvironmentStatus, type LeftBehind } from './status.js';
import type { StatusStore } from './status-store.js';

/** Removes one left-behind copy of `environment` (see `removeLeftBehind`). */
export type LeftBehindCleaner = (environment: string, entry: LeftBehind) => Promise<LeftBehindRemoval>;

/**
 * Removes copies with the kubeconfig of their cluster's Secret (read at each attempt, so a
 * Secret put back is used at once); the Secrets to remove are those the home cluster's secrets
 * inventory names in that namespace.
 */
export function kubeLeftBehindCleaner(home: k8s.KubeConfig, controllerNamespace: string, clusters: ClusterConnections): LeftBehindCleaner {
  return async (environment, entry) => {
    const config = await clusters.config(entry.cluster);
    const secrets = (await readInventory(home, controllerNamespace, secretsInventoryName(environment))).filter((item) => item.namespace === entry.namespace && item.kind === 'Secret').map((item) => item.name);
    return removeLeftBehind(config, entry.namespace, secrets);
  };
}

/** Whether two places are the same cluster (absent: the controller's own). Pure. */
export function sameCluster(a: ResolvedCluster | undefined, b: ResolvedCluster | undefined): boolean {
  return a?.name === b?.name;
}

/** A cluster as messages name it. Pure. */
export function clusterLabel(cluster: ResolvedCluster | undefined): string {
  return cluster === undefined ? "the controller's own cluster" : `cluster ${cluster.name}`;
}

/**
 * What the environment will have left behind once it runs in `target`: what it had left before,
 * plus the place it ran in until now when that is another cluster, minus the place it goes to
 * (moving back onto a copy takes it over: its own inventory prunes what the new revision lacks). Pure.
 */
export function pendingLeftBehind(previous: EnvironmentStatus | undefined, target: { readonly cluster?: ResolvedCluster; readonly namespace: string }, now: string): LeftBehind[] {
  const pending = [...(previous?.leftBehind ?? [])];
  const ran = previous !== undefined && previous.appliedRevision !== undefined && previous.namespace !== '';
  if (ran && !sameCluster(previous.cluster, target.cluster) && !pending.some((entry) => sameCluster(entry.cluster, previous.cluster) && entry.namespace === previous.namespace)) {
    pending.push({ ...(previous.cluster === undefined ? {} : { cluster: previous.cluster }), namespace: previous.namespace, since: now });
  }
  return pending.filter((entry) => !(sameCluster(entry.cluster, target.cluster) && entry.namespace === target.namespace));
}

/** One left-behind copy, for people. Pure. */
export function describeLeftBehind(entry: LeftBehind): string {
  const why = entry.message === undefined ? 'not removed yet' : `${entry.reason ?? 'NotRemoved'}: ${entry.message}`;
  return `namespace ${entry.namespace} in ${clusterLabel(entry.cluster)} (since ${entry.since}): ${why}`;
}

/** The outcome of one attempt at a copy: gone (undefined), or the entry saying why it stays. Pure. */
export function afterAttempt(entry: LeftBehind, result: { readonly removal: LeftBehindRemoval } | { readonly error: unknown }): LeftBehind | undefined {
  if ('removal' in result) {
    if (result.removal.namespace !== 'kept') return undefined;
    return { ...entry, reason: 'VolumesKept', message: `its objects were removed, but it holds volumes (${result.removal.volumes.join(', ')}) and diploid never deletes data: delete them, then the namespace goes at the next reconcile` };
  }
  const classified = classifyError(result.error);
  const reason = classified.reason ?? (classified.retryable ? 'ClusterUnreachable' : 'RemovalFailed');
  return { ...entry, reason, message: `${classified.message}; tried again at every reconcile and resync` };
}

/**
 * The status after an attempt at every left-behind copy: the copies still there, and a Ready
 * condition that names them (`LeftBehind`), or says what was removed. Only a Ready environment
 * is touched. Pure.
 */
export function settledStatus(status: EnvironmentStatus, remaining: readonly LeftBehind[], removed: readonly string[], now: string): EnvironmentStatus {
  const ready = condition(status, 'Ready');
  const { leftBehind: _before, ...rest } = status;
  const where = `revision ${status.appliedRevision ?? '?'} runs in namespace ${status.namespace} of ${clusterLabel(status.cluster)}`;
  if (remaining.length > 0) {
    const message = `${where}; left behind: ${remaining.map(describeLeftBehind).join('; ')}`;
    return { ...rest, leftBehind: remaining, conditions: conditionsFor('ready', 'LeftBehind', message, now, status.conditions) };
  }
  // Nothing was left: the condition says what the move removed, keeping the deploy's reason unless it was ours.
  const reason = ready?.reason === 'LeftBehind' || ready === undefined ? 'Succeeded' : ready.reason;
  const message = ready?.reason === 'LeftBehind' || ready === undefined ? `${where}; moved: ${removed.join('; ')}` : `${ready.message}; moved: ${removed.join('; ')}`;
  return { ...rest, conditions: conditionsFor('ready', reason, message, now, status.conditions) };
}

/**
 * Tries to remove every copy the environment left behind, once it is Ready where it is now, and
 * writes what stays into its status. Returns a line for the log, or undefined when there was
 * nothing to do.
 */
export async function settleLeftBehind(store: StatusStore, clean: LeftBehindCleaner, environment: string, now: string, deadlineMs = 60_000): Promise<string | undefined> {
  const status = await store.get(environment);
  if (status?.leftBehind === undefined || status.leftBehind.length === 0) return undefined;
  // Removing the old copy before the new one serves would leave nothing serving.
  if (condition(status, 'Ready')?.status !== 'True') return undefined;
  const remaining: LeftBehind[] = [];
  const removed: string[] = [];
  for (const entry of status.leftBehind) {
    const result = await withDeadline(clean(environment, entry), deadlineMs, `${clusterLabel(entry.cluster)} did not answer within ${Math.round(deadlineMs / 1000)}s`).then((removal) => ({ removal }), (error: unknown) => ({ error }));
    const stays = afterAttempt(entry, result);
    if (stays !== undefined) remaining.push(stays);
    if ('removal' in result) removed.push(`${result.removal.removed.length} objects removed from namespace ${entry.namespace} of ${clusterLabel(entry.cluster)}, namespace ${result.removal.namespace}`);
  }
  await store.put(settledStatus(status, remaining, removed, now));
  return remaining.length === 0 ? `moved: ${removed.join('; ')}` : `left behind: ${remaining.map(describeLeftBehind).join('; ')}`;
}

/** A cluster that does not answer (packets dropped) is given up on for this time, not waited for: the worker has other environments. */
class NoAnswerError extends RetryableError {
  override readonly name = 'NoAnswerError';
  override readonly reason = 'ClusterUnreachable';
}

/** `work`, or a `ClusterUnreachable` failure after `ms`, whichever comes first. */
export async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
