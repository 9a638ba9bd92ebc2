import { ConfigError } from '../errors.js';
import type { ConfigSpec } from '../model/config.js';
import { checkBranchRules, feedBranch, matchBranch } from './branch-rules.js';
import { previewName } from './preview-name.js';
import type { CurrentEnvironment, PlanTarget, Push } from './types.js';

export interface TargetInput {
  readonly config: ConfigSpec;
  readonly configFile: string;
  readonly push: Push;
  /** The pushed repo after the push: its branches and its default branch. */
  readonly pushedRepo: { readonly branches: ReadonlySet<string>; readonly defaultBranch: string };
  /** For a deleted branch: whether another repo (ops included) still has a branch of that name. */
  readonly branchElsewhere?: boolean;
  readonly current?: readonly CurrentEnvironment[];
}

/**
 * The environments a push concerns. The branch's first matching rule picks one (an environment
 * or a preview); unmatched branches are ignored. A push to a repo's default branch also reaches
 * every environment whose branch that repo does not have, since there the repo falls back to
 * its default branch.
 */
export function planTargets(input: TargetInput): { targets: PlanTarget[]; notes: string[] } {
  const { config, configFile, push } = input;
  const problems = checkBranchRules(config, configFile);
  if (problems.length > 0) throw new ConfigError(problems);
  const rules = config.branches ?? [];
  const targets: PlanTarget[] = [];
  const notes: string[] = [];
  const deleted = push.after === undefined;
  const match = matchBranch(rules, push.branch);
  const where = `branches[${match?.index}] of ${configFile}`;

  if (match === undefined) {
    notes.push(`branch "${push.branch}" matches no rule under branches in ${configFile}; it deploys nowhere`);
  } else if (match.rule.environment !== undefined) {
    if (deleted) notes.push(`branch "${push.branch}" of ${push.repo} was deleted; environment "${match.rule.environment}" stays as it is (only previews are torn down)`);
    else targets.push({ name: match.rule.environment, branch: push.branch, reason: `branch "${push.branch}" deploys to "${match.rule.environment}" (${where})` });
  } else if (match.rule.preview !== undefined) {
    const { mode, base, ttl } = match.rule.preview;
    const preview = { mode, base, ...(ttl === undefined ? {} : { ttl }) };
    const existing = input.current?.find((env) => env.preview !== undefined && env.branch === push.branch);
    const names = existing ?? previewName(push.branch, { project: config.project, reserved: Object.keys(config.environments), existing: previewOwners(input.current) });
    if (deleted && input.branchElsewhere !== true) {
      targets.push({ name: names.name, namespace: names.namespace, branch: push.branch, preview, teardown: true, reason: `branch "${push.branch}" is gone from every repo: its preview is torn down` });
    } else {
      const why = deleted ? `branch "${push.branch}" was deleted from ${push.repo} but lives on in another repo` : `branch "${push.branch}" gets a ${mode} preview based on "${base}" (${where})`;
      targets.push({ name: names.name, namespace: names.namespace, branch: push.branch, preview, reason: why });
    }
  }

  if (!deleted && push.branch === input.pushedRepo.defaultBranch) {
    for (const name of Object.keys(config.environments)) {
      if (targets.some((target) => target.name === name)) continue;
      const fed = feedBranch(rules, name);
      const ruled = rules.some((rule) => rule.environment === name);
      if (fed !== undefined && fed !== push.branch && !input.pushedRepo.branches.has(fed)) {
        targets.push({ name, branch: fed, reason: `${push.repo} has no branch "${fed}", so "${name}" takes its default branch "${push.branch}"` });
      } else if (!ruled) {
        targets.push({ name, reason: `no branch rule targets "${name}": it takes every repo's default branch` });
      }
    }
    for (const env of input.current ?? []) {
      if (env.preview?.mode !== 'full' || env.branch === undefined || input.pushedRepo.branches.has(env.branch)) continue;
      if (targets.some((target) => target.name === env.name)) continue;
      targets.push({ name: env.name, namespace: env.namespace, branch: env.branch, preview: env.preview, reason: `${push.repo} has no branch "${env.branch}", so the preview takes its default branch "${push.branch}"` });
    }
  }
  return { targets, notes };
}

/** Previews to tear down because their branch saw no push for longer than their `ttl`. `now` is passed in: the core reads no clock. */
export function expiredPreviews(current: readonly CurrentEnvironment[], now: Date): PlanTarget[] {
  const expired: PlanTarget[] = [];
  for (const env of current) {
    const ttl = env.preview?.ttl;
    if (env.preview === undefined || ttl === undefined || env.updatedAt === undefined) continue;
    const age = now.getTime() - Date.parse(env.updatedAt);
    if (age > durationMs(ttl)) {
      expired.push({ name: env.name, namespace: env.namespace, branch: env.branch ?? env.name, preview: env.preview, teardown: true, reason: `no push for longer than its ttl (${ttl})` });
    }
  }
  return expired;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(duration: string): number {
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (match === null) return Number.POSITIVE_INFINITY;
  return Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1_000);
}

function previewOwners(current: readonly CurrentEnvironment[] | undefined): Map<string, string> {
  const owners = new Map<string, string>();
  for (const env of current ?? []) if (env.preview !== undefined && env.branch !== undefined) owners.set(env.name, env.branch);
  return owners;
}
