import { OPS_REPO } from '../plan/types.js';
import type { RepoLocations } from '../sources/git/locate.js';
import { Workspace } from '../sources/git/workspace.js';
import { RetryableError } from '../errors.js';
import type { ReconcileRequest } from './reconciler.js';
import { resyncRequests, type RepoHeads } from './requests.js';
import type { StatusStore } from './status-store.js';

/**
 * Reads every repo's branch heads from git (a fetch of each mirror: `git ls-remote`'s truth,
 * not what webhooks said) and turns them into reconcile requests. Webhooks can be lost; this
 * cannot, so a missed delivery only delays a deploy.
 */
export async function readResyncRequests(options: { ops: string; locations: RepoLocations; cacheDir: string; store: StatusStore }): Promise<ReconcileRequest[]> {
  const workspace = new Workspace({ cacheDir: options.cacheDir, ops: options.ops, locations: options.locations });
  const ops = await workspace.ops();
  const opsDefault = await ops.defaultBranch();
  const opsHeads = await ops.branches();
  const head = opsHeads.get(opsDefault);
  if (head === undefined) throw new RetryableError(`the ops repo has no branch "${opsDefault}" to read the config from`);
  const { config } = await workspace.config(head);
  const repos: RepoHeads[] = [{ repo: OPS_REPO, defaultBranch: opsDefault, heads: opsHeads }];
  for (const name of Object.keys(config.repos ?? {}).sort()) {
    const repo = await workspace.repo(name, config);
    // A repo that cannot be fetched now: its branches are unknown, so nothing of it is torn down.
    if (repo === undefined) throw new RetryableError(`resync: ${workspace.warnings.at(-1) ?? `cannot read repo "${name}"`}`);
    repos.push({ repo: name, defaultBranch: await repo.defaultBranch(), heads: await repo.branches() });
  }
  return resyncRequests(config, repos, await options.store.list());
}
