import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { isServiceName } from '../../model/kubernetes-names.js';
import type { Output } from '../output.js';
import { ownVersion, scaffoldOpsRepo } from '../scaffold.js';

interface NewOptions {
  project?: string;
  diploid?: string;
}

export function registerNewCommand(program: Command, output: Output): void {
  program
    .command('new')
    .description('Start something new: `diploid new ops <dir>` writes an ops repo that editors type-check.')
    .argument('<kind>', 'what to start: ops')
    .argument('<dir>', 'folder to create (must be empty or absent)')
    .option('--project <name>', 'project name (default: the folder name)')
    .option('--diploid <spec>', 'what package.json depends on for diploid (default: this version; e.g. file:../diploid)')
    .action((kind: string, dir: string, options: NewOptions) => {
      if (kind !== 'ops') throw new UserError(`diploid new knows "ops" only, got "${kind}"`);
      const root = resolve(dir);
      if (existsSync(root) && readdirSync(root).length > 0) throw new UserError(`${dir} is not empty; diploid new writes into an empty or new folder only`);
      const project = options.project ?? basename(root).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+|-+$/g, '');
      if (!isServiceName(project)) throw new UserError(`project name "${project}" is not a DNS label starting with a letter; pass --project <name>`);
      const files = scaffoldOpsRepo({ project, diploid: options.diploid ?? ownVersion() });
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), content, { flag: 'wx' });
      }
      output.out(`wrote ${Object.keys(files).sort().join(', ')} in ${dir}\nnext: cd ${dir} && npm install   # then your editor checks every file against diploid's types\n`);
    });
}
