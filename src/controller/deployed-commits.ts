import type { Push } from '../plan/types.js';
import type { StatusTarget } from './reporter.js';

/** Which commits a deploy brings, and which one the status names. */
export interface DeployedCommits {
  /** The commit the status names: the push's when it brings something new, else the first repo that moved. */
  readonly repo: string;
  readonly commit: string | undefined;
  /** Commits that get a commit status: every repo whose commit moved since the last deploy. */
  readonly targets: readonly StatusTarget[];
  /** Whether anything moved: a resync that finds a new commit counts as a push (it renews a preview's TTL). */
  readonly moved: boolean;
}

/**
 * Compares the commits a deploy uses (every repo the environment reads, by name) with those of
 * the last deploy. Whatever found the push (a webhook, or a resync that read the ops repo first),
 * the status and the commit statuses name the commits that were deployed, not the request's.
 * Without a record of the last deploy, the push's commit is the one named. Pure.
 */
export function deployedCommits(push: Push, commits: Readonly<Record<string, string>>, previous: Readonly<Record<string, string>> | undefined): DeployedCommits {
  const moved = Object.entries(commits)
    .filter(([repo, sha]) => previous?.[repo] !== sha)
    .sort(([a], [b]) => (a === push.repo ? -1 : b === push.repo ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const pushed = push.after === undefined ? [] : [{ repo: push.repo, sha: push.after }];
  if (previous === undefined) return { repo: push.repo, commit: push.after, targets: pushed, moved: true };
  // Nothing new (a resync re-applying what runs): no commit gets a status it already has.
  if (moved.length === 0) return { repo: push.repo, commit: push.after, targets: [], moved: false };
  const [first] = moved;
  return { repo: first![0], commit: first![1], targets: moved.map(([repo, sha]) => ({ repo, sha })), moved: true };
}
