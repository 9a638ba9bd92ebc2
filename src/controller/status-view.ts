import { durationMs } from '../plan/targets.js';
import type { DeployRecord, Pin } from './history.js';
import { condition, type Condition, type EnvironmentStatus } from './status.js';

/**
 * What `diploid status` and the web UI show of an environment: its status, flattened for
 * reading, with the preview's time left. Pure (the clock is passed in). Never holds a secret:
 * statuses carry names, commits, revisions and image references only.
 */
export interface EnvironmentView {
  readonly environment: string;
  readonly namespace: string;
  /** The cluster it is deployed to, when not the controller's own. */
  readonly cluster?: string;
  readonly branch?: string;
  /** The repo and commit reconciled last. */
  readonly repo?: string;
  readonly commit?: string;
  readonly commits: Readonly<Record<string, string>>;
  readonly revision?: string;
  readonly images: Readonly<Record<string, string>>;
  /** Ready's status and reason: the one-word answer. */
  readonly ready: Condition['status'];
  readonly reason: string;
  readonly message: string;
  readonly conditions: readonly Condition[];
  /** ISO time of the last successful deploy, when one is recorded. */
  readonly deployedAt?: string;
  readonly preview?: {
    readonly mode: 'full' | 'single';
    readonly base: string;
    readonly ttl?: string;
    /** When the preview is torn down unless a push comes first. */
    readonly expiresAt?: string;
    /** Milliseconds left before `expiresAt`; 0 once it passed. */
    readonly remainingMs?: number;
    readonly expiredAt?: string;
  };
  readonly pin?: Pin;
  readonly drift: readonly string[];
  /** Copies in clusters it moved away from, not removed yet: `cluster/namespace` (`home` for the controller's own). */
  readonly leftBehind: readonly string[];
  readonly history: readonly DeployRecord[];
}

/** One environment's view at `now`. Pure. */
/** `pin` is the operator's pin as stored (it shows at once, before the controller acts), not the status' copy, which lags. */
export function environmentView(status: EnvironmentStatus, now: Date, pin: Pin | undefined): EnvironmentView {
  const ready = condition(status, 'Ready');
  const history = status.history ?? [];
  return {
    environment: status.environment,
    namespace: status.namespace,
    ...(status.cluster === undefined ? {} : { cluster: status.cluster.name }),
    ...(status.branch === undefined ? {} : { branch: status.branch }),
    ...(status.repo === undefined ? {} : { repo: status.repo }),
    ...(status.commit === undefined ? {} : { commit: status.commit }),
    commits: status.commits ?? {},
    ...(status.appliedRevision === undefined ? {} : { revision: status.appliedRevision }),
    images: status.images ?? {},
    ready: ready?.status ?? 'Unknown',
    reason: ready?.reason ?? '',
    message: ready?.message ?? '',
    conditions: status.conditions,
    ...(history[0] === undefined ? {} : { deployedAt: history[0].deployedAt }),
    ...(status.preview === undefined ? {} : { preview: previewView(status, now) }),
    ...(pin === undefined ? {} : { pin }),
    drift: status.drift ?? [],
    leftBehind: (status.leftBehind ?? []).map((entry) => `${entry.cluster?.name ?? 'home'}/${entry.namespace}`),
    history,
  };
}

function previewView(status: EnvironmentStatus, now: Date): NonNullable<EnvironmentView['preview']> {
  const preview = status.preview!;
  const ttl = preview.ttl === undefined ? Number.POSITIVE_INFINITY : durationMs(preview.ttl);
  const base = { mode: preview.mode, base: preview.base, ...(preview.ttl === undefined ? {} : { ttl: preview.ttl }), ...(status.expiredAt === undefined ? {} : { expiredAt: status.expiredAt }) };
  if (!Number.isFinite(ttl)) return base;
  // The planner expires a preview `ttl` after its last push (`updatedAt`): the same rule here.
  const expires = Date.parse(status.updatedAt) + ttl;
  return { ...base, expiresAt: new Date(expires).toISOString(), remainingMs: Math.max(0, expires - now.getTime()) };
}

/** `3h 12m`, `42m`, `15s`: a duration for people. Pure. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m`;
  return `${seconds}s`;
}

/** A short note for the list: pinned, preview time left, expired. Pure. */
export function viewNote(view: EnvironmentView): string {
  const notes: string[] = [];
  if (view.cluster !== undefined) notes.push(`cluster ${view.cluster}`);
  if (view.pin !== undefined) notes.push(`pinned (${view.pin.reason}${view.pin.from === undefined ? '' : ` from ${view.pin.from}`})`);
  if (view.preview?.expiredAt !== undefined) notes.push(`preview expired at ${view.preview.expiredAt}`);
  else if (view.preview?.remainingMs !== undefined) notes.push(`preview, ${humanDuration(view.preview.remainingMs)} left (ttl ${view.preview.ttl})`);
  else if (view.preview !== undefined) notes.push('preview, no ttl');
  if (view.drift.length > 0) notes.push(`drift reverted: ${view.drift.length}`);
  if (view.leftBehind.length > 0) notes.push(`left behind: ${view.leftBehind.join(', ')}`);
  return notes.join('; ');
}

/** Pads columns of text for a terminal. Pure. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}
