import type { Command } from 'commander';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { rollbackTarget } from '../../controller/history.js';
import { ConfigMapPinStore } from '../../controller/pin-store.js';
import { ConfigMapStatusStore } from '../../controller/status-store.js';
import { UserError } from '../../errors.js';
import { json, withClusterReadOptions, type ClusterReadOptions } from '../cluster-options.js';
import type { Output } from '../output.js';
import { operator, waitForDeploy, withWaitOptions } from '../pin-wait.js';

interface RollbackOptions extends ClusterReadOptions {
  env: string;
  to?: string;
  wait?: boolean;
  timeout: number;
}

/**
 * Adds `diploid rollback` and `diploid unpin`. A rollback pins the environment to a recorded
 * revision's commits in its status; the controller deploys it (no build: the images exist) and
 * keeps following git: the next push, or `unpin`, ends the pin.
 */
export function registerRollbackCommands(program: Command, output: Output): void {
  withWaitOptions(withClusterReadOptions(
    program
      .command('rollback')
      .description('Redeploy a recorded revision (the one before the current by default) without rebuilding; the environment stays pinned until the next push or `diploid unpin`.')
      .requiredOption('-e, --env <name>', 'environment to roll back')
      .option('--to <revision>', 'recorded revision (a prefix of its hash; see `diploid status --env NAME`)'),
  )).action(async (options: RollbackOptions) => {
    const kube = kubeConfigFrom(options.kubeconfig);
    const at = new Date().toISOString();
    const store = new ConfigMapStatusStore(kube, options.namespace);
    const status = await store.get(options.env);
    if (status === undefined) throw new UserError(`no environment "${options.env}" in namespace ${options.namespace}: the controller has written no status for it`);
    const found = rollbackTarget(status.history, options.to);
    if ('problem' in found) throw new UserError(`cannot roll back ${options.env}: ${found.problem}`);
    const chosen = found;
    await new ConfigMapPinStore(kube, options.namespace).set(options.env, { commits: chosen.commits, revision: chosen.revision, reason: 'rollback', by: operator(), at });
    const result = { environment: options.env, pinned: true, revision: chosen.revision, commits: chosen.commits, images: chosen.images, at };
    if (options.wait === true) await waitForDeploy(store, options.env, at, 'rollback', options.timeout);
    if (options.output === 'json') return output.out(json({ ...result, deployed: options.wait === true }));
    output.out(`${options.env}: pinned to revision ${chosen.revision.slice(0, 12)} (${Object.entries(chosen.commits).map(([repo, sha]) => `${repo}@${sha.slice(0, 12)}`).join(', ')}), deployed ${chosen.deployedAt}\n`);
    output.out(options.wait === true ? `${options.env}: deployed; the next push or \`diploid unpin --env ${options.env}\` ends the pin\n` : `the controller deploys it at its next look (a few seconds); the next push or \`diploid unpin --env ${options.env}\` ends the pin\n`);
  });

  withWaitOptions(withClusterReadOptions(
    program
      .command('unpin')
      .description('End a rollback\'s or promotion\'s pin: the environment follows its branch\'s head again.')
      .requiredOption('-e, --env <name>', 'environment to unpin'),
  )).action(async (options: Omit<RollbackOptions, 'to'>) => {
    const kube = kubeConfigFrom(options.kubeconfig);
    const at = new Date().toISOString();
    if ((await new ConfigMapStatusStore(kube, options.namespace).get(options.env)) === undefined) throw new UserError(`no environment "${options.env}" in namespace ${options.namespace}: the controller has written no status for it`);
    const was = await new ConfigMapPinStore(kube, options.namespace).clear(options.env);
    if (!was) throw new UserError(`${options.env} is not pinned`);
    if (options.wait === true) await waitForDeploy(new ConfigMapStatusStore(kube, options.namespace), options.env, at, 'git', options.timeout);
    if (options.output === 'json') return output.out(json({ environment: options.env, pinned: false, deployed: options.wait === true }));
    output.out(`${options.env}: unpinned; ${options.wait === true ? 'its branch\'s head is deployed' : 'the controller deploys its branch\'s head at its next look'}\n`);
  });
}
