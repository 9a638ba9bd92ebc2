import { ConfigError } from '../errors.js';
import { configSchema, type ConfigSpec } from '../model/config.js';
import { Problems } from '../resolve/problems.js';
import { validateDocument } from '../resolve/schema-errors.js';
import { loadOpsDir, type LoadedApp } from '../sources/load-dir.js';
import type { Output } from './output.js';

/** Loads an ops repo for a command: prints warnings, and stops on files that do not evaluate. */
export async function loadForCommand(opsDir: string, reposDir: string | undefined, output: Output): Promise<LoadedApp> {
  const loaded = await loadOpsDir(opsDir, reposDir === undefined ? {} : { reposDir });
  for (const warning of loaded.warnings) output.err(`warning: ${warning}\n`);
  if (loaded.problems.length > 0) throw new ConfigError(loaded.problems);
  return loaded;
}

/** The ops repo's validated `.diploid.conf.js`, for commands that need no services. */
export async function loadConfigForCommand(opsDir: string, output: Output): Promise<ConfigSpec> {
  const { sources } = await loadForCommand(opsDir, undefined, output);
  const problems = new Problems();
  const config = validateDocument(configSchema, sources.config.value, sources.config.file, '', problems);
  if (config === undefined || !problems.empty) throw new ConfigError(problems.list);
  return config;
}
