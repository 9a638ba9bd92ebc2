import type { HostEvent } from './event.js';
import type { BranchHead } from './types.js';

/** Branch -> head commit, for one repo. */
export type HeadMap = ReadonlyMap<string, string>;

/** What changed between what we believed and what the host says: the deliveries we missed. */
export interface HeadChange {
  readonly branch: string;
  /** Undefined for a branch we did not know. */
  readonly before?: string;
  /** Undefined for a branch that is gone. */
  readonly after?: string;
}

/**
 * Folds one webhook event into the known heads. Webhooks are hints: an event may arrive late,
 * twice or never, so this only records what it says, and `diffHeads` against the host's listing
 * is what makes the picture right.
 */
export function applyEvent(heads: HeadMap, event: HostEvent): Map<string, string> {
  const next = new Map(heads);
  if (event.kind === 'push') next.set(event.branch, event.after);
  else if (event.kind === 'branch-deleted') next.delete(event.branch);
  return next;
}

/** The changes that turn `known` into `listed` (the host's truth), sorted by branch. */
export function diffHeads(known: HeadMap, listed: readonly BranchHead[]): HeadChange[] {
  const changes: HeadChange[] = [];
  const seen = new Set<string>();
  for (const { branch, sha } of listed) {
    seen.add(branch);
    const before = known.get(branch);
    if (before !== sha) changes.push(before === undefined ? { branch, after: sha } : { branch, before, after: sha });
  }
  for (const [branch, before] of known) if (!seen.has(branch)) changes.push({ branch, before });
  return changes.sort((a, b) => (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0));
}

export function headsOf(listed: readonly BranchHead[]): Map<string, string> {
  return new Map(listed.map(({ branch, sha }) => [branch, sha]));
}
