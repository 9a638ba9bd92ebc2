import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environmentNames, serviceFile, writeOpsRepo, type AppShape } from './generate.js';
import { measure, median } from './measure.js';

/** A plan over 1000 services should take under this long once the ops repo is loaded. */
export const PLAN_TARGET_MS = 200;

export type PlanResult =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      readonly services: number;
      /** What the push changed, in words. */
      readonly changed: string;
      /** Services the plan deploys: the one whose file changed. */
      readonly deploy: readonly string[];
      /** Reading both commits' files from git and evaluating them. */
      readonly loadMs: number;
      /** Planning alone, after both states were loaded: the first call, as one CLI run makes it. */
      readonly planMs: number;
      /** CPU time of that first call (user + system): what it costs when it has a core to itself. */
      readonly planCpuMs: number;
      /** The same, median of further calls in the same process (warmed up). */
      readonly warmPlanMs: number;
      /** `diploid plan` as a user runs it, process start to exit, with a warm clone cache. */
      readonly commandMs: number;
      /** Files evaluated in a sandbox to load the first commit, then the second (one file changed). */
      readonly evaluatedBefore: number;
      readonly evaluatedAfter: number;
    };

export interface PlanOptions {
  readonly root: string;
  readonly work: string;
  readonly runs: number;
  readonly services: number;
}

const child = fileURLToPath(new URL('./plan-child.mjs', import.meta.url));

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' },
  }).trim();
}

/**
 * Times `diploid plan` on a push to an ops repo of `services` services that changes one service's
 * image: as a whole command, and, in a process of its own on the build, the planner alone after
 * both commits were loaded. Reports "not available" when the build has no plan command.
 */
export async function benchPlan(options: PlanOptions): Promise<PlanResult> {
  if (!existsSync(join(options.root, 'dist/cli/commands/plan.js'))) return { available: false, reason: 'no `diploid plan` command in dist/' };
  for (const module of ['dist/sources/git/index.js', 'dist/plan/index.js']) {
    if (!existsSync(join(options.root, module))) return { available: false, reason: `${module} is missing: the benchmark does not know this version of the planner` };
  }
  const shape: AppShape = { services: options.services, environments: 1 };
  const environment = environmentNames(1)[0]!;
  const ops = join(options.work, `plan-ops-${options.services}`);
  writeOpsRepo(ops, shape);
  git(ops, 'init', '-q', '-b', 'main');
  git(ops, 'add', '-A');
  git(ops, 'commit', '-q', '-m', 'services');
  const from = git(ops, 'rev-parse', 'HEAD');
  const changedIndex = Math.floor(options.services / 2);
  const changedFile = join(ops, 'services', `${serviceFile(changedIndex, shape, 1).match(/name: '([^']+)'/)![1]}.js`);
  writeFileSync(changedFile, serviceFile(changedIndex, shape, 1));
  git(ops, 'commit', '-q', '-am', 'new image for one service');
  const to = git(ops, 'rev-parse', 'HEAD');

  const cache = join(options.work, 'plan-cache');
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  const args = [join(options.root, 'bin/diploid.js'), 'plan', '--repo', 'ops', '--branch', 'main', '--from', from, '--to', to, '--ops', ops, '--cache', cache, '--output', 'json'];
  const stdoutFile = join(options.work, 'plan.json');
  try {
    await measure({ args, cwd: options.work, stdoutFile });
  } catch (error) {
    return { available: false, reason: `\`diploid plan\` failed: ${error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error)}` };
  }
  const commands: number[] = [];
  for (let i = 0; i < options.runs; i++) commands.push((await measure({ args, cwd: options.work, stdoutFile })).ms);
  const output = readFileSync(stdoutFile, 'utf8');

  const inProcess: Array<{ loadMs: number; firstMs: number; firstCpuMs: number; medianMs: number; deploy: string[]; evaluatedBefore: number; evaluatedAfter: number }> = [];
  for (let i = 0; i < options.runs; i++) {
    const line = execFileSync(process.execPath, [child, options.root, ops, cache, from, to, environment, '5'], { encoding: 'utf8' });
    inProcess.push(JSON.parse(line) as (typeof inProcess)[number]);
  }
  const deploy = inProcess[0]!.deploy;
  if (!output.includes(deploy[0] ?? '\u0000')) process.stderr.write(`warning: \`diploid plan\` output does not name ${deploy.join(', ')}\n`);
  return {
    available: true,
    services: options.services,
    changed: `1 service's image (${deploy.join(', ') || 'nothing deployed!'})`,
    deploy,
    loadMs: median(inProcess.map((r) => r.loadMs)),
    planMs: median(inProcess.map((r) => r.firstMs)),
    planCpuMs: median(inProcess.map((r) => r.firstCpuMs)),
    warmPlanMs: median(inProcess.map((r) => r.medianMs)),
    commandMs: median(commands),
    evaluatedBefore: inProcess[0]!.evaluatedBefore,
    evaluatedAfter: inProcess[0]!.evaluatedAfter,
  };
}
