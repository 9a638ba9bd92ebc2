import { ConfigError, UserError } from '../../errors.js';
import type { ConfigSpec } from '../../model/config.js';
import { OPS_REPO, type AppState, type RepoSnapshot } from '../../plan/types.js';
import { validateSources } from '../../resolve/layers.js';
import { Problems } from '../../resolve/problems.js';
import { CONFIG_FILE_NAMES, loadApp } from '../load-app.js';
import type { GitTree } from '../trees.js';
import { GitError } from './git.js';
import { locateRepo, type RepoLocations } from './locate.js';
import { RepoCache, type CachedRepo } from './repo-cache.js';

export interface WorkspaceOptions {
  /** Folder for the mirrors; reused across runs. */
  readonly cacheDir: string;
  /** URL or folder of the ops repo. */
  readonly ops: string;
  readonly locations: RepoLocations;
}

/** Which commit of each repo a state is made of. */
export interface StateSpec {
  /** Each repo at this branch when it has it, else at its `repos.<name>.branch`, else at its default branch. */
  readonly branch?: string;
  /** Fixed commits by repo name (`ops` for the ops repo), e.g. the pushed repo's before or after. */
  readonly commits?: Readonly<Record<string, string>>;
  /** A branch that no longer counts for one repo (it was just deleted). */
  readonly without?: { readonly repo: string; readonly branch: string };
}

/** The ops repo and its service repos, read from git through a cache. Collects warnings. */
export class Workspace {
  readonly cache: RepoCache;
  readonly warnings: string[] = [];
  private readonly states = new Map<string, Promise<AppState>>();

  constructor(readonly options: WorkspaceOptions) {
    this.cache = new RepoCache(options.cacheDir);
  }

  async ops(): Promise<CachedRepo> {
    try {
      return await this.cache.open(OPS_REPO, this.options.ops);
    } catch (error) {
      if (error instanceof GitError) throw new UserError(`cannot read the ops repo from ${this.options.ops}: ${error.stderr.trim()}`, { cause: error });
      throw error;
    }
  }

  /** A service repo of `config`, or undefined (with a warning) when it cannot be found or fetched. */
  async repo(name: string, config: ConfigSpec): Promise<CachedRepo | undefined> {
    if (name === OPS_REPO) return this.ops();
    const url = locateRepo(name, config, this.options.locations);
    if (url === undefined) {
      this.warn(`repo "${name}": nowhere to read it from (pass --git-root DIR holding ${config.repos?.[name]?.path ?? name}.git, or configure its git host)`);
      return undefined;
    }
    try {
      return await this.cache.open(name, url);
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      this.warn(`repo "${name}": cannot fetch ${url}: ${error.stderr.trim().split('\n')[0]}`);
      return undefined;
    }
  }

  /** The validated ops config at a commit of the ops repo; a broken config stops the plan. */
  async config(opsCommit: string): Promise<{ config: ConfigSpec; configFile: string }> {
    const tree = await (await this.ops()).tree(opsCommit, '');
    const name = await this.configFileOf(tree, opsCommit);
    const loaded = await loadApp({ ops: tree, configFile: name, repo: async () => ({ missing: '' }), configOnly: true });
    if (loaded.problems.length > 0) throw new ConfigError(loaded.problems);
    const problems = new Problems();
    const validated = validateSources({ config: loaded.sources.config, services: [] }, problems);
    if (validated === undefined) throw new ConfigError(problems.list);
    return { config: validated.config, configFile: name };
  }

  private async configFileOf(tree: GitTree, opsCommit: string): Promise<string> {
    for (const name of CONFIG_FILE_NAMES) if ((await tree.contentId(name)) !== undefined) return name;
    throw new UserError(`the ops repo has no ${CONFIG_FILE_NAMES[0]} at ${opsCommit.slice(0, 12)} (also looked for ${CONFIG_FILE_NAMES.slice(1).join(', ')})`);
  }

  /** The head a repo contributes to a state: a fixed commit, the branch, its configured branch, or its default branch. */
  async head(repo: CachedRepo, spec: StateSpec, configured?: string): Promise<string | undefined> {
    const fixed = spec.commits?.[repo.name];
    if (fixed !== undefined) return fixed;
    const branches = await repo.branches();
    const usable = (branch: string | undefined) => branch !== undefined && !(spec.without?.repo === repo.name && spec.without.branch === branch) && branches.has(branch);
    for (const branch of [spec.branch, configured, await repo.defaultBranch()]) if (usable(branch)) return branches.get(branch as string);
    return undefined;
  }

  /** Loads the app as a state describes it; the same state is loaded once. */
  state(spec: StateSpec): Promise<AppState> {
    const key = JSON.stringify([spec.branch ?? null, Object.entries(spec.commits ?? {}).sort(), spec.without ?? null]);
    let state = this.states.get(key);
    if (state === undefined) {
      state = this.loadState(spec);
      this.states.set(key, state);
    }
    return state;
  }

  private async loadState(spec: StateSpec): Promise<AppState> {
    const ops = await this.ops();
    const opsCommit = await this.head(ops, spec);
    if (opsCommit === undefined) throw new UserError(`the ops repo (${ops.url}) has no branch to read: neither "${spec.branch}" nor its default branch exists`);
    const { config, configFile } = await this.config(opsCommit);
    const snapshots: Record<string, RepoSnapshot> = { [OPS_REPO]: await ops.snapshot(opsCommit) };
    const trees: Record<string, GitTree> = {};
    for (const [name, settings] of Object.entries(config.repos ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const repo = await this.repo(name, config);
      if (repo === undefined) continue;
      const commit = await this.head(repo, spec, settings.branch);
      if (commit === undefined) {
        this.warn(`repo "${name}" has none of the branches ${[spec.branch, settings.branch, 'its default'].filter(Boolean).join(', ')}; its own service file was not read`);
        continue;
      }
      snapshots[name] = await repo.snapshot(commit);
      trees[name] = await repo.tree(commit, `repo:${name}/`);
    }
    // The config was read above from the same commit: the loader's cache answers for it.
    const loaded = await loadApp({
      ops: await ops.tree(opsCommit, ''),
      configFile,
      repo: async (name) => {
        const tree = trees[name];
        return tree === undefined ? { missing: '' } : { tree };
      },
    });
    for (const warning of loaded.warnings) if (warning !== '') this.warn(warning);
    return { sources: loaded.sources, repos: snapshots, problems: loaded.problems };
  }

  private warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }
}
