import { createHash } from 'node:crypto';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import type { CurrentEnvironment } from '../plan/types.js';
import type { ResolvedCluster } from '../resolve/model.js';
import type { DeployRecord, Pin } from './history.js';
import { compactHistory, expandHistory, type StoredDeployRecord } from './history-images.js';

/**
 * What an environment that moved to another cluster left in the one it came from. Recorded when
 * the move is deployed, removed once the old cluster's objects and namespace are gone.
 */
export interface LeftBehind {
  /** The cluster it was in; absent for the controller's own. */
  readonly cluster?: ResolvedCluster;
  readonly namespace: string;
  /** ISO time the move was deployed. */
  readonly since: string;
  /** Why it is still there, after the last attempt (`ClusterSecretMissing`, `Unreachable`, `VolumesKept`...). */
  readonly reason?: string;
  readonly message?: string;
}

/** The condition types every environment carries, as Flux's controllers use them. */
export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled';

/** One condition, in the shape of Kubernetes' `metav1.Condition`. */
export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  /** CamelCase, for machines: `Succeeded`, `Building`, `BuildFailed`, `ConfigInvalid`... */
  readonly reason: string;
  /** For people. */
  readonly message: string;
  /** ISO time the status last changed. */
  readonly lastTransitionTime: string;
}

/** Where a reconcile of one environment stands. */
export type Phase =
  /** Work in progress (building, applying). */
  | 'progressing'
  /** Failed in a way that may pass; it is tried again with backoff. */
  | 'retrying'
  /** Failed for this commit; nothing happens until a new commit arrives. */
  | 'stalled'
  /** Everything the commit asks for runs. */
  | 'ready';

/** Everything the controller remembers about one environment; kept in a ConfigMap, so a restart loses nothing. */
export interface EnvironmentStatus {
  readonly environment: string;
  readonly namespace: string;
  /** The cluster the environment is deployed to, when not the controller's own (`environments.<name>.cluster`). */
  readonly cluster?: ResolvedCluster;
  readonly branch?: string;
  readonly preview?: { readonly mode: 'full' | 'single'; readonly base: string; readonly ttl?: string };
  /** The commit whose push was reconciled last, and its repo. */
  readonly repo?: string;
  readonly commit?: string;
  /** Every repo's commit the last successful deploy read, by repo name (`ops` included). */
  readonly commits?: Readonly<Record<string, string>>;
  /** Hash of the objects last deployed successfully: the same revision again is skipped. */
  readonly appliedRevision?: string;
  /** Hash of the objects the last attempt wanted. */
  readonly attemptedRevision?: string;
  // The objects a deploy put in the cluster are in the namespace's diploid-inventory ConfigMap,
  // not here: with them, the status of 1000 services passed a ConfigMap's 1 MiB after 3 pushes.
  /** Image references deployed, by service. */
  readonly images?: Readonly<Record<string, string>>;
  /** Objects found edited in the cluster (and put back) by the last resync, as `Kind namespace/name`. */
  readonly drift?: readonly string[];
  /** Set when a preview's `ttl` passed and it was torn down: a resync leaves it down, a new push brings it back. */
  readonly expiredAt?: string;
  /** The last deployed revisions, newest first (see `history.ts`): what `diploid rollback` can go back to. */
  readonly history?: readonly DeployRecord[];
  /** Held at recorded commits by a rollback or promotion, until the next push or `diploid unpin`. */
  readonly pin?: Pin;
  /** Copies in clusters it moved away from, not removed yet (see `left-behind.ts`): kept until they are gone. */
  readonly leftBehind?: readonly LeftBehind[];
  /** ISO time of the last push that changed it; previews expire `ttl` after it. */
  readonly updatedAt: string;
  readonly conditions: readonly Condition[];
}

/**
 * The three conditions for a phase. A condition keeps its `lastTransitionTime` while its status
 * stays the same, as Kubernetes conventions ask. Pure.
 */
