import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { checkApp, environmentNames } from '../../resolve/index.js';
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
      const problems = checkApp(sources);
      if (problems.length > 0) throw new ConfigError(problems);
      const environments = environmentNames(sources);
      output.out(`ok: ${sources.services.length} service files, ${environments.length} environments (${environments.join(', ')})\n`);
    });
}
