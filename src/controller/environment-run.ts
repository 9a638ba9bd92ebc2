import type { BuildRequest } from '../cluster/build-job.js';
import type { DeployResult } from '../cluster/deploy.js';
import { RetryableError, TerminalError } from '../errors.js';
import type { EnvironmentPlan, Push } from '../plan/types.js';
import type { Workspace } from '../sources/git/workspace.js';
import type { ImageBuilder } from './builder.js';
import type { Deployer, DeployTarget } from './deployer.js';
import { desiredEnvironment, type DesiredEnvironment } from './desired.js';
import type { EnvironmentOutcome, EnvironmentReport, StatusFields } from './environment-report.js';
import { classifyError } from './errors.js';
import type { EnvironmentSecretsHook } from './ops-hooks.js';
import { condition, type EnvironmentStatus } from './status.js';
import { recordDeploy, type Pin } from './history.js';
import { sameCluster } from './left-behind.js';

/** What one environment's reconcile works with. */
export interface RunContext {
  readonly plan: EnvironmentPlan;
  /** The push, pinned to the branch head in git. */
  readonly push: Push;
  /** A resync re-applies even a revision already deployed, to undo drift. */
  readonly resync: boolean;
  readonly previous: EnvironmentStatus | undefined;
  readonly workspace: Workspace;
  readonly report: EnvironmentReport;
  /** Writes the environment's Secrets from the ops repo, before its objects. */
  readonly secrets?: EnvironmentSecretsHook;
  /** Held at recorded commits (rollback, promotion): those are rendered instead of the branch's head. */
  readonly pin?: Pin;
}

/** The plan phase's verdict: work to do, or an outcome that ends the reconcile here. */
export type Planned =
  | { readonly desired: DesiredEnvironment; readonly opsCommit: string; /** Every repo's commit the objects come from. */ readonly commits: Readonly<Record<string, string>> }
  | { readonly outcome: EnvironmentOutcome };

/** Plan: the environment's objects at the pushed commit, and whether there is anything to do. */
export async function planPhase(context: RunContext): Promise<Planned> {
  const { plan, push, previous } = context;
  const commit = push.after;
  const state = await context.workspace.state({
    ...(plan.branch === undefined ? {} : { branch: plan.branch }),
    ...(context.pin !== undefined ? { commits: context.pin.commits } : commit === undefined ? { without: { repo: push.repo, branch: push.branch } } : { commits: { [push.repo]: commit } }),
  });
  const desired = desiredEnvironment(plan, state);
  await writeSecrets(context, desired, state.repos.ops?.commit ?? '');
  // The same objects in another cluster (`cluster` changed) are a new deploy, not the one already done.
  const here = sameCluster(previous?.cluster, desired.app.environment.cluster);
  if (previous?.appliedRevision === desired.revision && condition(previous, 'Ready')?.status === 'True' && !context.resync && here) {
    return { outcome: { environment: plan.name, result: 'unchanged', reason: 'UpToDate', message: `revision ${desired.revision} is already deployed`, jobsCreated: 0 } };
  }
  if (previous?.attemptedRevision === desired.revision && condition(previous, 'Stalled')?.status === 'True' && here) {
    return { outcome: { environment: plan.name, result: 'stalled', reason: condition(previous, 'Stalled')?.reason ?? 'Stalled', message: `revision ${desired.revision} failed before; waiting for a new commit`, jobsCreated: 0 } };
  }
  const commits = Object.fromEntries(Object.entries(state.repos).map(([repo, snapshot]) => [repo, snapshot.commit]));
  return { desired, opsCommit: state.repos.ops?.commit ?? '', commits };
}

/**
 * Writes the environment's Secrets from the ops repo at `opsCommit`, into its namespace and
 * cluster; those the commit no longer has are pruned. An atomic rollback calls it with the ops
 * commit it goes back to, so the restored revision runs with that commit's secret values.
 */
export async function writeSecrets(context: RunContext, desired: DesiredEnvironment, opsCommit: string): Promise<void> {
  const { plan } = context;
  await context.secrets?.({ workspace: context.workspace, opsCommit, project: desired.app.project, environment: plan.name, filesOf: plan.preview?.base ?? plan.name, namespace: desired.app.environment.namespace, objects: desired.objects, ...(desired.app.environment.cluster === undefined ? {} : { cluster: desired.app.environment.cluster }) });
}

/**
 * Build: only the images the registry lacks (the content tag says whether the inputs changed).
 * Every build starts, then all are awaited: they run side by side in the cluster. Counts the
 * Jobs it creates in `jobs`, also when a build then fails. A build that failed for good fails
 * only its service: returns those, by service, with the error; a failure that may pass (a
 * timeout, an API server in trouble) is thrown, and the whole environment is tried again.
 */
