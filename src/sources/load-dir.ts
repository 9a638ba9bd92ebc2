import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { CONFIG_FILE_NAMES, loadApp, MissingConfigError, type LoadAppOptions, type LoadedApp } from './load-app.js';
import { DirectoryTree, displayPrefix } from './trees.js';

export { CONFIG_FILE_NAMES, DEFAULT_SERVICE_GLOBS, SERVICE_FILE_NAMES, type LoadedApp } from './load-app.js';

export interface LoadOptions {
  /** A folder holding one sub-folder per service repo, named as in `repos`. */
  readonly reposDir?: string;
  /** See `LoadAppOptions.onServiceDocument`. */
  readonly onServiceDocument?: LoadAppOptions['onServiceDocument'];
}

/**
 * Reads an ops repo (and the service repos it names) from folders on disk. Files are evaluated
 * in the sandbox exactly as from git; a file may read only files of its own repo's folder.
 */
export async function loadOpsDir(opsDir: string, options: LoadOptions = {}): Promise<LoadedApp & { readonly root: string }> {
  const root = resolve(opsDir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UserError(`${opsDir} is not a folder; pass the ops repo's folder`);
  const ops = new DirectoryTree(root, displayPrefix(root));
  try {
    const loaded = await loadApp({
      ops,
      ...(options.onServiceDocument === undefined ? {} : { onServiceDocument: options.onServiceDocument }),
      repo: async (name, settings) => {
        const folder = options.reposDir !== undefined ? join(resolve(options.reposDir), name) : typeof settings.local === 'string' ? resolve(root, settings.local) : undefined;
        if (folder === undefined) return { missing: `repo "${name}": no local folder (set repos.${name}.local or pass --repos DIR); its own service file was not read` };
        if (!existsSync(folder) || !statSync(folder).isDirectory()) return { missing: `repo "${name}": folder ${displayPrefix(folder).replace(/\/$/, '')} not found; its own service file was not read` };
        return { tree: new DirectoryTree(folder, displayPrefix(folder)) };
      },
    });
    return { root, ...loaded };
  } catch (error) {
    if (error instanceof MissingConfigError) throw new UserError(`no ${CONFIG_FILE_NAMES[0]} in ${root} (also looked for ${CONFIG_FILE_NAMES.slice(1).join(', ')}); is this the ops repo?`, { cause: error });
    throw error;
  }
}

