/**
 * Which ops repo, environment and branch `diploid up` works on, read from the folder it is given:
 * an ops repo, or a folder holding one as `ops/` (as examples/shop does).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import type { ConfigSpec } from '../../model/config.js';
import { feedBranch, matchBranch } from '../../plan/branch-rules.js';

/** The ops folder in `dir`: `dir` itself when it has `.diploid.conf.js`, else `dir/ops`. */
export function opsFolder(dir: string): string {
  const candidates = [resolve(dir), resolve(dir, 'ops')];
  const found = candidates.find((candidate) => existsSync(join(candidate, '.diploid.conf.js')));
  if (found === undefined) throw new UserError(`no .diploid.conf.js in ${candidates.join(' or ')}: diploid up takes an ops repo, or a folder with one in ops/ (such as examples/shop)`);
  return found;
}

/** The folder that may hold `bed-images.json`: the one given (examples/shop), or the ops folder's parent when given the ops folder. */
export function exampleDir(dir: string, opsDir: string): string {
  return resolve(dir) === opsDir ? dirname(opsDir) : resolve(dir);
}

/** The environment to bring up and the branch that feeds it: by default the one `main` deploys to. Pure. */
export function environmentAndBranch(config: ConfigSpec, wanted: string | undefined, file: string): { environment: string; branch: string } {
  const names = Object.keys(config.environments ?? {});
  const rules = config.branches ?? [];
  const environment = wanted ?? matchBranch(rules, 'main')?.rule.environment ?? names[0];
  if (environment === undefined || !names.includes(environment)) {
    throw new UserError(`${file}: ${wanted === undefined ? 'no environment to bring up' : `no environment "${wanted}"`}; environments: ${names.join(', ') || '(none)'}`);
  }
  const branch = feedBranch(rules, environment);
  if (branch === undefined) throw new UserError(`${file} branches: no branch feeds environment "${environment}" (a rule { branch: 'NAME', environment: '${environment}' } with an exact name)`);
  return { environment, branch };
}

/** The local folder of each service repo (`repos.<name>.local`), which `up` pushes. */
export function repoFolders(config: ConfigSpec, opsDir: string, file: string): Array<{ name: string; path: string; folder: string }> {
  return Object.entries(config.repos ?? {}).map(([name, repo]) => {
    if (repo.local === undefined) throw new UserError(`${file} repos.${name}: diploid up pushes each repo from its local folder; expected repos.${name}.local`);
    const folder = resolve(opsDir, repo.local);
    if (!existsSync(folder)) throw new UserError(`${file} repos.${name}.local: ${folder} does not exist`);
    return { name, path: repo.path, folder };
  });
}
