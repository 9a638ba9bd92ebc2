import type { HostEvent } from '../hosts/event.js';
import { isZeroSha } from '../hosts/event.js';
import { matchBranch } from '../plan/branch-rules.js';
import type { ConfigSpec } from '../model/config.js';
import { OPS_REPO } from '../plan/types.js';
import type { ReconcileRequest } from './reconciler.js';
import type { EnvironmentStatus } from './status.js';

/**
 * What a webhook event asks the reconciler to do; undefined for events that change no
 * environment (tags, open merge requests: their pushes arrive on their own). Pure.
 */
export function requestFromEvent(event: HostEvent): ReconcileRequest | undefined {
  switch (event.kind) {
    case 'push':
      return { repo: event.repo, branch: event.branch, ...(isZeroSha(event.before) ? {} : { from: event.before }), ...(isZeroSha(event.after) ? {} : { to: event.after }) };
    case 'branch-deleted':
      return { repo: event.repo, branch: event.branch, ...(event.before === undefined || isZeroSha(event.before) ? {} : { from: event.before }) };
    case 'merge-request':
      return event.state === 'open' || event.fromFork ? undefined : { repo: event.repo, branch: event.branch, closed: true };
    case 'tag':
      return undefined;
  }
}

/** Every repo's branch heads, as resync read them from git. */
export interface RepoHeads {
  readonly repo: string;
  readonly defaultBranch: string;
  readonly heads: ReadonlyMap<string, string>;
}

/**
 * What a resync reconciles: every branch that a rule deploys (and every repo's default branch,
 * which feeds environments whose branch a repo lacks), as if just pushed; and a teardown for
 * each preview whose branch no repo has any more. Sorted: the ops repo first, then by repo and
 * branch. Pure.
 */
export function resyncRequests(config: Pick<ConfigSpec, 'branches'>, repos: readonly RepoHeads[], statuses: readonly EnvironmentStatus[]): ReconcileRequest[] {
  const rules = config.branches ?? [];
  const ordered = [...repos].sort((a, b) => (a.repo === OPS_REPO ? -1 : b.repo === OPS_REPO ? 1 : a.repo < b.repo ? -1 : 1));
  const requests: ReconcileRequest[] = [];
  for (const repo of ordered) {
    for (const [branch, sha] of [...repo.heads].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (branch !== repo.defaultBranch && matchBranch(rules, branch) === undefined) continue;
      requests.push({ repo: repo.repo, branch, to: sha, resync: true });
    }
  }
  for (const status of statuses) {
    if (status.preview === undefined || status.branch === undefined) continue;
    const branch = status.branch;
    if (repos.some((repo) => repo.heads.has(branch))) continue;
    requests.push({ repo: OPS_REPO, branch, closed: true, resync: true });
  }
  return requests;
}
