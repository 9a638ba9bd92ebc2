import type { ConfigProblem } from '../errors.js';
import type { AppSources, SourceDocument } from '../resolve/sources.js';
import { isDataFile, parseDataFile } from './data-file.js';
import { EvaluationCache } from './evaluation-cache.js';
import { DEFAULT_SANDBOX_LIMITS, SandboxSession, type Evaluation, type SandboxLimits } from './sandbox/sandbox.js';
import type { RepoTree } from './trees.js';

export const CONFIG_FILE_NAMES = ['.diploid.conf.js', '.diploid.conf.mjs', '.diploid.conf.ts', '.diploid.conf.mts'];
/** A service repo's own file: code first (as before), then data-only files. */
export const SERVICE_FILE_NAMES = [
  'diploid.service.js',
  'diploid.service.mjs',
  'diploid.service.ts',
  'diploid.service.mts',
  'diploid.service.json',
  'diploid.service.yaml',
  'diploid.service.yml',
];
/** Service files of the ops repo; files starting with `_` are left for shared fragments. */
export const DEFAULT_SERVICE_GLOBS = ['services/**/[!_]*.{js,mjs,ts,mts,json,yaml,yml}'];

/** What the loader needs to know of a repo entry before the config is validated. */
export interface RawRepo {
  readonly serviceFile?: unknown;
  readonly dataOnly?: unknown;
  readonly local?: unknown;
}

/** A service repo's tree, or why there is none (shown as a warning). */
export type RepoTreeLookup = { readonly tree: RepoTree } | { readonly missing: string };

export interface LoadAppOptions {
  readonly ops: RepoTree;
  /** The tree of a service repo named in the config (with its entry, not yet validated); once per repo. */
  readonly repo: (name: string, settings: RawRepo) => Promise<RepoTreeLookup>;
  readonly cache?: EvaluationCache;
  readonly limits?: SandboxLimits;
  /** The config's file name in the ops tree; found among `CONFIG_FILE_NAMES` when not given. */
  readonly configFile?: string;
  /** Only the config: no service files, no service repos. */
  readonly configOnly?: boolean;
  /**
   * Hears each service file of the ops repo the sandbox evaluates, as soon as its result arrives
   * (files from the cache or parsed here are not announced): `render` validates them meanwhile.
   */
  readonly onServiceDocument?: (document: SourceDocument) => void;
}

export interface LoadedApp {
  readonly sources: AppSources;
  /** Things that did not stop loading but that the user should know, e.g. a repo not found. */
  readonly warnings: readonly string[];
  /** Files that could not be evaluated; reported together with the validation's problems. */
  readonly problems: readonly ConfigProblem[];
}

/** One cache for the process: evaluated results are reused while their files are unchanged. */
const sharedCache = new EvaluationCache();

/**
 * Reads an ops repo and the service repos it names. Every code file is evaluated in a sandbox,
 * one per repo, so files of one repo never share a process with another repo's; data files are
 * parsed here. A repo marked `dataOnly` in the config may not bring code at all.
 */
export async function loadApp(options: LoadAppOptions): Promise<LoadedApp> {
  const cache = options.cache ?? sharedCache;
  const limits = options.limits ?? DEFAULT_SANDBOX_LIMITS;
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const { ops } = options;

  const configFile = options.configFile ?? (await findFirst(ops, CONFIG_FILE_NAMES));
  if (configFile === undefined) throw new MissingConfigError(ops.label);
  // One sandbox process for the ops repo: its config, then its service files.
  const session = new SandboxSession(ops, limits);
  const services: Array<AppSources['services'][number]> = [];
  let raw: { services?: unknown; repos?: unknown };
  let config: AppSources['config'];
  try {
    const [configOutcome] = await evaluateFiles(session, ops, [configFile], cache);
    const configValue = report(problems, ops, configFile, configOutcome!);
    config = { file: ops.label + configFile, value: configValue };
    if (options.configOnly === true) return { sources: { config, services: [] }, warnings, problems };
    raw = (isObject(configValue) ? configValue : {}) as { services?: unknown; repos?: unknown };
    const globs = Array.isArray(raw.services) && raw.services.every((item) => typeof item === 'string') ? (raw.services as string[]) : DEFAULT_SERVICE_GLOBS;

    const opsFiles = await ops.glob(globs);
    const announce = options.onServiceDocument;
    const opsOutcomes = await evaluateFiles(session, ops, opsFiles, cache, announce && ((file, outcome) => outcome.ok && announce({ file: ops.label + file, value: outcome.value })));
    opsFiles.forEach((file, index) => {
      const value = report(problems, ops, file, opsOutcomes[index]!);
      if (value !== undefined) services.push({ document: { file: ops.label + file, value }, origin: { kind: 'ops' } });
    });
  } finally {
    session.close();
  }

  const repos = (isObject(raw.repos) ? raw.repos : {}) as Record<string, RawRepo | undefined>;
  const names = Object.keys(repos).sort();
  const loadedRepos = await Promise.all(
    names.map(async (name) => {
      const lookup = await options.repo(name, repos[name] ?? {});
      if ('missing' in lookup) return { name, warning: lookup.missing, problems: [] };
      return { name, warning: '', ...(await loadRepoFile(lookup.tree, name, repos[name] ?? {}, ops.label + configFile, cache, limits)) };
    }),
  );
  for (const loaded of loadedRepos) {
    if (loaded.warning !== '') warnings.push(loaded.warning);
    problems.push(...loaded.problems);
    if ('document' in loaded && loaded.document !== undefined) services.push({ document: loaded.document, origin: { kind: 'repo', repo: loaded.name } });
  }
  return { sources: { config, services }, warnings, problems };
}

