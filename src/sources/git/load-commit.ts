import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ConfigProblem } from '../../errors.js';
import { loadOpsDir, type LoadedApp } from '../load-dir.js';

/** Folders holding the files of one commit each: the ops repo and service repos by name. */
export interface CommitFolders {
  readonly ops: string;
  readonly repos: Readonly<Record<string, string>>;
}

/**
 * Loads an ops repo and its service repos from materialized commits, with the directory loader
 * (same evaluation, same messages). File names are shown relative to their repo: `services/api.js`
 * for the ops repo, `repo:<name>/<path>` for a service repo.
 */
export async function loadCommitFolders(cacheDir: string, folders: CommitFolders): Promise<LoadedApp> {
  const view = viewFolder(cacheDir, folders.repos);
  const loaded = await loadOpsDir(folders.ops, { reposDir: view });
  const labels: Array<[string, string]> = [
    ...Object.keys(folders.repos).map((name): [string, string] => [`${display(join(view, name))}/`, `repo:${name}/`]),
    [`${display(folders.ops)}/`, ''],
  ];
  const relabel = (text: string) => labels.reduce((result, [from, to]) => result.split(from).join(to), text);
  return {
    root: loaded.root,
    sources: {
      config: { ...loaded.sources.config, file: relabel(loaded.sources.config.file) },
      services: loaded.sources.services.map((item) => ({ ...item, document: { ...item.document, file: relabel(item.document.file) } })),
    },
    // Repos without a folder are reported by the caller, which knows why they are missing.
    warnings: loaded.warnings.filter((warning) => !warning.includes(display(view))).map(relabel),
    problems: loaded.problems.map((problem): ConfigProblem => ({ ...problem, file: relabel(problem.file), message: relabel(problem.message) })),
  };
}

/** A folder with one link per service repo to its materialized commit, as `loadOpsDir` expects. */
function viewFolder(cacheDir: string, repos: Readonly<Record<string, string>>): string {
  const entries = Object.entries(repos).sort(([a], [b]) => (a < b ? -1 : 1));
  const key = createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 24);
  const view = join(cacheDir, 'views', key);
  if (existsSync(view)) return view;
  const partial = `${view}.tmp-${randomBytes(4).toString('hex')}`;
  mkdirSync(partial, { recursive: true });
  for (const [name, folder] of entries) symlinkSync(folder, join(partial, name), 'dir');
  try {
    renameSync(partial, view);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(view)) throw error;
  }
  return view;
}

/** How the directory loader names files: relative to the working folder. */
function display(path: string): string {
  return relative(process.cwd(), path).split(sep).join('/') || path;
}
