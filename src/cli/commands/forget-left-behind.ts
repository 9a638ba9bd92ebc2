import type { Command } from 'commander';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { forgetLeftBehind } from '../../controller/left-behind.js';
import { ConfigMapStatusStore } from '../../controller/status-store.js';
import { RetryableError, UserError } from '../../errors.js';
import { HOME_CLUSTER } from '../../model/config.js';
import { json, withClusterReadOptions, type ClusterReadOptions } from '../cluster-options.js';
import type { Output } from '../output.js';

interface ForgetOptions extends ClusterReadOptions {
  env: string;
  cluster: string;
  copyNamespace?: string;
}

/**
 * Adds `diploid forget-left-behind`: drops the record of a copy an environment left in a cluster
 * it moved away from, for a cluster gone for good (the controller would otherwise try to remove
 * the copy at every reconcile, forever). It writes the environment's status, which the controller
 * reads before each reconcile; the status store's resourceVersion check makes a write that
 * crosses the controller's fail instead of undoing either.
 */
export function registerForgetLeftBehindCommand(program: Command, output: Output): void {
  withClusterReadOptions(
    program
      .command('forget-left-behind')
      .description('Stop trying to remove the copy an environment left in a cluster it moved away from (a cluster gone for good); the copy itself is not touched.')
      .requiredOption('-e, --env <name>', 'environment that moved')
      .requiredOption('--cluster <name>', 'the cluster of the copy, as `diploid status` names it (`home`: the controller\'s own)')
      .option('--copy-namespace <name>', 'only the copy in this namespace (default: every copy in that cluster)'),
  ).action(async (options: ForgetOptions) => {
    const store = new ConfigMapStatusStore(kubeConfigFrom(options.kubeconfig), options.namespace);
    // The controller may write the status between our read and write: read again and retry.
    for (let attempt = 1; ; attempt += 1) {
      const status = await store.get(options.env);
      if (status === undefined) throw new UserError(`no environment "${options.env}" in namespace ${options.namespace}: the controller has written no status for it`);
      const result = forgetLeftBehind(status, options.cluster, options.copyNamespace, new Date().toISOString());
      if ('problem' in result) throw new UserError(`cannot forget: ${result.problem}`);
      try {
        await store.put(result.status);
      } catch (error) {
        if (error instanceof RetryableError && attempt < 5) continue;
        throw error;
      }
      const copies = result.forgotten.map((entry) => `${entry.cluster?.name ?? HOME_CLUSTER}/${entry.namespace}`);
      if (options.output === 'json') return output.out(json({ environment: options.env, forgotten: copies }));
      output.out(`${options.env}: forgot ${copies.join(', ')}; the controller no longer tries to remove ${copies.length === 1 ? 'it' : 'them'}. Anything still running there is yours to delete.\n`);
      return;
    }
  });
}
