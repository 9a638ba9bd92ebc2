import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { describeObject } from './apply.js';
import { objectClient } from './kube-client.js';

export type RolloutState = { readonly done: true } | { readonly done: false; readonly reason: string; readonly stalled: boolean };

interface WorkloadStatus {
  metadata?: { generation?: number };
  spec?: { replicas?: number; updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } } };
  status?: {
    currentRevision?: string;
    updateRevision?: string;
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

/** Reads a workload's status the way `kubectl rollout status` does. Pure. */
export function rolloutState(kind: string, workload: WorkloadStatus): RolloutState {
  const status = workload.status ?? {};
  if ((status.observedGeneration ?? 0) < (workload.metadata?.generation ?? 1)) return { done: false, reason: 'the controller has not seen the new version yet', stalled: false };
  if (kind === 'DaemonSet') {
    const desired = status.desiredNumberScheduled ?? 0;
    if ((status.updatedNumberScheduled ?? 0) < desired) return { done: false, reason: `${status.updatedNumberScheduled ?? 0} of ${desired} hosts updated`, stalled: false };
    if ((status.numberAvailable ?? 0) < desired) return { done: false, reason: `${status.numberAvailable ?? 0} of ${desired} hosts available`, stalled: false };
    return { done: true };
  }
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, reason: `the new version did not become ready in time: ${progressing.message ?? 'progress deadline exceeded'}`, stalled: true };
  }
  const desired = workload.spec?.replicas ?? 1;
  if (kind === 'StatefulSet') return statefulSetState(workload, desired);
  const updated = status.updatedReplicas ?? 0;
  if (updated < desired) return { done: false, reason: `${updated} of ${desired} replicas updated`, stalled: false };
  if ((status.replicas ?? 0) > updated) return { done: false, reason: `${(status.replicas ?? 0) - updated} old replicas are still terminating`, stalled: false };
  const available = status.availableReplicas ?? 0;
  if (available < desired) return { done: false, reason: `${available} of ${desired} replicas available`, stalled: false };
  return { done: true };
}

/**
 * A StatefulSet replaces its pods one by one, highest ordinal first, and has no progress deadline:
 * it is done when every pod (above the partition) runs the update revision and is ready, as
 * `kubectl rollout status` judges it.
 */
function statefulSetState(workload: WorkloadStatus, desired: number): RolloutState {
  const status = workload.status ?? {};
  const ready = status.readyReplicas ?? 0;
  if (ready < desired) return { done: false, reason: `${ready} of ${desired} replicas ready`, stalled: false };
  const strategy = workload.spec?.updateStrategy;
  if (strategy?.type === 'OnDelete') return { done: true };
  const partition = strategy?.rollingUpdate?.partition ?? 0;
  if (partition > 0) {
    const updated = status.updatedReplicas ?? 0;
    const expected = desired - partition;
    return updated < expected ? { done: false, reason: `${updated} of ${expected} replicas above the partition updated`, stalled: false } : { done: true };
  }
  if (status.updateRevision !== undefined && status.updateRevision !== status.currentRevision) {
    return { done: false, reason: `${status.updatedReplicas ?? 0} of ${desired} replicas updated to revision ${status.updateRevision}`, stalled: false };
  }
  return { done: true };
}

/** Workload reads in flight at once while waiting. */
const READ_CONCURRENCY = 16;
/**
 * Up to this many pending workloads (a push changes one or two), the wait watches each of them
 * and judges every change the API server sends as it comes; more (a resync) are read every 500 ms.
 */
const FEW_WORKLOADS = 20;
/** How soon a few workloads are read again when no watch follows them. */
const REREAD_MS = 100;
/** The resource path segment of each workload kind (all in `apps/v1`). */
const PLURALS: Readonly<Record<string, string>> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

export interface RolloutFailure {
  readonly object: string;
  readonly reason: string;
}

interface Read {
  readonly object: KubeObject;
  readonly state: RolloutState;
  readonly resourceVersion: string | undefined;
}

/**
 * Waits until every workload runs its new version. Kubernetes keeps the old pods serving while
 * new ones fail, so a failed rollout leaves the previous version running; this reports why.
 */
export async function waitForRollout(config: k8s.KubeConfig, objects: readonly KubeObject[], options: { timeoutMs: number; pollMs?: number }): Promise<RolloutFailure[]> {
  const client = objectClient(config);
  const workloads = objects.filter((object) => Object.hasOwn(PLURALS, object.kind));
  const deadline = Date.now() + options.timeoutMs;
  let pending = workloads;
  let reasons = new Map<KubeObject, string>();
  // A role without the watch right (a controller installed before it was granted): read instead.
  let watchRefused = false;
  while (pending.length > 0) {
    reasons = new Map();
    // Read side by side, a few at a time: one by one, a pass over 1000 workloads took seconds.
    const reads: Read[] = [];
    for (let start = 0; start < pending.length; start += READ_CONCURRENCY) {
      const batch = pending.slice(start, start + READ_CONCURRENCY);
      reads.push(...(await Promise.all(batch.map(async (object) => {
        const live = (await client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, namespace: object.metadata.namespace ?? 'default' } })) as WorkloadStatus & { metadata?: { resourceVersion?: string } };
        return { object, state: rolloutState(object.kind, live), resourceVersion: live.metadata?.resourceVersion };
      }))));
    }
    const waiting: Read[] = [];
    for (const read of reads) {
      if (read.state.done) continue;
      if (read.state.stalled) return [{ object: describeObject(read.object), reason: read.state.reason }];
      waiting.push(read);
      reasons.set(read.object, read.state.reason);
    }
    pending = waiting.map((read) => read.object);
    if (pending.length === 0) break;
    if (Date.now() > deadline) {
      const core = config.makeApiClient(k8s.CoreV1Api);
      return Promise.all(
        pending.map(async (object) => {
          const why = await podTrouble(core, object);
          return { object: describeObject(object), reason: `not ready after ${Math.round(options.timeoutMs / 1000)}s: ${reasons.get(object) ?? ''}${why === undefined ? '' : `; ${why}`}` };
        }),
      );
    }
    if (options.pollMs === undefined && pending.length <= FEW_WORKLOADS && !watchRefused) {
      const watched = await watchUntilDone(config, waiting, deadline);
      if (watched.stalled !== undefined) return [watched.stalled];
      if (watched.done) break;
      watchRefused = watched.refused;
      // The watch ended or could not start (the server closes watches now and then): read again.
      if (!watched.started) await new Promise((resolve) => setTimeout(resolve, REREAD_MS));
      continue;
    }
    if (watchRefused && pending.length <= FEW_WORKLOADS) {
      await new Promise((resolve) => setTimeout(resolve, REREAD_MS));
      continue;
    }
    // A resync waiting for many workloads polls.
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
  return [];
}

