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

/**
 * Pairs the ops repo (when `ops` says where it lives) and every entry of `repos` with its entry of `git.hosts`: the one it names, or the only host
 * when there is one. Every problem is reported at once. Sorted by repo name, for stable output.
 */
export function resolveRepoTargets(config: Pick<ConfigSpec, 'git' | 'repos' | 'ops'>): RepoTarget[] {
  const hosts = config.git?.hosts ?? {};
  const hostNames = Object.keys(hosts).sort();
  const problems: string[] = [];
  const targets: RepoTarget[] = [];
  // The ops repo is a repo like the others, named `ops` as the planner knows it.
  const entries = [...(config.ops === undefined ? [] : [[OPS_REPO, config.ops] as const]), ...Object.entries(config.repos ?? {}).sort(([a], [b]) => a.localeCompare(b))];
  for (const [name, repo] of entries) {
    const at = name === OPS_REPO ? 'ops' : `repos.${name}`;
    let hostName = repo.host;
    if (hostName === undefined) {
      if (hostNames.length === 1) hostName = hostNames[0];
      else if (hostNames.length === 0) {
        problems.push(`${at}: no git host is configured; add one under git.hosts`);
        continue;
      } else {
        problems.push(`${at}: set host to one of ${hostNames.join(', ')} (there is more than one git host)`);
        continue;
      }
    }
    // Own keys only: `host: 'constructor'` names no host, whatever every object inherits.
    const host = hostName === undefined || !Object.hasOwn(hosts, hostName) ? undefined : hosts[hostName];
    if (hostName === undefined || host === undefined) {
      problems.push(`${at}.host: unknown git host "${hostName}"; expected one of ${hostNames.join(', ') || '(none configured)'}`);
      continue;
    }
    targets.push({ hostName, host, repo: { name, path: repo.path } });
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  return targets;
}
