import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { formatPlan } from '../../plan/format.js';
import { OPS_REPO, type CurrentEnvironment } from '../../plan/types.js';
import { locateOps } from '../../sources/git/locate.js';
import { planPush } from '../../sources/git/plan-push.js';
import type { Output } from '../output.js';
import { collect, defaultCacheDir, parseRepoUrl } from '../options.js';

interface PlanOptions {
  repo?: string;
  branch?: string;
  from?: string;
  to?: string;
  deleted?: boolean;
  closed?: boolean;
  ops?: string;
  gitRoot?: string;
  repoUrl: string[];
  cache?: string;
  current?: string;
  output: 'text' | 'json';
}

const currentSchema = z.array(
  z.object({
    name: z.string(),
    namespace: z.string(),
    branch: z.string().optional(),
    preview: z.object({ mode: z.enum(['full', 'single']), base: z.string(), ttl: z.string().optional() }).optional(),
    updatedAt: z.string().optional(),
  }),
);

export function registerPlanCommand(program: Command, output: Output): void {
  program
    .command('plan')
    .description('Show what a push changes: environments to create, update or delete, images to build, services to deploy or reuse.')
    .option('--repo <name>', `the pushed repo: a name under repos, or "${OPS_REPO}" for the ops repo`)
    .option('--branch <name>', 'the pushed branch')
    .option('--from-scratch [ops-dir]', 'instead: what rebuilding the cluster from the ops repo (default: .) needs from outside git')
    .option('--from <sha>', 'the branch head before the push (omit, or all zeros, for a new branch)')
    .option('--to <sha>', 'the branch head after the push')
    .option('--deleted', 'the branch was deleted (same as --to 0000000...)')
    .option('--closed', "the branch's merge/pull request was merged or closed: tear its preview down")
    .option('--ops <dir|url>', `the ops repo (a git folder or URL); default: ${OPS_REPO}.git or ${OPS_REPO} under --git-root`)
    .option('--git-root <dir>', 'folder of local repos: <dir>/<path>.git, <dir>/<path>, <dir>/<name>.git or <dir>/<name>')
    .option('--repo-url <name=url>', 'where a repo is cloned from (repeatable); wins over --git-root and git.hosts', collect, [])
    .option('--cache <dir>', 'cache of clones and checked-out trees (default: $DIPLOID_CACHE or ~/.cache/diploid)')
    .option('--current <file>', 'JSON list of the environments that exist now ({ name, namespace, branch, preview, updatedAt })')
    .addOption(new Option('-o, --output <format>', 'format').choices(['text', 'json']).default('text'))
    .action(async (options: PlanOptions & { fromScratch?: string | true }) => {
      if (options.fromScratch !== undefined) return (await import('./from-scratch.js')).printRebuildPlan(options.fromScratch === true ? '.' : options.fromScratch, options.output, output);
      if (options.repo === undefined || options.branch === undefined) throw new UserError('pass --repo NAME and --branch BRANCH (the push to plan), or --from-scratch');
      if (options.to === undefined && options.deleted !== true && options.closed !== true) throw new UserError('pass --to SHA (the new head), or --deleted / --closed');
      const urls = Object.fromEntries(options.repoUrl.map(parseRepoUrl));
      const locations = { ...(options.gitRoot === undefined ? {} : { gitRoot: options.gitRoot }), urls };
      const ops = urls[OPS_REPO] ?? locateOps(options.ops, locations);
      if (ops === undefined) throw new UserError(`where is the ops repo? pass --ops DIR|URL, or --git-root DIR holding ${OPS_REPO}.git`);
      const { plan, warnings } = await planPush({
        // Absolute here, at the edge: the cache holds symlinks and worktrees that git resolves from other folders.
        cacheDir: resolve(options.cache ?? defaultCacheDir()),
        ops,
        locations,
        push: {
          repo: options.repo,
          branch: options.branch,
          ...(options.from === undefined ? {} : { from: options.from }),
          ...(options.to === undefined || options.deleted === true ? {} : { to: options.to }),
          ...(options.closed === true ? { closed: true } : {}),
        },
        ...(options.current === undefined ? {} : { current: readCurrent(options.current) }),
      });
      for (const warning of warnings) output.err(`warning: ${warning}\n`);
      output.out(options.output === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
      const failed = plan.environments.filter((env) => env.action === 'failed').map((env) => env.name);
      if (failed.length > 0) throw new UserError(`${failed.join(', ')} cannot be deployed from this push: ${failed.length === 1 ? 'its' : 'their'} configuration has problems (listed above)`);
    });
}

function readCurrent(file: string): CurrentEnvironment[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserError(`cannot read --current ${file}: ${(error as Error).message}`);
  }
  const parsed = currentSchema.safeParse(value);
  if (!parsed.success) throw new UserError(`--current ${file}: expected a list of { name, namespace, branch?, preview?, updatedAt? }: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data as CurrentEnvironment[];
}
