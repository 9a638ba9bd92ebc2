/** The all-zero object id git hosts send for "no commit": the before of a new ref, the after of a deleted one. */
export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** Which host family sent an event or serves an API. */
export type HostProvider = 'gitlab' | 'github';

/** Where an event came from: names from the ops config, plus what the host called the repository. */
export interface EventSource {
  /** Name of the entry of `git.hosts` the webhook was registered for. */
  readonly host: string;
  /** Name of the entry of `repos` (the ops config's name, not the host's). */
  readonly repo: string;
  readonly provider: HostProvider;
  /** `group/project` as the payload names it; differs from the config after a rename on the host. */
  readonly repoPath: string;
  /**
   * Identifies this delivery; a redelivery of the same event carries the same id, which is what
   * the queue deduplicates on. GitHub: `X-GitHub-Delivery`; GitLab: `Idempotency-Key`, else a hash
   * of the body (retries resend the same bytes).
   */
  readonly deliveryId: string;
}

/** A commit pushed to a branch (also a branch's creation: `created`, with `before` all zeros). */
export interface PushEvent extends EventSource {
  readonly kind: 'push';
  readonly branch: string;
  readonly before: string;
  readonly after: string;
  readonly created: boolean;
}

/** A branch removed from the host; previews built from it can go. */
export interface BranchDeletedEvent extends EventSource {
  readonly kind: 'branch-deleted';
  readonly branch: string;
  /** The head the branch had, when the host says (GitHub's `delete` event does not). */
  readonly before?: string;
}

/** A tag created, moved or deleted. */
export interface TagEvent extends EventSource {
  readonly kind: 'tag';
  readonly tag: string;
  readonly before: string;
  readonly after: string;
  readonly deleted: boolean;
}

/** The state of a merge request (GitLab) or pull request (GitHub), in one vocabulary. */
export type MergeRequestState = 'open' | 'closed' | 'merged';

/** A merge/pull request opened, updated with commits, closed, merged or reopened. */
export interface MergeRequestEvent extends EventSource {
  readonly kind: 'merge-request';
  /** The source branch. */
  readonly branch: string;
  readonly targetBranch: string;
  /** GitLab's `iid`, GitHub's `number`. */
  readonly number: number;
  readonly state: MergeRequestState;
  /** The host's own word for what happened (`open`, `update`, `synchronize`, `closed`...), for logs. */
  readonly action: string;
  /** Head of the source branch. */
  readonly after: string;
  /** Previous head, when the event is about new commits. */
  readonly before?: string;
  readonly draft: boolean;
  /** The source branch lives in another repository (a fork): its commits are not in ours. */
  readonly fromFork: boolean;
  readonly url?: string;
}

/** One normalized webhook event, whichever host sent it. */
export type HostEvent = PushEvent | BranchDeletedEvent | TagEvent | MergeRequestEvent;

/** What a verified delivery turned into: an event, or a reason to acknowledge and ignore it. */
export type ParsedDelivery =
  | { readonly type: 'event'; readonly event: HostEvent }
  | { readonly type: 'ignored'; readonly reason: string };

export function isZeroSha(sha: string | null | undefined): boolean {
  return sha === undefined || sha === null || /^0+$/.test(sha);
}

/** `refs/heads/x` -> `{ type: 'branch', name: 'x' }`; other refs are not ours to follow. */
export function splitRef(ref: string): { type: 'branch' | 'tag'; name: string } | undefined {
  if (ref.startsWith('refs/heads/')) return { type: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { type: 'tag', name: ref.slice('refs/tags/'.length) };
  return undefined;
}
