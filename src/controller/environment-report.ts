import type { CommitStatus, DeployPhase } from '../hosts/types.js';
import type { EnvironmentPlan, Push } from '../plan/types.js';
import { classifyError } from './errors.js';
import type { StatusReporter, StatusTarget } from './reporter.js';
import { conditionsFor, type EnvironmentStatus, type Phase } from './status.js';
import type { StatusStore } from './status-store.js';

/** What happened to one environment. */
export interface EnvironmentOutcome {
  readonly environment: string;
  readonly result: 'deployed' | 'unchanged' | 'deleted' | 'stalled' | 'retry' | 'skipped';
  readonly reason: string;
  readonly message: string;
  /** Build Jobs this reconcile started. */
  readonly jobsCreated: number;
}

/** The status fields a reconcile sets (conditions are derived from the phase). */
export type StatusFields = Omit<EnvironmentStatus, 'conditions'>;

/**
 * The report phase of a reconcile: writes the environment's status (in the cluster) and the
 * commit status (on the git host) for the commit that is being deployed, named by the push
 * the reconciler pinned to the branch head, whether a webhook or a resync found it.
 */
export class EnvironmentReport {
  private targets: readonly StatusTarget[];

  constructor(
    private readonly plan: EnvironmentPlan,
    private readonly push: Push,
    private readonly previous: EnvironmentStatus | undefined,
    private readonly store: StatusStore,
    private readonly reporter: StatusReporter,
    private readonly now: () => Date,
  ) {
    this.targets = push.after === undefined ? [] : [{ repo: push.repo, sha: push.after }];
  }

  /** From the plan phase on, commit statuses go to the commits the deploy brings (see `deployedCommits`). */
  retarget(targets: readonly StatusTarget[]): void {
    this.targets = targets;
  }

  /** Writes the status with the conditions of `phase`. */
  async status(fields: StatusFields, phase: Phase, reason: string, message: string): Promise<void> {
    await this.store.put({ ...fields, conditions: conditionsFor(phase, reason, message, this.now().toISOString(), this.previous?.conditions) });
  }

  /** Sets the commit status of every commit the deploy brings; a deletion brings none. */
  async commit(phase: DeployPhase, description: string, targetUrl?: string): Promise<void> {
    for (const target of this.targets) {
      // GitLab attaches a status to a branch: the pushed branch for the pushed repo, the environment's for the others.
      const branch = target.repo === this.push.repo ? this.push.branch : this.plan.branch ?? this.push.branch;
      const status: CommitStatus = { phase, environment: this.plan.name, branch, description, ...(targetUrl === undefined ? {} : { targetUrl }) };
      await this.reporter.report(target, status);
    }
  }

  /** Records a failure: retryable ones are retried, terminal ones stall the environment and fail the commit. */
  async failed(fields: StatusFields, error: unknown, jobsCreated = 0): Promise<EnvironmentOutcome> {
    const classified = classifyError(error);
    const environment = this.plan.name;
    try {
      if (classified.retryable) {
        const reason = classified.reason ?? 'RetryScheduled';
        await this.status(fields, 'retrying', reason, classified.message);
        return { environment, result: 'retry', reason, message: classified.message, jobsCreated };
      }
      await this.status(fields, 'stalled', classified.reason, classified.message);
      await this.commit('failed', `${classified.reason}: ${classified.message}`);
    } catch (writeError) {
      // The status itself could not be written (the API server is down): try everything again later.
      return { environment, result: 'retry', reason: 'StatusNotWritten', message: `${classified.message}; and the status could not be written: ${writeError instanceof Error ? writeError.message : String(writeError)}`, jobsCreated };
    }
    return { environment, result: 'stalled', reason: classified.reason, message: classified.message, jobsCreated };
  }
}
