import type { Command } from 'commander';
import { compileKubernetes } from '../../backends/kubernetes/index.js';
import { ApplyError } from '../../cluster/apply.js';
import { deployEnvironment } from '../../cluster/deploy.js';
import { clusterTarget, environmentCluster } from '../cluster-target.js';
import { UserError } from '../../errors.js';
import { resolveApp } from '../../resolve/index.js';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { applyEnvironmentAddons } from '../apply-addons.js';
import { configOf, loadForCommand } from '../load.js';
import type { Output } from '../output.js';

interface ApplyOptions {
  env: string;
  kubeconfig?: string;
  clusterKubeconfig?: string;
  controllerNamespace?: string;
  repos?: string;
  prune: boolean;
  wait: boolean;
  addons: boolean;
  timeout: string;
}

export function registerApplyCommand(program: Command, output: Output): void {
  program
    .command('apply')
    .description('Render one environment and server-side apply it to a cluster; wait for the rollout, then prune.')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .requiredOption('-e, --env <name>', 'environment to deploy')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config); for an environment that names a cluster, the controller\'s cluster holding its Secret')
    .option('--cluster-kubeconfig <file>', 'for an environment that names a cluster: reach it with this kubeconfig instead of its Secret')
    .option('--controller-namespace <name>', 'where the clusters\' Secrets are (default: controller.namespace, or diploid-system)')
    .option('--repos <dir>', 'folder with one sub-folder per service repo, named as in repos')
    .option('--no-prune', 'keep objects diploid applied before and no longer renders')
    .option('--no-wait', 'do not wait for workloads to become ready')
    .option('--no-addons', "do not apply the add-ons of the environment's cluster first")
    .option('--timeout <seconds>', 'how long to wait for workloads', '300')
    .action(async (opsDir: string, options: ApplyOptions) => {
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UserError(`--timeout expects a number of seconds, got "${options.timeout}"`);
      const { sources } = await loadForCommand(opsDir, options.repos, output);
      const app = resolveApp(sources, { environment: options.env });
      const { objects, warnings } = compileKubernetes(app);
      for (const warning of warnings) output.err(`warning: ${warning}\n`);
      const target = clusterTarget(sources, options);
      const config = await environmentCluster(app.environment.name, app.environment.cluster, target, (line) => output.err(line));
      if (options.addons) {
        // As the controller does: the cluster's add-ons (CRDs, their controllers) first, then the environment.
        const addons = await applyEnvironmentAddons({
          opsDir,
          config: await configOf(sources),
          cluster: app.environment.cluster?.name,
          target: config,
          home: () => (app.environment.cluster === undefined ? config : kubeConfigFrom(options.kubeconfig)),
          controllerNamespace: target.controllerNamespace,
          timeoutMs: timeoutSeconds * 1000,
        });
        for (const { object, outcome } of addons.applied) output.out(`${outcome} ${object} (add-on)\n`);
        for (const object of addons.pruned) output.out(`pruned ${object} (add-on)\n`);
      }
      try {
        const result = await deployEnvironment(config, objects, {
          project: app.project,
          environment: app.environment.name,
          namespace: app.environment.namespace,
          prune: options.prune,
          wait: options.wait,
          timeoutMs: timeoutSeconds * 1000,
        });
        for (const { object, outcome } of result.applied) output.out(`${outcome} ${object}\n`);
        for (const object of result.pruned) output.out(`pruned ${object}\n`);
        if (result.failures.length > 0) {
          const lines = result.failures.map((failure) => `  ${failure.object}: ${failure.reason}`);
          throw new UserError(`the rollout of ${app.environment.name} failed; the previous version keeps running:\n${lines.join('\n')}`);
        }
      } catch (error) {
        if (error instanceof ApplyError) {
          for (const { object, outcome } of error.applied) output.out(`${outcome} ${object}\n`);
          throw new UserError(`${error.message}\nnothing after it was applied; what ran before keeps running`);
        }
        throw error;
      }
    });
}
