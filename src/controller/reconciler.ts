import { expiredPreviews } from '../plan/targets.js';
import type { EnvironmentPlan, Push } from '../plan/types.js';
import { planPush, type PushRequest } from '../sources/git/plan-push.js';
import type { RepoLocations } from '../sources/git/locate.js';
import { Workspace } from '../sources/git/workspace.js';
import type { ImageBuilder } from './builder.js';
export type { EnvironmentOutcome } from './environment-report.js';
import type { Deployer } from './deployer.js';
import { deployedCommits } from './deployed-commits.js';
import { promotionVerdict, pushEndsPin } from './history.js';
import type { PinStore } from './pin-store.js';
import { deployEvent, type Notifier } from './notify.js';
import { EnvironmentReport, type EnvironmentOutcome, type StatusFields } from './environment-report.js';
import { withHeldBack } from './desired.js';
import { buildPhase, deployPhase, heldBackPhase, planPhase, reportPhase, type RunContext } from './environment-run.js';
import { GitBranchHeads, pinToHead, type BranchHeads } from './head-pin.js';
import { isAtomic, nothingDeployedPhase, rollBackPhase } from './atomic.js';
import { TerminalError } from '../errors.js';
import { classifyError } from './errors.js';
import type { AddonsHook, EnvironmentSecretsHook } from './ops-hooks.js';
import type { StatusReporter } from './reporter.js';
import { conditionsFor, currentEnvironments } from './status.js';
import type { StatusStore } from './status-store.js';
import { pendingLeftBehind, settleLeftBehind, type LeftBehindCleaner } from './left-behind.js';

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
  /** Opt-in: deployed / failed / rolled back, to a webhook. */
  readonly notifier?: Notifier;
  /** Rollbacks and promotions asked for by operators; without it, environments always follow git. */
  readonly pins?: PinStore;
  /** Where branches point in git; by default read from the ops and service repos' mirrors. */
  readonly heads?: BranchHeads;
  /** The clock, passed in so tests can fix it. */
  readonly now?: () => Date;
  /** One line per step; never secrets. */
  readonly log?: (line: string) => void;
  /** Writes an environment's Secrets from the ops repo, before its objects. */
  readonly secrets?: EnvironmentSecretsHook;
  /** Applies the cluster's add-ons, before any environment. */
  readonly addons?: AddonsHook;
  /** Removes what an environment left in a cluster it moved away from (see `left-behind.ts`). */
  readonly leftBehind?: LeftBehindCleaner;
}

