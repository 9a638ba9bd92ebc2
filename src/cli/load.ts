import { ConfigError } from '../errors.js';
import type { ConfigSpec } from '../model/config.js';
import { loadOpsDir, type LoadedApp, type LoadOptions } from '../sources/load-dir.js';
import type { AppSources } from '../resolve/index.js';
import type { Output } from './output.js';

/** Loads an ops repo for a command: prints warnings, and stops on files that do not evaluate. */
export async function loadForCommand(opsDir: string, reposDir: string | undefined, output: Output, onServiceDocument?: LoadOptions['onServiceDocument']): Promise<LoadedApp> {
  const loaded = await loadOpsDir(opsDir, { ...(reposDir === undefined ? {} : { reposDir }), ...(onServiceDocument === undefined ? {} : { onServiceDocument }) });
  for (const warning of loaded.warnings) output.err(`warning: ${warning}\n`);
  if (loaded.problems.length > 0) throw new ConfigError(loaded.problems);
  return loaded;
}

/** The ops repo's validated `.diploid.conf.js`, for commands that need no services. */
export async function loadConfigForCommand(opsDir: string, output: Output): Promise<ConfigSpec> {
  // The schemas load meanwhile: `loadForCommand` itself stays light, so `render` starts loading first.
  const [{ sources }, validate] = await Promise.all([loadForCommand(opsDir, undefined, output), configValidator()]);
  return validate(sources);
}

/** The validated config of sources already loaded. */
export async function configOf(sources: AppSources): Promise<ConfigSpec> {
  return (await configValidator())(sources);
}

async function configValidator(): Promise<(sources: AppSources) => ConfigSpec> {
  const [{ configSchema }, { Problems }, { validateDocument }] = await Promise.all([import('../model/config.js'), import('../resolve/problems.js'), import('../resolve/schema-errors.js')]);
  return (sources) => {
    const problems = new Problems();
    const config = validateDocument(configSchema, sources.config.value, sources.config.file, '', problems);
    if (config === undefined || !problems.empty) throw new ConfigError(problems.list);
    return config;
  };
}
