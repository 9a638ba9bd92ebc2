import type { Command } from 'commander';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { ConfigMapPinStore } from '../../controller/pin-store.js';
import { ConfigMapStatusStore } from '../../controller/status-store.js';
import { condition } from '../../controller/status.js';
import { UserError } from '../../errors.js';
import { json, withClusterReadOptions, type ClusterReadOptions } from '../cluster-options.js';
import type { Output } from '../output.js';
import { operator, waitForDeploy, withWaitOptions } from '../pin-wait.js';

interface PromoteOptions extends ClusterReadOptions {
  from: string;
  to: string;
  wait?: boolean;
  timeout: number;
}

/**
 * Adds `diploid promote`: the target environment is pinned to the commits (ops config and every
 * service repo) the source environment last deployed. Rendering the same commits gives the same
 * content-tagged images, which exist: nothing is rebuilt, and what runs is what was tested.
 */
export function registerPromoteCommand(program: Command, output: Output): void {
  withWaitOptions(withClusterReadOptions(
    program
      .command('promote')
      .description('Deploy to one environment exactly the images and config another runs (no rebuild); pinned until the next push or `diploid unpin`.')
      .requiredOption('--from <env>', 'environment whose last deploy is promoted, e.g. staging')
      .requiredOption('--to <env>', 'environment that receives it, e.g. production'),
  )).action(async (options: PromoteOptions) => {
    if (options.from === options.to) throw new UserError('--from and --to name the same environment');
    const kube = kubeConfigFrom(options.kubeconfig);
    const store = new ConfigMapStatusStore(kube, options.namespace);
    const source = await store.get(options.from);
    if (source === undefined) throw new UserError(`no environment "${options.from}" in namespace ${options.namespace}`);
    const last = source.history?.[0];
    if (last === undefined || source.appliedRevision === undefined) throw new UserError(`${options.from} has no recorded deploy to promote`);
    // Promote what was tested: a source that is not Ready right now may run something else.
    if (condition(source, 'Ready')?.status !== 'True') throw new UserError(`${options.from} is not Ready (${condition(source, 'Ready')?.reason ?? 'Unknown'}): promote it once it is`);
    const at = new Date().toISOString();
    if ((await store.get(options.to)) === undefined) throw new UserError(`no environment "${options.to}" in namespace ${options.namespace}: it is promoted to once the controller has set it up`);
    await new ConfigMapPinStore(kube, options.namespace).set(options.to, { commits: last.commits, reason: 'promotion', from: options.from, by: operator(), at });
    if (options.wait === true) await waitForDeploy(store, options.to, at, 'promotion', options.timeout);
    // The newest entry always keeps its images; the status' own are the same deploy's.
    const images = last.images ?? source.images ?? {};
    const result = { from: options.from, to: options.to, commits: last.commits, images, deployed: options.wait === true };
    if (options.output === 'json') return output.out(json(result));
    output.out(`${options.to}: pinned to what ${options.from} runs (${Object.entries(last.commits).map(([repo, sha]) => `${repo}@${sha.slice(0, 12)}`).join(', ')})\n`);
    for (const [service, image] of Object.entries(images).sort()) output.out(`  ${service}: ${image}\n`);
    output.out(options.wait === true ? `${options.to}: deployed\n` : 'the controller deploys it at its next look (a few seconds)\n');
  });
}
