import { UserError } from '../../errors.js';
import { suggestion } from '../../resolve/schema-errors.js';
import { feedBranch } from '../../plan/branch-rules.js';
import { planEnvironment } from '../../plan/plan-environment.js';
import { planTargets } from '../../plan/targets.js';
import { OPS_REPO, type CurrentEnvironment, type EnvironmentPlan, type Plan, type Push } from '../../plan/types.js';
import type { RepoLocations } from './locate.js';
import { ZERO_SHA, type CachedRepo } from './repo-cache.js';
import { Workspace } from './workspace.js';

/** A push as given on the command line or by a webhook: revisions not yet checked. */
export interface PushRequest {
  /** `ops` or a name under `repos`. */
  readonly repo: string;
  readonly branch: string;
  /** The branch's previous head; absent or all zeros for a new branch. */
  readonly from?: string;
  /** The new head; absent or all zeros when the branch was deleted. */
  readonly to?: string;
  /** The branch's merge/pull request was merged or closed: its preview goes, whatever the repos hold. */
  readonly closed?: boolean;
}

export interface PlanPushOptions {
  readonly cacheDir: string;
  /** URL or folder of the ops repo. */
  readonly ops: string;
  readonly locations: RepoLocations;
  readonly push: PushRequest;
  /** Environments that exist now; without it, an environment exists when the push had a `before`. */
  readonly current?: readonly CurrentEnvironment[];
  /** A workspace to read through (the controller's, for one push), so its fetches and states are shared; a new one by default. */
  readonly workspace?: Workspace;
}

/**
 * Plans a push from git: reads the ops config and every repo at the commits the push concerns
 * (fetching into the cache), then hands the states to the pure planner. An environment whose
 * files fail validation fails alone; the others are still planned.
 */
export async function planPush(options: PlanPushOptions): Promise<{ plan: Plan; warnings: readonly string[] }> {
  const workspace = options.workspace ?? new Workspace({ cacheDir: options.cacheDir, ops: options.ops, locations: options.locations });
  const request = options.push;
  const ops = await workspace.ops();
  const opsBranches = await ops.branches();

  // The rules come from the ops config on the pushed branch, or on the ops repo's default branch.
  const opsCommit = request.repo === OPS_REPO && isCommit(request.to) ? await mustCommit(ops, request.to) : await workspace.head(ops, { branch: request.branch });
  if (opsCommit === undefined) throw new UserError(`the ops repo (${ops.url}) has no default branch to read the config from`);
  const { config, configFile } = await workspace.config(opsCommit);
  const known = [OPS_REPO, ...Object.keys(config.repos ?? {})];
  if (!known.includes(request.repo)) throw new UserError(`unknown repo "${request.repo}"${suggestion(request.repo, known)}; ${configFile} lists ${known.join(', ')} ("${OPS_REPO}" is the ops repo)`);
  const pushed = await workspace.repo(request.repo, config);
  if (pushed === undefined) throw new UserError(`cannot read repo "${request.repo}": ${workspace.warnings.at(-1) ?? 'not found'}`);

  const after = request.closed !== true && isCommit(request.to) ? await mustCommit(pushed, request.to) : undefined;
  const before = isCommit(request.from) ? await mustCommit(pushed, request.from) : undefined;
  const branches = await pushed.branches();
  if (after !== undefined && !branches.has(request.branch)) {
    throw new UserError(`repo "${request.repo}" has no branch "${request.branch}"${suggestion(request.branch, [...branches.keys()])}; push it first, or check the name`);
  }
  const push: Push = { repo: request.repo, branch: request.branch, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) };

  const remaining = new Set(branches.keys());
  if (after === undefined) remaining.delete(request.branch);
  const branchElsewhere = after === undefined && request.closed !== true ? await livesElsewhere(workspace, config, request, opsBranches) : false;
  const { targets, notes } = planTargets({
    config,
    configFile,
    push,
    pushedRepo: { branches: remaining, defaultBranch: await pushed.defaultBranch() },
    branchElsewhere,
    ...(options.current === undefined ? {} : { current: options.current }),
  });

  const without = after === undefined ? { without: { repo: request.repo, branch: request.branch } } : {};
  const environments: EnvironmentPlan[] = [];
  for (const target of targets) {
    if (target.teardown === true) {
      const plan = planEnvironment(target, {}, options.current);
      if (plan !== undefined) environments.push(plan);
      continue;
    }
    const branch = target.branch === undefined ? {} : { branch: target.branch };
    const afterState = await workspace.state({ ...branch, ...without, ...(after === undefined ? {} : { commits: { [request.repo]: after } }) });
    const beforeState = before === undefined ? undefined : await workspace.state({ ...branch, commits: { [request.repo]: before } });
    const baseBranch = target.preview?.mode === 'single' ? feedBranch(config.branches ?? [], target.preview.base) : undefined;
    const baseState = target.preview?.mode === 'single' ? await workspace.state(baseBranch === undefined ? {} : { branch: baseBranch }) : undefined;
    const plan = planEnvironment(
      target,
      { after: afterState, ...(beforeState === undefined ? {} : { before: beforeState }), ...(baseState === undefined ? {} : { base: baseState }) },
      options.current,
    );
    if (plan === undefined) notes.push(`"${target.name}": nothing changed for any service`);
    else environments.push(plan);
  }
  return { plan: { push, environments, notes }, warnings: workspace.warnings };
}

function isCommit(rev: string | undefined): rev is string {
  return rev !== undefined && rev !== '' && rev !== ZERO_SHA;
}

async function mustCommit(repo: CachedRepo, rev: string): Promise<string> {
  const sha = await repo.commit(rev);
  if (sha === undefined) throw new UserError(`commit ${rev} is not in repo "${repo.name}" (${repo.url}), even after fetching; check the id, or push it first`);
  return sha;
}

/** Whether a deleted branch still exists in the ops repo or another service repo. */
async function livesElsewhere(workspace: Workspace, config: Parameters<Workspace['repo']>[1], request: PushRequest, opsBranches: ReadonlyMap<string, string>): Promise<boolean> {
  if (request.repo !== OPS_REPO && opsBranches.has(request.branch)) return true;
  for (const name of Object.keys(config.repos ?? {})) {
    if (name === request.repo) continue;
    const repo = await workspace.repo(name, config);
    if (repo !== undefined && (await repo.branches()).has(request.branch)) return true;
  }
  return false;
}
