import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { globSync } from 'tinyglobby';
import { UserError, type ConfigProblem } from '../errors.js';
import type { AppSources } from '../resolve/sources.js';
import { loadModule, ModuleLoadError } from './load-module.js';

export const CONFIG_FILE_NAMES = ['.diploid.conf.js', '.diploid.conf.mjs', '.diploid.conf.ts', '.diploid.conf.mts'];
export const SERVICE_FILE_NAMES = ['diploid.service.js', 'diploid.service.mjs', 'diploid.service.ts', 'diploid.service.mts'];
/** Service files of the ops repo; files starting with `_` are left for shared fragments. */
export const DEFAULT_SERVICE_GLOBS = ['services/**/[!_]*.{js,mjs,ts,mts}'];

export interface LoadOptions {
  /** A folder holding one sub-folder per service repo, named as in `repos`. */
  readonly reposDir?: string;
}

export interface LoadedApp {
  readonly root: string;
  readonly sources: AppSources;
  /** Things that did not stop loading but that the user should know, e.g. a repo not found locally. */
  readonly warnings: readonly string[];
  /** Files that could not be evaluated; reported together with the validation's problems. */
  readonly problems: readonly ConfigProblem[];
}

/** Reads an ops repo (and the service repos it names) from folders on disk. */
export async function loadOpsDir(opsDir: string, options: LoadOptions = {}): Promise<LoadedApp> {
  const root = resolve(opsDir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UserError(`${opsDir} is not a folder; pass the ops repo's folder`);
  const configName = CONFIG_FILE_NAMES.find((name) => existsSync(join(root, name)));
  if (configName === undefined) throw new UserError(`no ${CONFIG_FILE_NAMES[0]} in ${root} (also looked for ${CONFIG_FILE_NAMES.slice(1).join(', ')}); is this the ops repo?`);

  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const display = (path: string) => relative(process.cwd(), path).split(sep).join('/') || path;
  const report = (path: string, outcome: Outcome): unknown => {
    if ('value' in outcome) return outcome.value;
    const error = outcome.error;
    problems.push({ file: display(path), path: '', message: `cannot be loaded: ${error.message}`, ...(error.line === undefined ? {} : { line: error.line }) });
    return undefined;
  };
  const load = async (path: string): Promise<unknown> => report(path, await settle(path));

  const configPath = join(root, configName);
  const configValue = await load(configPath);
  const raw = (typeof configValue === 'object' && configValue !== null ? configValue : {}) as { services?: unknown; repos?: unknown };
  const globs = Array.isArray(raw.services) && raw.services.every((item) => typeof item === 'string') ? (raw.services as string[]) : DEFAULT_SERVICE_GLOBS;

  const services: Array<AppSources['services'][number]> = [];
  const files = globSync(globs, { cwd: root, absolute: true }).sort();
  const outcomes = await settleAll(files);
  files.forEach((file, index) => {
    const value = report(file, outcomes[index]!);
    if (value !== undefined) services.push({ document: { file: display(file), value }, origin: { kind: 'ops' } });
  });
  const repos = typeof raw.repos === 'object' && raw.repos !== null ? (raw.repos as Record<string, { local?: unknown; serviceFile?: unknown }>) : {};
  for (const [name, repo] of Object.entries(repos).sort(([a], [b]) => a.localeCompare(b))) {
    const folder = options.reposDir !== undefined ? join(resolve(options.reposDir), name) : typeof repo?.local === 'string' ? resolve(root, repo.local) : undefined;
    if (folder === undefined || !existsSync(folder)) {
      warnings.push(`repo "${name}": ${folder === undefined ? 'no local folder (set repos.' + name + '.local or pass --repos DIR)' : `folder ${display(folder)} not found`}; its own service file was not read`);
      continue;
    }
    const candidates = typeof repo?.serviceFile === 'string' ? [repo.serviceFile] : SERVICE_FILE_NAMES;
    const serviceFile = candidates.map((candidate) => join(folder, candidate)).find((path) => existsSync(path));
    if (serviceFile === undefined) {
      if (typeof repo?.serviceFile === 'string') problems.push({ file: display(configPath), path: `repos.${name}.serviceFile`, message: `${repo.serviceFile} does not exist in ${display(folder)}` });
      continue;
    }
    const value = await load(serviceFile);
    if (value !== undefined) services.push({ document: { file: display(serviceFile), value }, origin: { kind: 'repo', repo: name } });
  }
  return { root, sources: { config: { file: display(configPath), value: configValue }, services }, warnings, problems };
}

type Outcome = { readonly value: unknown } | { readonly error: ModuleLoadError };

async function settle(path: string): Promise<Outcome> {
  try {
    return { value: await loadModule(path) };
  } catch (error) {
    if (!(error instanceof ModuleLoadError)) throw error;
    return { error };
  }
}

/** Files evaluated at once: enough to keep Node's module loader busy, few enough for open files. */
const CONCURRENCY = 32;

/**
 * Evaluates the files several at a time (each import waits on Node's loader thread; overlapping
 * them halves the time for 1000 service files) and returns their outcomes in the files' order.
 */
async function settleAll(paths: readonly string[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array<Outcome>(paths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const index = next++;
      outcomes[index] = await settle(paths[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, paths.length) }, worker));
  return outcomes;
}