export function conditionsFor(phase: Phase, reason: string, message: string, now: string, previous: readonly Condition[] = []): Condition[] {
  const table: Record<Phase, Record<ConditionType, Condition['status']>> = {
    progressing: { Ready: 'Unknown', Reconciling: 'True', Stalled: 'False' },
    retrying: { Ready: 'False', Reconciling: 'True', Stalled: 'False' },
    stalled: { Ready: 'False', Reconciling: 'False', Stalled: 'True' },
    ready: { Ready: 'True', Reconciling: 'False', Stalled: 'False' },
  };
  return (['Ready', 'Reconciling', 'Stalled'] as const).map((type) => {
    const status = table[phase][type];
    const before = previous.find((condition) => condition.type === type);
    const lastTransitionTime = before !== undefined && before.status === status ? before.lastTransitionTime : now;
    // A condition that is False carries the reason too, so `Stalled=False` says why it is not stalled.
    return { type, status, reason, message, lastTransitionTime };
  });
}

/** The condition of a type, if any. Pure. */
export function condition(status: Pick<EnvironmentStatus, 'conditions'> | undefined, type: ConditionType): Condition | undefined {
  return status?.conditions.find((item) => item.type === type);
}

/** The status ConfigMap's name: `diploid-status-<env>`, shortened with a hash past 63 characters. Pure. */
export function statusObjectName(environment: string): string {
  const name = `diploid-status-${environment}`;
  if (name.length <= 63) return name;
  return `${name.slice(0, 52).replace(/-+$/, '')}-${createHash('sha256').update(environment).digest('hex').slice(0, 10)}`;
}

/** Label every status ConfigMap carries, to list them. */
export const STATUS_LABEL = 'diploid.dev/status';
/** Key of the status inside the ConfigMap's data. */
export const STATUS_KEY = 'status.json';

/** The ConfigMap holding an environment's status. Pure. */
export function statusConfigMap(namespace: string, status: EnvironmentStatus): KubeObject {
  const ready = condition(status, 'Ready');
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: statusObjectName(status.environment),
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'diploid', 'app.kubernetes.io/component': 'status', [STATUS_LABEL]: 'true', 'diploid.dev/environment': status.environment },
      // Readable with `kubectl get configmap -L` / `-o custom-columns` without parsing JSON.
      annotations: { 'diploid.dev/ready': ready?.status ?? 'Unknown', 'diploid.dev/reason': ready?.reason ?? '' },
    },
    data: { [STATUS_KEY]: `${JSON.stringify(storedStatus(status), null, 2)}\n` },
  };
}

/** The status as its ConfigMap holds it: the history's images as changes (see `history-images.ts`). Pure. */
function storedStatus(status: EnvironmentStatus): Omit<EnvironmentStatus, 'history'> & { readonly history?: readonly StoredDeployRecord[] } {
  return status.history === undefined ? status : { ...status, history: compactHistory(status.images, status.history) };
}

/** Reads a status back from its ConfigMap's data; undefined when it is not one of ours. Pure. */
export function parseStatus(data: Readonly<Record<string, string>> | undefined): EnvironmentStatus | undefined {
  const text = data?.[STATUS_KEY];
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Omit<EnvironmentStatus, 'history'> & { readonly history?: unknown };
    if (typeof value.environment !== 'string' || typeof value.namespace !== 'string' || !Array.isArray(value.conditions)) return undefined;
    const { history, ...rest } = value;
    if (!Array.isArray(history)) return rest;
    const entries = history.filter((entry): entry is StoredDeployRecord => typeof entry === 'object' && entry !== null);
    // Spread over the value, so the history keeps its place among the keys. Expanded when first
    // read: listing the statuses (every push, to plan) reads no history, and at 1000 services
    // expanding it makes ten maps of 1000 images.
    const status: EnvironmentStatus = { ...value, history: [] };
    Object.defineProperty(status, 'history', {
      enumerable: true,
      configurable: true,
      get() {
        const expanded = expandHistory(rest.images, entries);
        Object.defineProperty(status, 'history', { value: expanded, enumerable: true, configurable: true, writable: true });
        return expanded;
      },
    });
    return status;
  } catch {
    return undefined;
  }
}

/** The environments that exist, as the planner wants them (from their statuses). Pure. */
export function currentEnvironments(statuses: readonly EnvironmentStatus[]): CurrentEnvironment[] {
  return statuses.map((status) => ({
      name: status.environment,
      namespace: status.namespace,
      ...(status.branch === undefined ? {} : { branch: status.branch }),
      ...(status.preview === undefined ? {} : { preview: status.preview }),
    updatedAt: status.updatedAt,
  }));
}
