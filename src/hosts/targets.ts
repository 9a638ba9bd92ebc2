import type { ConfigSpec, GitHostConfig } from '../model/config.js';
import { UserError } from '../errors.js';
import type { RepoRef } from './types.js';

/** A repo of the ops config together with the host it lives on. */
export interface RepoTarget {
  readonly hostName: string;
  readonly host: GitHostConfig;
  readonly repo: RepoRef;
}

/**
 * Pairs every entry of `repos` with its entry of `git.hosts`: the one it names, or the only host
 * when there is one. Every problem is reported at once. Sorted by repo name, for stable output.
 */
export function resolveRepoTargets(config: Pick<ConfigSpec, 'git' | 'repos'>): RepoTarget[] {
  const hosts = config.git?.hosts ?? {};
  const hostNames = Object.keys(hosts).sort();
  const problems: string[] = [];
  const targets: RepoTarget[] = [];
  for (const [name, repo] of Object.entries(config.repos ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    let hostName = repo.host;
    if (hostName === undefined) {
      if (hostNames.length === 1) hostName = hostNames[0];
      else if (hostNames.length === 0) {
        problems.push(`repos.${name}: no git host is configured; add one under git.hosts`);
        continue;
      } else {
        problems.push(`repos.${name}: set host to one of ${hostNames.join(', ')} (there is more than one git host)`);
        continue;
      }
    }
    const host = hostName === undefined ? undefined : hosts[hostName];
    if (hostName === undefined || host === undefined) {
      problems.push(`repos.${name}.host: unknown git host "${hostName}"; expected one of ${hostNames.join(', ') || '(none configured)'}`);
      continue;
    }
    targets.push({ hostName, host, repo: { name, path: repo.path } });
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  return targets;
}
