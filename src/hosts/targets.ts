import type { ConfigSpec, GitHostConfig } from '../model/config.js';
import { UserError } from '../errors.js';
import { OPS_REPO } from '../plan/types.js';
import type { RepoRef } from './types.js';

/** A repo of the ops config together with the host it lives on. */
export interface RepoTarget {
  readonly hostName: string;
  readonly host: GitHostConfig;
  readonly repo: RepoRef;
}

/** A problem with a repo's host or path, located in the ops config (`repos.app.path`). */
export interface TargetProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Pairs the ops repo (when `ops` says where it lives) and every entry of `repos` with its entry of `git.hosts`: the one it names, or the only host
 * when there is one. Every problem is reported at once. Sorted by repo name, for stable output.
 */
export function resolveRepoTargets(config: Pick<ConfigSpec, 'git' | 'repos' | 'ops'>): RepoTarget[] {
  const { targets, problems } = checkRepoTargets(config);
  if (problems.length > 0) throw new UserError(problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n'));
  return targets;
}

/** What `resolveRepoTargets` finds, without throwing: for `validate`, which reports every problem with its file. Pure. */
export function checkRepoTargets(config: Pick<ConfigSpec, 'git' | 'repos' | 'ops'>): { targets: RepoTarget[]; problems: TargetProblem[] } {
  const hosts = config.git?.hosts ?? {};
  const hostNames = Object.keys(hosts).sort();
  const problems: TargetProblem[] = [];
  const targets: RepoTarget[] = [];
  // The ops repo is a repo like the others, named `ops` as the planner knows it.
  const entries = [...(config.ops === undefined ? [] : [[OPS_REPO, config.ops] as const]), ...Object.entries(config.repos ?? {}).sort(([a], [b]) => a.localeCompare(b))];
  for (const [name, repo] of entries) {
    const at = name === OPS_REPO ? 'ops' : `repos.${name}`;
    let hostName = repo.host;
    if (hostName === undefined) {
      if (hostNames.length === 1) hostName = hostNames[0];
      else if (hostNames.length === 0) {
        problems.push({ path: at, message: 'no git host is configured; add one under git.hosts' });
        continue;
      } else {
        problems.push({ path: at, message: `set host to one of ${hostNames.join(', ')} (there is more than one git host)` });
        continue;
      }
    }
    // Own keys only: `host: 'constructor'` names no host, whatever every object inherits.
    const host = hostName === undefined || !Object.hasOwn(hosts, hostName) ? undefined : hosts[hostName];
    if (hostName === undefined || host === undefined) {
      problems.push({ path: `${at}.host`, message: `unknown git host "${hostName}"; expected one of ${hostNames.join(', ') || '(none configured)'}` });
      continue;
    }
    const pathProblem = repoPathProblem(host.provider, repo.path);
    if (pathProblem !== undefined) {
      problems.push({ path: `${at}.path`, message: pathProblem });
      continue;
    }
    targets.push({ hostName, host, repo: { name, path: repo.path } });
  }
  return { targets, problems };
}

/** A GitHub path is `owner/name`; a GitLab path `group/project` (subgroups allowed). Pure. */
function repoPathProblem(provider: GitHostConfig['provider'], path: string): string | undefined {
  const parts = path.split('/');
  const empty = parts.some((part) => part === '' || part === '.' || part === '..');
  if (provider === 'github' && (parts.length !== 2 || empty)) return `"${path}" is not a GitHub repository path; expected "owner/name" (e.g. "acme/${parts.at(-1) || 'app'}")`;
  if (provider === 'gitlab' && (parts.length < 2 || empty)) return `"${path}" is not a GitLab project path; expected "group/project" (subgroups allowed: "group/sub/project")`;
  return undefined;
}