/** What to reconcile: a push (from a webhook, or a branch head found by resync). */
export interface ReconcileRequest extends PushRequest {
  /** From a resync: re-apply even a revision already deployed, to undo drift. */
  readonly resync?: boolean;
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
  private readonly heads: BranchHeads;
  /** Environments of this reconcile with copies left in another cluster, to remove once they are Ready. */
  private readonly moving = new Set<string>();

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (() => {});
    this.heads = options.heads ?? new GitBranchHeads(options);
  }

  /**
   * Reconciles one push. Environments named in `skip` are left alone (a resync pass did them
   * already). The request is first pinned to the branch's head in git: whatever a delivery says,
   * only a branch's current head is ever deployed.
   */
  async reconcile(asked: ReconcileRequest, skip: ReadonlySet<string> = new Set()): Promise<ReconcileResult> {
    let request: ReconcileRequest;
    // One workspace per reconcile: one fetch per repo, and each state loaded once for the pin, the plan and the deploy.
    const workspace = new Workspace({ cacheDir: this.options.cacheDir, ops: this.options.ops, locations: this.options.locations });
    try {
      const pinned = pinToHead(asked, asked.closed === true ? undefined : await this.heads.head(asked.repo, asked.branch, workspace));
      request = pinned.request;
      if (pinned.note !== undefined) this.log(`push ${asked.repo} ${asked.branch}: ${pinned.note}`);
    } catch (error) {
      const classified = classifyPlanError(error);
      this.log(`push ${asked.repo} ${asked.branch}: cannot read the branch head (${classified.retryable ? 'will retry' : 'terminal'}): ${classified.message}`);
      return { outcomes: [], notes: [], error: classified };
    }
    const current = currentEnvironments(await this.options.store.list());
    let planned;
    try {
      planned = await planPush({ cacheDir: this.options.cacheDir, ops: this.options.ops, locations: this.options.locations, push: request, current, workspace });
    } catch (error) {
      const classified = classifyPlanError(error);
      this.log(`push ${request.repo} ${request.branch}: cannot plan (${classified.retryable ? 'will retry' : 'terminal'}): ${classified.message}`);
      return { outcomes: [], notes: [], error: classified };
    }
    const { plan } = planned;
    for (const note of plan.notes) this.log(`push ${request.repo} ${request.branch}: ${note}`);
    // Add-ons first: an environment's objects may be custom resources of an add-on.
    const addons = await this.options.addons?.(workspace).then(() => undefined, (error: unknown) => classifyError(error));
    if (addons !== undefined) this.log(`push ${request.repo} ${request.branch}: add-ons failed (${addons.retryable ? 'will retry' : 'terminal'}), no environment reconciled: ${addons.message}`);
    if (addons !== undefined) return { outcomes: [], notes: plan.notes, error: { retryable: addons.retryable, message: `add-ons: ${addons.message}` } };
    const outcomes: EnvironmentOutcome[] = [];
    for (const environment of plan.environments) {
      if (skip.has(environment.name)) {
        outcomes.push({ environment: environment.name, result: 'skipped', reason: 'AlreadyReconciled', message: 'reconciled earlier in this pass', jobsCreated: 0 });
        continue;
      }
      const outcome = await this.environment(environment, plan.push, request, workspace);
      this.log(`${environment.name}: ${outcome.result} (${outcome.reason}) ${outcome.message}`);
      await this.settleMoves(environment.name, outcome);
      await this.notify(outcome);
      outcomes.push(outcome);
    }
    return { outcomes, notes: plan.notes };
  }

  /**
   * After an environment's reconcile, removes the copies a move left in another cluster, if it is
   * Ready where it is now (`settleLeftBehind` checks): also when nothing was deployed (up to
   * date, or skipped until a promotion), so a cluster reachable again is cleaned up at once.
   */
  private async settleMoves(environment: string, outcome: EnvironmentOutcome): Promise<void> {
    const clean = this.options.leftBehind;
    if (!this.moving.delete(environment) || clean === undefined || outcome.result === 'deleted') return;
    // Never fails the reconcile: what could not be removed stays in the status, tried again next time.
    const line = await settleLeftBehind(this.options.store, clean, environment, this.now().toISOString()).catch((error: unknown) => `left behind: not settled, tried again next time: ${classifyError(error).message}`);
    if (line !== undefined) this.log(`${environment}: ${line}`);
  }

  /** Deployed, failed, rolled back, promoted: told to the notifier, if one is set; never fails the reconcile. */
  private async notify(outcome: EnvironmentOutcome): Promise<void> {
    const notifier = this.options.notifier;
    if (notifier === undefined || (outcome.result !== 'deployed' && outcome.result !== 'stalled')) return;
    const status = await this.options.store.get(outcome.environment).catch(() => undefined);
    const event = deployEvent(outcome, status);
    if (event !== undefined) await notifier.notify(event);
  }

  /** Tears down previews whose `ttl` passed without a push. */
  async expire(): Promise<EnvironmentOutcome[]> {
    const statuses = await this.options.store.list();
    const outcomes: EnvironmentOutcome[] = [];
    const live = statuses.filter((status) => status.expiredAt === undefined);
    for (const target of expiredPreviews(currentEnvironments(live), this.now())) {
      if (target.namespace === undefined) continue;
      const status = live.find((item) => item.environment === target.name);
      await this.options.deployer.teardown(target.namespace, status?.cluster);
      // Kept as a tombstone rather than deleted: a resync finds the branch still there and must not bring the preview back.
      if (status !== undefined) {
        const now = this.now().toISOString();
        const message = `torn down: ${target.reason}; a new push brings it back`;
        const { appliedRevision: _applied, attemptedRevision: _attempted, drift: _drift, ...rest } = status;
        await this.options.store.put({ ...rest, expiredAt: now, conditions: conditionsFor('stalled', 'Expired', message, now, status.conditions) });
      }
      outcomes.push({ environment: target.name, result: 'deleted', reason: 'Expired', message: target.reason, jobsCreated: 0 });
    }
    return outcomes;
  }

  /** One environment: plan, build, deploy, report; every failure is recorded in its status. */
  private async environment(plan: EnvironmentPlan, push: Push, request: ReconcileRequest, workspace: Workspace): Promise<EnvironmentOutcome> {
    const { store, reporter } = this.options;
    const previous = await store.get(plan.name);
    if ((previous?.leftBehind?.length ?? 0) > 0) this.moving.add(plan.name);
    // A pin (rollback, promotion) holds until a push moves one of its repos (see history.ts); a resync keeps it.
    let pin = await this.options.pins?.get(plan.name);
    if (pin !== undefined && pushEndsPin(pin, push, request.resync === true)) {
      await this.options.pins?.clear(plan.name, pin);
      this.log(`${plan.name}: the push of ${push.repo}@${push.after?.slice(0, 12) ?? push.branch} ends the ${pin.reason} pin`);
      pin = undefined;
    }
    const report = new EnvironmentReport(plan, push, previous, store, reporter, this.now);
    const commit = push.after;
    const fields: StatusFields = {
      environment: plan.name,
      namespace: plan.namespace || previous?.namespace || '',
      ...(plan.branch === undefined ? {} : { branch: plan.branch }),
      ...(plan.preview === undefined ? {} : { preview: { mode: plan.preview.mode, base: plan.preview.base, ...(plan.preview.ttl === undefined ? {} : { ttl: plan.preview.ttl }) } }),
      repo: push.repo,
      ...(commit === undefined ? {} : { commit }),
      ...(previous?.appliedRevision === undefined ? {} : { appliedRevision: previous.appliedRevision }),
      ...(previous?.images === undefined ? {} : { images: previous.images }),
      ...(previous?.commits === undefined ? {} : { commits: previous.commits }),
      ...(previous?.history === undefined ? {} : { history: previous.history }),
      ...(previous?.cluster === undefined ? {} : { cluster: previous.cluster }),
      ...(previous?.leftBehind === undefined ? {} : { leftBehind: previous.leftBehind }),
      ...(pin === undefined ? {} : { pin }),
      updatedAt: request.resync === true && previous !== undefined ? previous.updatedAt : this.now().toISOString(),
    };

    if (plan.action === 'delete') {
      try {
        const namespace = plan.namespace || previous?.namespace;
        const result = namespace === undefined || namespace === '' ? 'absent' : await this.options.deployer.teardown(namespace, previous?.cluster);
        // Copies a move left elsewhere go too; if one cannot be reached, the status stays and the teardown is retried.
        const others = [];
        for (const entry of previous?.leftBehind ?? []) others.push(`namespace ${entry.namespace} in cluster ${entry.cluster?.name ?? 'home'} ${await this.options.deployer.teardown(entry.namespace, entry.cluster)}`);
        await store.delete(plan.name);
        return { environment: plan.name, result: 'deleted', reason: 'TornDown', message: `${plan.reason}; namespace ${namespace ?? '?'} ${result}${others.length === 0 ? '' : ` (and ${others.join(', ')})`}`, jobsCreated: 0 };
      } catch (error) {
        return report.failed(fields, error);
      }
    }
    if (plan.action === 'failed') {
      const message = plan.problems.map((problem) => `${problem.file}${problem.path === '' ? '' : ` ${problem.path}`}: ${problem.message}`).join('; ');
      return report.failed(fields, new TerminalError('ConfigInvalid', message));
    }

    const context: RunContext = {
      plan,
      push,
      resync: request.resync === true,
      previous,
      workspace,
      report,
      ...(this.options.secrets === undefined ? {} : { secrets: this.options.secrets }),
      ...(fields.pin === undefined ? {} : { pin: fields.pin }),
    };
    const jobs = { created: 0 };
    let attempted = fields;
    try {
      const planned = await planPhase(context);
      if ('outcome' in planned) return planned.outcome;
      const promotion = promotionVerdict((await workspace.config(planned.opsCommit)).config.environments[plan.name]?.promotion, pin);
      if (!promotion.allowed) {
        // A first status, so `diploid promote` finds the environment; after that it keeps what it runs, and its status says so.
        if (previous === undefined) await report.status(fields, 'stalled', promotion.reason, promotion.message);
        return { environment: plan.name, result: 'skipped', reason: promotion.reason, message: promotion.message, jobsCreated: 0 };
      }
      // Name what is deployed, whichever request found it: a resync of the ops repo may deploy a service repo's new commit.
      const deployed = deployedCommits(push, planned.commits, previous?.commits);
      // An expired preview comes back only for a new commit on its own branch (by webhook, or found
      // by a resync); not for a push to the base branch that happens to feed it.
      const revives = push.branch === plan.branch && (request.resync !== true || deployed.moved);
      if (previous?.expiredAt !== undefined && !revives) {
        return { environment: plan.name, result: 'skipped', reason: 'Expired', message: `expired at ${previous.expiredAt}; a new push to ${plan.branch ?? 'its branch'} brings it back`, jobsCreated: 0 };
      }
      report.retarget(deployed.targets);
      const { cluster: _was, ...kept } = fields;
      const { cluster } = planned.desired.app.environment;
      // A move to another cluster: the copy where it ran is recorded now, and removed once the new one is Ready.
      const { leftBehind: _had, ...staying } = kept;
      const leftBehind = pendingLeftBehind(previous, { ...(cluster === undefined ? {} : { cluster }), namespace: planned.desired.app.environment.namespace }, this.now().toISOString());
      if (leftBehind.length > 0) this.moving.add(plan.name);
      attempted = {
        ...staying,
        ...(leftBehind.length === 0 ? {} : { leftBehind }),
        // The status, in the controller's own cluster, names the cluster the environment is in.
        ...(cluster === undefined ? {} : { cluster }),
        repo: deployed.repo,
        ...(deployed.commit === undefined ? {} : { commit: deployed.commit }),
        attemptedRevision: planned.desired.revision,
        ...(deployed.moved ? { updatedAt: this.now().toISOString() } : {}),
      };
      await report.status(attempted, 'progressing', 'Progressing', `reconciling ${deployed.repo}@${deployed.commit?.slice(0, 12) ?? push.branch}`);
      await report.commit('pending', `Deploying to ${plan.name}`);
      const failed = await buildPhase(context, planned.desired, planned.opsCommit, attempted, this.options.builder, jobs);
      const atomic = isAtomic(planned.desired);
      if (failed.size > 0 && atomic) return await nothingDeployedPhase(context, planned.desired, attempted, failed, jobs.created);
      if (failed.size > 0) {
        // The other services still deploy; each held-back one keeps the image it runs.
        const deployable = withHeldBack(planned.desired, new Map([...failed.keys()].map((service) => [service, previous?.images?.[service]])));
        const result = await deployPhase(context, deployable, this.options.deployer);
        return await heldBackPhase(context, planned.desired, deployable, attempted, result, failed, jobs.created);
      }
      const result = await deployPhase(context, planned.desired, this.options.deployer).catch((error: unknown) => {
        if (atomic && error instanceof TerminalError && error.reason === 'RolloutFailed') return error;
        throw error;
      });
      if (result instanceof TerminalError) return await rollBackPhase(context, result, attempted, this.options.deployer, jobs.created);
      // Only a deploy that succeeded moves the record of deployed commits: a retry still reports to the same commits.
      return await reportPhase(context, planned.desired, { ...attempted, commits: planned.commits }, result, jobs.created);
    } catch (error) {
      return report.failed(attempted, error, jobs.created);
    }
  }
}

/** A push that cannot even be planned: a broken ops config is terminal, unreachable git is retried. By type, never by message. */
function classifyPlanError(error: unknown): { retryable: boolean; message: string } {
  const classified = classifyError(error);
  return { retryable: classified.retryable, message: classified.message };
}
