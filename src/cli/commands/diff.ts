import type { Command } from 'commander';
import { compileKubernetes } from '../../backends/kubernetes/index.js';
import { ApplyError } from '../../cluster/apply.js';
import { diffEnvironment, hasDifference } from '../../cluster/diff.js';
import { changeLine } from '../../cluster/field-diff.js';
import { clusterTarget, environmentCluster } from '../cluster-target.js';
import { UserError } from '../../errors.js';
import { resolveApp } from '../../resolve/index.js';
import { json } from '../cluster-options.js';
import { ExitCode } from '../exit-code.js';
import { loadForCommand } from '../load.js';
import type { Output } from '../output.js';

interface DiffOptions {
  env: string;
  kubeconfig?: string;
  clusterKubeconfig?: string;
  controllerNamespace?: string;
  repos?: string;
  output: string;
}

/** Adds `diploid diff`: what `diploid apply` (or the controller) would change, by a server-side dry run. */
export function registerDiffCommand(program: Command, output: Output): void {
  program
    .command('diff')
    .description('What applying the ops repo now would change in the cluster (server-side dry run): fields diploid manages, objects to create and to prune. Exits 1 when there is a difference.')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .requiredOption('-e, --env <name>', 'environment to compare')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config); for an environment that names a cluster, the controller\'s cluster holding its Secret')
    .option('--cluster-kubeconfig <file>', 'for an environment that names a cluster: reach it with this kubeconfig instead of its Secret')
    .option('--controller-namespace <name>', 'where the clusters\' Secrets are (default: controller.namespace, or diploid-system)')
    .option('--repos <dir>', 'folder with one sub-folder per service repo, named as in repos')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (opsDir: string, options: DiffOptions) => {
      if (options.output !== 'text' && options.output !== 'json') throw new UserError(`--output expects text or json, got "${options.output}"`);
      const { sources } = await loadForCommand(opsDir, options.repos, output);
      const app = resolveApp(sources, { environment: options.env });
      const { objects, warnings } = compileKubernetes(app);
      for (const warning of warnings) output.err(`warning: ${warning}\n`);
      let diff;
      try {
        diff = await diffEnvironment(await environmentCluster(app.environment.name, app.environment.cluster, clusterTarget(sources, options), (line) => output.err(line)), objects, app.environment.namespace);
      } catch (error) {
        if (error instanceof ApplyError) throw new UserError(`${error.message}\n(a dry run: nothing was changed)`, { cause: error });
        throw error;
      }
      if (options.output === 'json') output.out(json({ environment: app.environment.name, namespace: app.environment.namespace, different: hasDifference(diff), ...diff }));
      else if (!hasDifference(diff)) output.out(`${app.environment.name}: no difference (${diff.unchanged} objects as rendered)\n`);
      else {
        for (const object of diff.create) output.out(`+ ${object} (create)\n`);
        for (const { object, fields } of diff.change) {
          output.out(`~ ${object}\n`);
          for (const field of fields) output.out(`    ${changeLine(field)}\n`);
        }
        for (const object of diff.prune) output.out(`- ${object} (prune: no longer rendered)\n`);
        output.out(`${app.environment.name}: ${diff.create.length} to create, ${diff.change.length} to change, ${diff.prune.length} to prune, ${diff.unchanged} unchanged\n`);
      }
      if (hasDifference(diff)) throw new ExitCode(1);
    });
}
