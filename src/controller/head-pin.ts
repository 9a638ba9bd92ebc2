import { OPS_REPO } from '../plan/types.js';
import type { RepoLocations } from '../sources/git/locate.js';
import { ZERO_SHA } from '../sources/git/repo-cache.js';
import { Workspace } from '../sources/git/workspace.js';
import { RetryableError } from '../errors.js';
import type { ReconcileRequest } from './reconciler.js';

/** Reads where a branch points now, in git (after fetching), not in what a webhook said. */
export interface BranchHeads {
  /**
   * The branch's head commit, or undefined when the repo has no such branch. `workspace`, when
   * given, is a fresh one the reconcile goes on with: its one fetch then serves the whole push.
   */
  head(repo: string, branch: string, workspace?: Workspace): Promise<string | undefined>;
}

/** What pinning did to a request. */
export interface Pinned {
  readonly request: ReconcileRequest;
  /** Why the request changed; undefined when it already named the head. */
  readonly note?: string;
}

/**
 * Makes a request name what git says now. A delivery is only a hint that a branch moved: a
 * replayed or forged one may name an old or unreviewed commit, or claim a branch was deleted.
 * So a push is deployed only when its commit is the branch's head; otherwise the branch's head
 * is reconciled instead (harmless: that is what a resync would do), and a branch that is gone
 * is reconciled as deleted. A merged or closed request is left alone: it names no commit. Pure.
 */
export function pinToHead(request: ReconcileRequest, head: string | undefined): Pinned {
  if (request.closed === true) return { request };
  const to = request.to === undefined || request.to === '' || request.to === ZERO_SHA ? undefined : request.to;
  if (to === head) return { request };
  const rest: ReconcileRequest = { repo: request.repo, branch: request.branch, ...(request.resync === undefined ? {} : { resync: request.resync }) };
  const short = (sha: string) => sha.slice(0, 12);
  if (head === undefined) {
    return { request: rest, note: `the push names ${short(to ?? '')}, but branch "${request.branch}" no longer exists in git; reconciling it as deleted` };
  }
  // Without `from`, the planner treats every service as changed; the revision hash then skips what is already deployed.
  const note = to === undefined
    ? `the event says branch "${request.branch}" was deleted, but git has it at ${short(head)}; reconciling that head`
    : `the push names ${short(to)}, but the head of "${request.branch}" is ${short(head)} in git; deploying the head, never an older or unknown commit`;
  return { request: { ...rest, to: head }, note };
}

/** Branch heads read through a workspace: each call fetches the repo's mirror first. */
export class GitBranchHeads implements BranchHeads {
  constructor(private readonly options: { readonly ops: string; readonly locations: RepoLocations; readonly cacheDir: string }) {}

  async head(repo: string, branch: string, fresh?: Workspace): Promise<string | undefined> {
    // A fresh workspace fetches: a cached branch list could be older than the delivery.
    const workspace = fresh ?? new Workspace({ cacheDir: this.options.cacheDir, ops: this.options.ops, locations: this.options.locations });
    const ops = await workspace.ops();
    if (repo === OPS_REPO) return (await ops.branches()).get(branch);
    const opsHead = (await ops.branches()).get(await ops.defaultBranch());
    if (opsHead === undefined) throw new RetryableError(`the ops repo has no default branch to read the repos from`);
    const { config } = await workspace.config(opsHead);
    // A repo the config does not name: the planner refuses the push with a clear error.
    if (config.repos?.[repo] === undefined) return undefined;
    const cached = await workspace.repo(repo, config);
    if (cached === undefined) throw new RetryableError(`cannot read the branches of repo "${repo}": ${workspace.warnings.at(-1) ?? 'not found'}`);
    return (await cached.branches()).get(branch);
  }
}
