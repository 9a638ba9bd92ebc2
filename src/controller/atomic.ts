/**
 * All or nothing (`environments.<name>.atomic: true`): a failed build deploys none of the
 * environment's services, and a failed rollout puts every service back at the last revision
 * deployed. Without it, a failed build holds back only the services needing its image, and a
 * failed rollout leaves the services that did roll out at the new version.
 */
import { TerminalError } from '../errors.js';
import type { Deployer } from './deployer.js';
import { desiredEnvironment, type DesiredEnvironment } from './desired.js';
import type { EnvironmentOutcome, StatusFields } from './environment-report.js';
import { deployTarget, writeSecrets, type RunContext } from './environment-run.js';
import { classifyError } from './errors.js';

/** Whether the environment being deployed is all or nothing. Pure. */
export function isAtomic(desired: DesiredEnvironment): boolean {
  return desired.app.environment.atomic === true;
}

/**
 * A build failed: nothing is applied, every service keeps what it runs. The Secrets of the ops
 * repo, written before the build (see `planPhase`), are put back at the commit last deployed.
 */
export async function nothingDeployedPhase(context: RunContext, desired: DesiredEnvironment, fields: StatusFields, failed: ReadonlyMap<string, unknown>, jobsCreated: number): Promise<EnvironmentOutcome> {
  const { plan, report, previous } = context;
  if (previous?.commits !== undefined && context.secrets !== undefined) {
    const state = await context.workspace.state({ ...(plan.branch === undefined ? {} : { branch: plan.branch }), commits: previous.commits });
    await writeSecrets(context, desiredEnvironment(plan, state), state.repos.ops?.commit ?? previous.commits['ops'] ?? '');
  }
  const why = [...failed].map(([service, error]) => `${service}: ${classifyError(error).message}`);
  const kept = previous?.appliedRevision === undefined ? 'nothing was deployed before' : `every service keeps running revision ${previous.appliedRevision}`;
  const message = `the build of ${[...failed.keys()].join(', ')} failed; atomic environment, so nothing was deployed (${kept}): ${why.join('; ')}`;
  // attemptedRevision is what git asked for: the same commit is not built again; applied stays as it was.
  await report.status({ ...fields, attemptedRevision: desired.revision }, 'stalled', 'BuildFailed', message);
  await report.commit('failed', `BuildFailed: ${message}`);
  return { environment: plan.name, result: 'stalled', reason: 'BuildFailed', message, jobsCreated };
}

/**
 * A rollout failed: the Secrets of the ops commit it recorded are written back (pruning those the
 * failed commit added), then the objects of the last successful deploy (rendered again from the
 * commits it recorded) are applied in full, pruning what the failed revision added, and awaited.
 */
export async function rollBackPhase(context: RunContext, failure: TerminalError, fields: StatusFields, deployer: Deployer, jobsCreated: number): Promise<EnvironmentOutcome> {
  const { plan, report, previous } = context;
  const commits = previous?.commits;
  if (previous?.appliedRevision === undefined || commits === undefined) {
    return report.failed(fields, withMessage(failure, `${failure.message}; atomic environment, but there is no earlier deploy to put back`), jobsCreated);
  }
  const state = await context.workspace.state({ ...(plan.branch === undefined ? {} : { branch: plan.branch }), commits });
  const back = desiredEnvironment(plan, state);
  // The Secrets of the ops repo go back too: the restored pods (whose secret-version annotations are
  // the old commit's) must not start with the failed commit's values.
  await writeSecrets(context, back, state.repos.ops?.commit ?? commits['ops'] ?? '');
  const result = await deployer.deploy(back.objects, deployTarget(context, back), { onlyChanged: false });
  if (result.failures.length > 0) {
    const again = result.failures.map((item) => `${item.object}: ${item.reason}`).join('; ');
    return report.failed(fields, withMessage(failure, `${failure.message}; atomic environment: putting back revision ${back.revision} failed too: ${again}`), jobsCreated);
  }
  const at = Object.entries(commits).map(([repo, sha]) => `${repo}@${sha.slice(0, 12)}`).join(', ');
  const message = `${failure.message}; atomic environment, so every service was put back at revision ${back.revision} (${at}), ${result.pruned.length} pruned`;
  await report.status({ ...fields, appliedRevision: back.revision, ...(previous.images === undefined ? {} : { images: previous.images }) }, 'stalled', failure.reason, message);
  await report.commit('failed', `${failure.reason}: ${message}`);
  return { environment: plan.name, result: 'stalled', reason: failure.reason, message, jobsCreated };
}

/** The same terminal failure (reason kept, and itself as the cause), saying more. */
function withMessage(failure: TerminalError, message: string): TerminalError {
  return new TerminalError(failure.reason, message, { cause: failure });
}
