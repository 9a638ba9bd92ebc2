import type { RepoTarget } from '../hosts/targets.js';
import type { CommitStatus, GitHost } from '../hosts/types.js';

/** The commit a status is about. */
export interface StatusTarget {
  /** `ops` or a name under `repos`. */
  readonly repo: string;
  readonly sha: string;
}

/** Tells the git host how a commit's deploy goes (pending -> building -> deployed / failed). */
export interface StatusReporter {
  /** Never throws: a status that cannot be set must not fail the deploy; it is logged. */
  report(target: StatusTarget, status: CommitStatus): Promise<void>;
}

/** For a controller without a git host: statuses live only in the cluster. */
export const noopStatusReporter: StatusReporter = { report: async () => {} };

/** Commit statuses through each repo's `GitHost`; repos it has no host for are skipped. */
export class HostStatusReporter implements StatusReporter {
  constructor(
    private readonly targets: readonly RepoTarget[],
    private readonly host: (target: RepoTarget) => Promise<GitHost>,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async report(target: StatusTarget, status: CommitStatus): Promise<void> {
    const repo = this.targets.find((candidate) => candidate.repo.name === target.repo);
    if (repo === undefined) return;
    try {
      await (await this.host(repo)).setCommitStatus(repo.repo, target.sha, status);
    } catch (error) {
      this.log(`status ${status.phase} for ${status.environment} on ${repo.hostName}:${repo.repo.path}@${target.sha.slice(0, 12)} not set: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** A reporter whose hosts can be replaced while it runs: the ops config's hosts change without a restart. */
export class SwappableStatusReporter implements StatusReporter {
  constructor(private current: StatusReporter) {}

  swap(next: StatusReporter): void {
    this.current = next;
  }

  report(target: StatusTarget, status: CommitStatus): Promise<void> {
    return this.current.report(target, status);
  }
}
