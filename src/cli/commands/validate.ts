import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { kubernetesSchemaProblems } from '../../backends/kubernetes/schema-problems.js';
import { SecretFileError } from '../../secrets/errors.js';
import { secretsDir } from '../../secrets/layout.js';
import { parseSopsFile } from '../../secrets/sops-file.js';
import { listSecretFiles } from '../secret-store.js';
import { ConfigError } from '../../errors.js';
import { configSchema } from '../../model/config.js';
import { checkRepoTargets } from '../../hosts/targets.js';
import { checkBranchRules } from '../../plan/branch-rules.js';
import { checkApp, environmentNames, resolveApp, type SourceDocument } from '../../resolve/index.js';
import { loadForCommand } from '../load.js';
import type { Output } from '../output.js';

export function registerValidateCommand(program: Command, output: Output): void {
  program
    .command('validate')
    .description('Check every file and every environment of the ops repo; report all problems.')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .option('--repos <dir>', 'folder with one sub-folder per service repo, named as in repos')
    .action(async (opsDir: string, options: { repos?: string }) => {
      const { sources } = await loadForCommand(opsDir, options.repos, output);
      const problems = [...checkApp(sources), ...branchRuleProblems(sources.config), ...repoTargetProblems(sources.config), ...secretFileProblems(opsDir, sources.config)];
      if (problems.length > 0) throw new ConfigError(problems);
      const environments = environmentNames(sources);
      // Valid for diploid; now valid for the API server too, object by object.
      const refused = [];
      for (const environment of environments) refused.push(...(await kubernetesSchemaProblems(resolveApp(sources, { environment }), sources.config.file)));
      if (refused.length > 0) throw new ConfigError(refused);
      output.out(`ok: ${sources.services.length} service files, ${environments.length} environments (${environments.join(', ')})\n`);
    });
}

/**
 * Repos the controller could not reach through their git host: an unknown host, a path the
 * host cannot have (a GitHub path without its owner). Only when hosts are configured: without
 * them, repos are read from folders or URLs given on the command line.
 */
function repoTargetProblems(config: SourceDocument) {
  const parsed = configSchema.safeParse(config.value);
  if (!parsed.success || Object.keys(parsed.data.git?.hosts ?? {}).length === 0) return [];
  return checkRepoTargets(parsed.data).problems.map((problem) => ({ file: config.file, ...problem }));
}

/** Rules that can never match, or name unknown environments; only for a config that is valid. */
function branchRuleProblems(config: SourceDocument) {
  const parsed = configSchema.safeParse(config.value);
  return parsed.success ? checkBranchRules(parsed.data, config.file) : [];
}

/** Secret files that are not encrypted SOPS files (read, never decrypted: no key is needed). */
function secretFileProblems(opsDir: string, config: SourceDocument) {
  const parsed = configSchema.safeParse(config.value);
  if (!parsed.success) return [];
  const dir = secretsDir(parsed.data);
  return listSecretFiles(opsDir, parsed.data).flatMap((file) => {
    try {
      parseSopsFile(readFileSync(join(opsDir, dir, file), 'utf8'), `${dir}/${file}`);
      return [];
    } catch (error) {
      if (!(error instanceof SecretFileError)) throw error;
      return [{ file: error.file, path: error.path, message: error.problem }];
    }
  });
}