interface WatchOutcome {
  readonly done: boolean;
  /** False when a watch failed rather than ended. */
  readonly started: boolean;
  /** The API server refused the watch itself (the role lacks the right): trying again is no use. */
  readonly refused: boolean;
  readonly stalled?: RolloutFailure;
}

/** client-node's Watch reports a refused request as an Error carrying the response's status. */
function isRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null | undefined)?.statusCode;
  return status === 401 || status === 403;
}

/**
 * Watches each workload from the version just read, so no change between the read and the watch
 * is missed, and judges the object every event carries: the wait ends as soon as the API server
 * says the last one is done, with no read after it. Ends early (done false) when a watch ends or
 * fails, or at the deadline; the caller then reads again.
 */
async function watchUntilDone(config: k8s.KubeConfig, waiting: readonly Read[], deadline: number): Promise<WatchOutcome> {
  const watch = new k8s.Watch(config);
  const open = new Set(waiting.map((read) => read.object));
  const aborts: AbortController[] = [];
  let settle: (result: WatchOutcome) => void = () => undefined;
  let settled = false;
  let started = true;
  let refused = false;
  const result = new Promise<WatchOutcome>((resolve) => {
    settle = (value) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
  });
  const timer = setTimeout(() => settle({ done: false, started, refused }), Math.max(0, deadline - Date.now()));
  try {
    await Promise.all(waiting.map(async ({ object, resourceVersion }) => {
      const namespace = object.metadata.namespace ?? 'default';
      const path = `/apis/${object.apiVersion}/namespaces/${encodeURIComponent(namespace)}/${PLURALS[object.kind]}`;
      const query = { fieldSelector: `metadata.name=${object.metadata.name}`, allowWatchBookmarks: false, ...(resourceVersion === undefined ? {} : { resourceVersion }) };
      const abort = await watch.watch(path, query, (type: string, live: WorkloadStatus) => {
        if (type !== 'ADDED' && type !== 'MODIFIED') return;
        const state = rolloutState(object.kind, live);
        if (state.done) {
          open.delete(object);
          if (open.size === 0) settle({ done: true, started, refused });
        } else if (state.stalled) {
          settle({ done: false, started, refused, stalled: { object: describeObject(object), reason: state.reason } });
        }
      }, (error: unknown) => {
        if (error !== null && error !== undefined) started = false;
        if (isRefusal(error)) refused = true;
        settle({ done: false, started, refused });
      });
      aborts.push(abort);
      if (settled) abort.abort();
    }));
    return await result;
  } finally {
    clearTimeout(timer);
    settled = true;
    for (const abort of aborts) abort.abort();
  }
}

/** The first reason a workload's pods give for not running: unschedulable, failing, waiting. */
async function podTrouble(core: k8s.CoreV1Api, object: KubeObject): Promise<string | undefined> {
  const selector = (object.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels;
  if (selector === undefined || object.metadata.namespace === undefined) return undefined;
  const labelSelector = Object.entries(selector).map(([key, value]) => `${key}=${value}`).join(',');
  const pods = await core.listNamespacedPod({ namespace: object.metadata.namespace, labelSelector }).catch(() => undefined);
  for (const pod of pods?.items ?? []) {
    const unscheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False');
    if (unscheduled) return `pod ${pod.metadata?.name}: ${unscheduled.reason ?? 'not scheduled'}: ${unscheduled.message ?? ''}`.trim();
    for (const container of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = container.state?.waiting;
      if (waiting?.reason !== undefined) return `pod ${pod.metadata?.name}: container ${container.name} ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    }
  }
  // Running but never ready: the kubelet's last probe failure says why.
  for (const pod of pods?.items ?? []) {
    const unready = pod.status?.containerStatuses?.find((container) => container.state?.running !== undefined && !container.ready);
    if (unready === undefined || pod.metadata?.name === undefined) continue;
    const events = await core.listNamespacedEvent({ namespace: object.metadata.namespace, fieldSelector: `involvedObject.name=${pod.metadata.name},reason=Unhealthy` }).catch(() => undefined);
    const last = [...(events?.items ?? [])].sort((a, b) => eventTime(a) - eventTime(b)).at(-1);
    return `pod ${pod.metadata.name}: container ${unready.name} runs but is not ready${last?.message ? `: ${last.message.trim()}` : ''}`;
  }
  return undefined;
}

function eventTime(event: k8s.CoreV1Event): number {
  const when = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp;
  return when === undefined ? 0 : new Date(when).getTime();
}
