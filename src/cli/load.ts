import { ConfigError } from '../errors.js';
import { loadOpsDir, type LoadedApp } from '../sources/load-dir.js';
import type { Output } from './output.js';

/** Loads an ops repo for a command: prints warnings, and stops on files that do not evaluate. */
export async function loadForCommand(opsDir: string, reposDir: string | undefined, output: Output): Promise<LoadedApp> {
  const loaded = await loadOpsDir(opsDir, reposDir === undefined ? {} : { reposDir });
  for (const warning of loaded.warnings) output.err(`warning: ${warning}\n`);
  if (loaded.problems.length > 0) throw new ConfigError(loaded.problems);
  return loaded;
}
