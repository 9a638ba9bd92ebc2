import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ConfigSpec } from '../../model/config.js';

/** Where repos are found, besides their git host. */
export interface RepoLocations {
  /**
   * A folder of local repos (bare or not): a repo is `<root>/<path>.git`, `<root>/<path>`,
   * `<root>/<name>.git` or `<root>/<name>`, the first that exists; `path` is `repos.<name>.path`.
   */
  readonly gitRoot?: string;
  /** Explicit URLs (or local paths) by repo name; they win over everything else. */
  readonly urls?: Readonly<Record<string, string>>;
}

const DEFAULT_HOST_URLS = { gitlab: 'https://gitlab.com', github: 'https://github.com' } as const;

/** The URL or folder git clones repo `name` from, or undefined when nothing says where it lives. */
export function locateRepo(name: string, config: Pick<ConfigSpec, 'repos' | 'git'> | undefined, locations: RepoLocations): string | undefined {
  const explicit = locations.urls?.[name];
  if (explicit !== undefined) return looksLikeUrl(explicit) ? explicit : resolve(explicit);
  const repo = config?.repos?.[name];
  if (locations.gitRoot !== undefined) {
    const root = resolve(locations.gitRoot);
    const candidates = [...(repo === undefined ? [] : [`${repo.path}.git`, repo.path]), `${name}.git`, name];
    const found = candidates.map((candidate) => join(root, candidate)).find((path) => existsSync(path));
    if (found !== undefined) return found;
  }
  if (repo === undefined) return undefined;
  const hosts = config?.git?.hosts ?? {};
  const hostName = repo.host ?? (Object.keys(hosts).length === 1 ? Object.keys(hosts)[0] : undefined);
  const host = hostName === undefined ? undefined : hosts[hostName];
  if (host === undefined) return undefined;
  return `${(host.url ?? DEFAULT_HOST_URLS[host.provider]).replace(/\/+$/, '')}/${repo.path}.git`;
}

/** Where the ops repo is: `--ops` (a folder or URL), else `ops` under the git root. */
export function locateOps(ops: string | undefined, locations: RepoLocations): string | undefined {
  if (ops !== undefined) return looksLikeUrl(ops) || isAbsolute(ops) ? ops : resolve(ops);
  return locateRepo('ops', undefined, locations);
}

function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^[^/\s]+@[^/\s]+:/.test(text);
}