/** The config file is missing: the caller says where it looked. */
export class MissingConfigError extends Error {
  override readonly name = 'MissingConfigError';
  constructor(readonly label: string) {
    super(`no ${CONFIG_FILE_NAMES[0]}`);
  }
}

async function loadRepoFile(
  tree: RepoTree,
  name: string,
  repo: RawRepo,
  configFile: string,
  cache: EvaluationCache,
  limits: SandboxLimits,
): Promise<{ problems: ConfigProblem[]; document?: { file: string; value: unknown } }> {
  const problems: ConfigProblem[] = [];
  const explicit = typeof repo.serviceFile === 'string' ? repo.serviceFile : undefined;
  const file = explicit !== undefined ? ((await tree.contentId(explicit)) === undefined ? undefined : explicit) : await findFirst(tree, SERVICE_FILE_NAMES);
  if (file === undefined) {
    if (explicit !== undefined) problems.push({ file: configFile, path: `repos.${name}.serviceFile`, message: `${explicit} does not exist in repo "${name}"` });
    return { problems };
  }
  if (repo.dataOnly === true && !isDataFile(file)) {
    problems.push({ file: tree.label + file, path: '', message: `repo "${name}" may bring only data files (repos.${name}.dataOnly in ${configFile}): write diploid.service.json or diploid.service.yaml instead` });
    return { problems };
  }
  const session = new SandboxSession(tree, limits);
  const [outcome] = await evaluateFiles(session, tree, [file], cache).finally(() => session.close());
  const value = report(problems, tree, file, outcome!);
  return value === undefined ? { problems } : { problems, document: { file: tree.label + file, value } };
}

/** Evaluates files of one tree: cached results first, data files here, code in the tree's sandbox session. */
async function evaluateFiles(
  session: SandboxSession,
  tree: RepoTree,
  files: readonly string[],
  cache: EvaluationCache,
  onEvaluated?: (file: string, outcome: Evaluation) => void,
): Promise<Evaluation[]> {
  const outcomes: Array<Evaluation | undefined> = await Promise.all(files.map((file) => cache.get(tree, file)));
  const code: string[] = [];
  for (const [index, file] of files.entries()) {
    if (outcomes[index] !== undefined) continue;
    if (isDataFile(file)) {
      const text = await tree.read(file);
      outcomes[index] = text === undefined ? { ok: false, message: 'cannot be read' } : await parseDataFile(file, text);
      await cache.set(tree, file, outcomes[index]);
    } else code.push(file);
  }
  if (code.length > 0) {
    const evaluated = await session.evaluate(code, onEvaluated);
    await Promise.all(code.map((file, index) => cache.set(tree, file, evaluated[index]!)));
    const byFile = new Map(code.map((file, index) => [file, evaluated[index]!]));
    files.forEach((file, index) => (outcomes[index] ??= byFile.get(file)));
  }
  return outcomes as Evaluation[];
}

function report(problems: ConfigProblem[], tree: RepoTree, file: string, outcome: Evaluation): unknown {
  if (outcome.ok) return outcome.value;
  problems.push({ file: tree.label + file, path: '', message: `cannot be loaded: ${outcome.message}`, ...(outcome.line === undefined ? {} : { line: outcome.line }) });
  return undefined;
}

async function findFirst(tree: RepoTree, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) if ((await tree.contentId(name)) !== undefined) return name;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