export async function buildPhase(context: RunContext, desired: DesiredEnvironment, opsCommit: string, fields: StatusFields, builder: ImageBuilder, jobs: { created: number }): Promise<Map<string, unknown>> {
  const missing = [];
  for (const build of desired.builds) if (!(await builder.has(build.build.ref))) missing.push(build);
  const failed = new Map<string, unknown>();
  if (missing.length === 0) return failed;
  const { workspace, report, plan } = context;
  const config = (await workspace.config(opsCommit)).config;
  await report.status(fields, 'progressing', 'Building', `building ${missing.map((build) => build.build.ref).join(', ')}`);
  await report.commit('building', `Building ${missing.length} image${missing.length === 1 ? '' : 's'} for ${plan.name}`);
  const requests: BuildRequest[] = [];
  for (const build of missing) {
    const repo = await workspace.repo(build.build.repo, config);
    if (repo === undefined) throw new RetryableError(`cannot reach repo "${build.build.repo}" to build ${build.build.service}`);
    const request = { ...build, repoUrl: repo.url, environment: plan.name };
    if ((await builder.start(request)).created) jobs.created++;
    requests.push(request);
  }
  const waited = await Promise.allSettled(requests.map((request) => builder.wait(request)));
  waited.forEach((item, index) => {
    if (item.status === 'rejected') failed.set(requests[index]!.build.service, item.reason);
  });
  const passing = [...failed.values()].find((error) => classifyError(error).retryable);
  if (passing !== undefined) throw passing;
  return failed;
}

/** The outcome of a deploy that went ahead without the services whose build failed. */
export async function heldBackPhase(context: RunContext, desired: DesiredEnvironment, deployed: DesiredEnvironment, fields: StatusFields, result: DeployResult, failed: ReadonlyMap<string, unknown>, jobsCreated: number): Promise<EnvironmentOutcome> {
  const { plan, report, previous } = context;
  const images = Object.fromEntries(deployed.app.services.map((service) => [service.name, service.image.ref]));
  const why = [...failed].map(([service, error]) => {
    const keeps = previous?.images?.[service];
    return `${service}: ${classifyError(error).message} (${keeps === undefined ? 'not deployed' : `keeps running ${keeps}`})`;
  });
  const others = deployed.app.services.map((service) => service.name).filter((name) => !failed.has(name));
  const message = `the build of ${[...failed.keys()].join(', ')} failed; ${others.length === 0 ? 'nothing else to deploy' : `deployed ${others.join(', ')}`} (revision ${deployed.revision}, ${result.pruned.length} pruned): ${why.join('; ')}`;
  // Applied is what runs; attempted is what git asked for, so the same commit is not built again.
  await report.status({ ...fields, appliedRevision: deployed.revision, attemptedRevision: desired.revision, images }, 'stalled', 'BuildFailed', message);
  await report.commit('failed', `BuildFailed: ${message}`);
  return { environment: plan.name, result: 'stalled', reason: 'BuildFailed', message, jobsCreated };
}

/** Deploy: apply, wait for the rollout, prune. A failed rollout is terminal for the commit. */
export async function deployPhase(context: RunContext, desired: DesiredEnvironment, deployer: Deployer): Promise<DeployResult> {
  // A push applies what changed since the recorded inventory; a resync applies everything, undoing drift.
  const result = await deployer.deploy(desired.objects, deployTarget(context, desired), { onlyChanged: !context.resync });
  if (result.failures.length > 0) {
    throw new TerminalError('RolloutFailed', `the rollout failed; the previous version keeps serving: ${result.failures.map((failure) => `${failure.object}: ${failure.reason}`).join('; ')}`);
  }
  return result;
}

/** Where an environment's objects go: its namespace, in its cluster. */
export function deployTarget(context: RunContext, desired: DesiredEnvironment): DeployTarget {
  const { cluster } = desired.app.environment;
  return { project: desired.app.project, environment: context.plan.name, namespace: desired.app.environment.namespace, ...(cluster === undefined ? {} : { cluster }) };
}

/** Report: the environment is Ready at this revision, and the commit is deployed. */
export async function reportPhase(context: RunContext, desired: DesiredEnvironment, fields: StatusFields, result: DeployResult, jobsCreated: number): Promise<EnvironmentOutcome> {
  const { plan, push, report } = context;
  const images = Object.fromEntries(desired.app.services.map((service) => [service.name, service.image.ref]));
  const changed = result.applied.filter((item) => item.outcome !== 'unchanged').length;
  const drift = result.drifted.length === 0 ? '' : `; drift reverted (edited in the cluster): ${result.drifted.join(', ')}`;
  const message = `deployed revision ${desired.revision} from ${fields.repo ?? push.repo}@${fields.commit?.slice(0, 12) ?? push.branch}: ${changed} of ${result.applied.length} objects changed, ${result.pruned.length} pruned${drift}`;
  const history = recordDeploy(fields.history, deployRecord(context, desired.revision, fields, images));
  await report.status({ ...fields, appliedRevision: desired.revision, images, history, ...(result.drifted.length === 0 ? {} : { drift: result.drifted }) }, 'ready', result.drifted.length === 0 ? 'Succeeded' : 'DriftReverted', message);
  const url = plan.preview !== undefined && desired.app.environment.domain !== undefined ? `https://${desired.app.environment.domain}` : undefined;
  await report.commit('deployed', `Deployed to ${plan.name}`, url);
  return { environment: plan.name, result: 'deployed', reason: result.drifted.length === 0 ? 'Succeeded' : 'DriftReverted', message, jobsCreated };
}

/** The history entry of a deploy that went through; under a pin, it says the rollback or promotion. */
function deployRecord(context: RunContext, revision: string, fields: StatusFields, images: Readonly<Record<string, string>>): Parameters<typeof recordDeploy>[1] {
  const { pin } = context;
  return {
    revision,
    repo: fields.repo ?? context.push.repo,
    ...(fields.commit === undefined ? {} : { commit: fields.commit }),
    commits: fields.commits ?? {},
    images,
    deployedAt: new Date().toISOString(),
    cause: pin === undefined ? 'git' : pin.reason,
    ...(pin?.by === undefined ? {} : { by: pin.by }),
  };
}
