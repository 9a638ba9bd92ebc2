import { ConfigError } from '../errors.js';
import type { CommitStatus, DeployPhase } from '../hosts/types.js';
import { expiredPreviews } from '../plan/targets.js';
import type { EnvironmentPlan, Push } from '../plan/types.js';
import { planPush, type PushRequest } from '../sources/git/plan-push.js';
import type { RepoLocations } from '../sources/git/locate.js';
import { Workspace } from '../sources/git/workspace.js';
import type { ImageBuilder } from './builder.js';
import type { Deployer } from './deployer.js';
import { desiredEnvironment } from './desired.js';
import { classifyError, RetryableError, TerminalError } from './errors.js';
import type { StatusReporter } from './reporter.js';
import { condition, conditionsFor, currentEnvironments, type EnvironmentStatus, type Phase } from './status.js';
import type { StatusStore } from './status-store.js';

export interface ReconcilerOptions {
  /** URL or folder of the ops repo. */
  readonly ops: string;
  readonly locations: RepoLocations;
  /** Git mirrors and checked-out trees; a cache only: deleting it loses nothing. */
  readonly cacheDir: string;
  readonly store: StatusStore;
  readonly builder: ImageBuilder;
  readonly deployer: Deployer;
  readonly reporter: StatusReporter;
  /** The clock, passed in so tests can fix it. */
  readonly now?: () => Date;
  /** One line per step; never secrets. */
  readonly log?: (line: string) => void;
}

/** What to reconcile: a push (from a webhook, or a branch head found by resync). */
export interface ReconcileRequest extends PushRequest {
  /** From a resync: re-apply even a revision already deployed, to undo drift. */
  readonly resync?: boolean;
}

/** What happened to one environment. */
export interface EnvironmentOutcome {
  readonly environment: string;
  readonly result: 'deployed' | 'unchanged' | 'deleted' | 'stalled' | 'retry' | 'skipped';
  readonly reason: string;
  readonly message: string;
  /** Build Jobs this reconcile started. */
  readonly jobsCreated: number;
}

export interface ReconcileResult {
  readonly outcomes: readonly EnvironmentOutcome[];
  readonly notes: readonly string[];
  /** Set when the push as a whole could not be planned. */
  readonly error?: { readonly retryable: boolean; readonly message: string };
}

/**
 * Turns a push into the cluster state git describes: plan it with the planner, then for each
 * environment build missing images, deploy everything, and write its status (Ready /
 * Reconciling / Stalled). Desired state comes from git, current state from the status
 * ConfigMaps and the cluster, so it can be stopped and started again at any moment.
 */
