import { Command } from 'commander';
import { latestBuild } from '../../cluster/build-log.js';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../../controller/manifests.js';
import { UserError } from '../../errors.js';
import type { Output } from '../output.js';

interface LogsOptions {
  kubeconfig?: string;
  env?: string;
  namespace: string;
}

/** Adds `diploid logs build <service>`: the whole log of a service's newest in-cluster build. */
export function registerLogsCommand(program: Command, output: Output): void {
  const logs = program.command('logs').description('Logs of what the controller runs in the cluster.');
  logs
    .command('build')
    .description("Print the whole log of a service's newest build (a failed deploy's status shows only its tail).")
    .argument('<service>', 'the service whose build to show')
    .option('--env <environment>', 'only builds started for this environment')
    .option('--namespace <namespace>', "the controller's namespace, where builds run", DEFAULT_CONTROLLER_NAMESPACE)
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config)')
    .action(async (service: string, options: LogsOptions) => {
      const found = await latestBuild(kubeConfigFrom(options.kubeconfig), options.namespace, service, options.env);
      const where = `${options.namespace}${options.env === undefined ? '' : `, environment ${options.env}`}`;
      if (found === undefined) throw new UserError(`no build of service "${service}" found in ${where} (build Jobs are kept a day after they finish)`);
      output.err(`build Job ${options.namespace}/${found.job}: ${found.state}${found.image === undefined ? '' : `, image ${found.image}`}${found.commit === undefined ? '' : ` from commit ${found.commit.slice(0, 12)}`}\n`);
      if (found.log === undefined) throw new UserError(`build Job ${options.namespace}/${found.job} has no pod left to read a log from`);
      output.out(found.log.endsWith('\n') || found.log === '' ? found.log : `${found.log}\n`);
    });
}