export class Reconciler {
  private readonly now: () => Date;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (() => {});
  }

  /** Reconciles one push. Environments named in `skip` are left alone (a resync pass did them already). */
  async reconcile(request: ReconcileRequest, skip: ReadonlySet<string> = new Set()): Promise<ReconcileResult> {
    const current = currentEnvironments(await this.options.store.list());
    let planned;
    try {
      planned = await planPush({ cacheDir: this.options.cacheDir, ops: this.options.ops, locations: this.options.locations, push: request, current });
    } catch (error) {
      const classified = classifyPlanError(error);
      this.log(`push ${request.repo} ${request.branch}: cannot plan (${classified.retryable ? 'will retry' : 'terminal'}): ${classified.message}`);
      return { outcomes: [], notes: [], error: classified };
    }
    const { plan } = planned;
    for (const note of plan.notes) this.log(`push ${request.repo} ${request.branch}: ${note}`);
    const workspace = new Workspace({ cacheDir: this.options.cacheDir, ops: this.options.ops, locations: this.options.locations });
    const outcomes: EnvironmentOutcome[] = [];
    for (const environment of plan.environments) {
      if (skip.has(environment.name)) {
        outcomes.push({ environment: environment.name, result: 'skipped', reason: 'AlreadyReconciled', message: 'reconciled earlier in this pass', jobsCreated: 0 });
        continue;
      }
      const outcome = await this.environment(environment, plan.push, request, workspace);
      this.log(`${environment.name}: ${outcome.result} (${outcome.reason}) ${outcome.message}`);
      outcomes.push(outcome);
    }
    return { outcomes, notes: plan.notes };
  }

  /** Tears down previews whose `ttl` passed without a push. */
  async expire(): Promise<EnvironmentOutcome[]> {
    const statuses = await this.options.store.list();
    const outcomes: EnvironmentOutcome[] = [];
    for (const target of expiredPreviews(currentEnvironments(statuses), this.now())) {
      if (target.namespace === undefined) continue;
      await this.options.deployer.teardown(target.namespace);
      await this.options.store.delete(target.name);
      outcomes.push({ environment: target.name, result: 'deleted', reason: 'Expired', message: target.reason, jobsCreated: 0 });
    }
    return outcomes;
  }

  private async environment(plan: EnvironmentPlan, push: Push, request: ReconcileRequest, workspace: Workspace): Promise<EnvironmentOutcome> {
    const { store, reporter } = this.options;
    const previous = await store.get(plan.name);
    const commit = push.after;
    const report = async (phase: DeployPhase, description: string, targetUrl?: string) => {
      if (commit === undefined) return;
      const status: CommitStatus = { phase, environment: plan.name, branch: push.branch, description, ...(targetUrl === undefined ? {} : { targetUrl }) };
      await reporter.report({ repo: push.repo, sha: commit }, status);
    };
    const now = this.now().toISOString();
    const base: EnvironmentStatus = {
      environment: plan.name,
      namespace: plan.namespace || previous?.namespace || '',
      ...(plan.branch === undefined ? {} : { branch: plan.branch }),
      ...(plan.preview === undefined ? {} : { preview: { mode: plan.preview.mode, base: plan.preview.base, ...(plan.preview.ttl === undefined ? {} : { ttl: plan.preview.ttl }) } }),
      repo: push.repo,
      ...(commit === undefined ? {} : { commit }),
      ...(previous?.appliedRevision === undefined ? {} : { appliedRevision: previous.appliedRevision }),
      ...(previous?.images === undefined ? {} : { images: previous.images }),
      updatedAt: request.resync === true && previous !== undefined ? previous.updatedAt : now,
      conditions: previous?.conditions ?? [],
    };
    const write = async (status: Omit<EnvironmentStatus, 'conditions'>, phase: Phase, reason: string, message: string) => {
      await store.put({ ...status, conditions: conditionsFor(phase, reason, message, this.now().toISOString(), previous?.conditions) });
    };

    if (plan.action === 'delete') {
      try {
        const namespace = plan.namespace || previous?.namespace;
        const result = namespace === undefined || namespace === '' ? 'absent' : await this.options.deployer.teardown(namespace);
        await store.delete(plan.name);
        return { environment: plan.name, result: 'deleted', reason: 'TornDown', message: `${plan.reason}; namespace ${namespace ?? '?'} ${result}`, jobsCreated: 0 };
      } catch (error) {
        return this.failed(plan, base, error, write, report);
      }
    }
    if (plan.action === 'failed') {
      const message = plan.problems.map((problem) => `${problem.file}${problem.path === '' ? '' : ` ${problem.path}`}: ${problem.message}`).join('; ');
      return this.failed(plan, base, new TerminalError('ConfigInvalid', message), write, report);
    }

    let jobsCreated = 0;
    try {
      const state = await workspace.state({
        ...(plan.branch === undefined ? {} : { branch: plan.branch }),
        ...(commit === undefined ? { without: { repo: push.repo, branch: push.branch } } : { commits: { [push.repo]: commit } }),
      });
      const desired = desiredEnvironment(plan, state);
      const attempted = { ...base, attemptedRevision: desired.revision };
      if (previous?.appliedRevision === desired.revision && condition(previous, 'Ready')?.status === 'True' && request.resync !== true) {
        return { environment: plan.name, result: 'unchanged', reason: 'UpToDate', message: `revision ${desired.revision} is already deployed`, jobsCreated };
      }
      if (previous?.attemptedRevision === desired.revision && condition(previous, 'Stalled')?.status === 'True') {
        return { environment: plan.name, result: 'stalled', reason: condition(previous, 'Stalled')?.reason ?? 'Stalled', message: `revision ${desired.revision} failed before; waiting for a new commit`, jobsCreated };
      }
      await write(attempted, 'progressing', 'Progressing', `reconciling ${push.repo}@${commit?.slice(0, 12) ?? push.branch}`);
      await report('pending', `Deploying to ${plan.name}`);

      // Builds: only what the registry lacks; the content tag says whether the inputs changed.
      const missing = [];
      for (const build of desired.builds) if (!(await this.options.builder.has(build.build.ref))) missing.push(build);
      if (missing.length > 0) {
        const config = (await workspace.config(state.repos.ops?.commit ?? '')).config;
        await write(attempted, 'progressing', 'Building', `building ${missing.map((build) => build.build.ref).join(', ')}`);
        await report('building', `Building ${missing.length} image${missing.length === 1 ? '' : 's'} for ${plan.name}`);
        // Start every build, then wait for all: they run side by side in the cluster.
        const requests = [];
        for (const build of missing) {
          const repo = await workspace.repo(build.build.repo, config);
          if (repo === undefined) throw new RetryableError(`cannot reach repo "${build.build.repo}" to build ${build.build.service}`);
          const request = { ...build, repoUrl: repo.url, environment: plan.name };
          if ((await this.options.builder.start(request)).created) jobsCreated++;
          requests.push(request);
        }
        const waited = await Promise.allSettled(requests.map((request) => this.options.builder.wait(request)));
        const failures = waited.filter((item): item is PromiseRejectedResult => item.status === 'rejected').map((item) => item.reason as unknown);
        // A terminal failure wins over a retryable one: retrying cannot fix the failed build.
        const failure = failures.find((error) => !classifyError(error).retryable) ?? failures[0];
        if (failure !== undefined) throw failure;
      }

      const result = await this.options.deployer.deploy(desired.objects, { project: desired.app.project, environment: plan.name, namespace: desired.app.environment.namespace });
      if (result.failures.length > 0) {
        throw new TerminalError('RolloutFailed', `the rollout failed; the previous version keeps serving: ${result.failures.map((failure) => `${failure.object}: ${failure.reason}`).join('; ')}`);
      }
      const images = Object.fromEntries(desired.app.services.map((service) => [service.name, service.image.ref]));
      const changed = result.applied.filter((item) => item.outcome !== 'unchanged').length;
      const message = `deployed revision ${desired.revision} from ${push.repo}@${commit?.slice(0, 12) ?? push.branch}: ${changed} of ${result.applied.length} objects changed, ${result.pruned.length} pruned`;
      await write({ ...attempted, appliedRevision: desired.revision, images }, 'ready', 'Succeeded', message);
      const url = plan.preview !== undefined && desired.app.environment.domain !== undefined ? `https://${desired.app.environment.domain}` : undefined;
      await report('deployed', `Deployed to ${plan.name}`, url);
      return { environment: plan.name, result: 'deployed', reason: 'Succeeded', message, jobsCreated };
    } catch (error) {
      const outcome = await this.failed(plan, base, error, write, report);
      return { ...outcome, jobsCreated };
    }
  }

  private async failed(
    plan: EnvironmentPlan,
    status: Omit<EnvironmentStatus, 'conditions'>,
    error: unknown,
    write: (status: Omit<EnvironmentStatus, 'conditions'>, phase: Phase, reason: string, message: string) => Promise<void>,
    report: (phase: DeployPhase, description: string) => Promise<void>,
  ): Promise<EnvironmentOutcome> {
    const classified = classifyError(error);
    try {
      if (classified.retryable) {
        await write(status, 'retrying', 'RetryScheduled', classified.message);
        return { environment: plan.name, result: 'retry', reason: 'RetryScheduled', message: classified.message, jobsCreated: 0 };
      }
      await write(status, 'stalled', classified.reason, classified.message);
      await report('failed', `${classified.reason}: ${classified.message}`);
    } catch (writeError) {
      // The status itself could not be written (the API server is down): try everything again later.
      return { environment: plan.name, result: 'retry', reason: 'StatusNotWritten', message: `${classified.message}; and the status could not be written: ${writeError instanceof Error ? writeError.message : String(writeError)}`, jobsCreated: 0 };
    }
    return { environment: plan.name, result: 'stalled', reason: classified.reason, message: classified.message, jobsCreated: 0 };
  }
}

/** A push that cannot even be planned: a broken ops config is terminal, unreachable git is retried. */
function classifyPlanError(error: unknown): { retryable: boolean; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ConfigError) return { retryable: false, message };
  if (/cannot (read|fetch)|could not read|unable to access|timed out/i.test(message)) return { retryable: true, message };
  const classified = classifyError(error);
  return { retryable: classified.retryable, message };
}
