import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ClusterConnections, ClusterSecretError } from '../../cluster/clusters.js';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { latestBuild } from '../../cluster/build-log.js';
import { readPodLogs, type LogSource } from '../../cluster/pod-logs.js';
import { ConfigMapStatusStore } from '../../controller/status-store.js';
import { durationMs } from '../../plan/targets.js';
import { UserError } from '../../errors.js';
import { json, withClusterReadOptions, type ClusterReadOptions } from '../cluster-options.js';
import type { Output } from '../output.js';

interface LogsOptions extends ClusterReadOptions {
  env?: string;
  build?: boolean;
  tail?: number;
  since?: string;
  container?: string;
}

/** Adds `diploid logs`: a service's logs across its pods, or its latest build's. */
export function registerLogsCommand(program: Command, output: Output): void {
  withClusterReadOptions(
    program
      .command('logs')
      .description('A service\'s logs across all its pods in an environment (each line prefixed with its pod), or with --build the logs of its latest image build.')
      .argument('<service>', 'the service')
      .option('-e, --env <name>', 'environment whose pods to read (with --build: only builds started for it)')
      .option('--build', 'the whole log of the service\'s newest build Job, in the controller\'s namespace')
      .option('--tail <lines>', 'only the last lines of each pod', parseCount)
      .option('--since <duration>', 'only lines newer than this, e.g. 10m')
      .option('-c, --container <name>', 'one container of each pod'),
  ).action(async (service: string, options: LogsOptions) => {
    const kube = kubeConfigFrom(options.kubeconfig);
    if (options.build === true) {
      // A failed deploy's status shows only the tail of its build's log; this is all of it.
      const found = await latestBuild(kube, options.namespace, service, options.env);
      const where = `${options.namespace}${options.env === undefined ? '' : `, environment ${options.env}`}`;
      if (found === undefined) throw new UserError(`no build of service "${service}" found in ${where} (build Jobs are kept a day after they finish)`);
      if (options.output === 'json') return output.out(json({ service, build: found }));
      output.err(`build Job ${options.namespace}/${found.job}: ${found.state}${found.image === undefined ? '' : `, image ${found.image}`}${found.commit === undefined ? '' : ` from commit ${found.commit.slice(0, 12)}`}\n`);
      if (found.log === undefined) throw new UserError(`build Job ${options.namespace}/${found.job} has no pod left to read a log from`);
      return output.out(found.log.endsWith('\n') || found.log === '' ? found.log : `${found.log}\n`);
    }
    if (options.env === undefined) throw new UserError('which environment? pass --env NAME (or --build for the build\'s logs)');
    const status = await new ConfigMapStatusStore(kube, options.namespace).get(options.env);
    if (status === undefined) throw new UserError(`no environment "${options.env}" in namespace ${options.namespace}`);
    const source: LogSource = { kind: 'service', namespace: status.namespace, service };
    const since = options.since === undefined ? undefined : durationMs(options.since);
    if (since !== undefined && !Number.isFinite(since)) throw new UserError(`--since expects a duration such as 30s, 10m or 2h, got "${options.since}"`);
    // An environment in another cluster: its pods are read there, with its Secret's kubeconfig.
    const where = status.cluster === undefined ? kube : await new ClusterConnections(kube, options.namespace).config(status.cluster).catch((error: unknown) => Promise.reject(error instanceof ClusterSecretError ? new UserError(error.message, { cause: error }) : error));
    const logs = await readPodLogs(where, source, { ...(options.tail === undefined ? {} : { tailLines: options.tail }), ...(since === undefined ? {} : { sinceSeconds: Math.ceil(since / 1000) }), ...(options.container === undefined ? {} : { container: options.container }) });
    if (logs.length === 0) throw new UserError(`no pods of service ${service} in namespace ${source.namespace}`);
    if (options.output === 'json') output.out(json({ service, ...(options.env === undefined ? {} : { environment: options.env }), pods: logs }));
    else {
      for (const item of logs) {
        const prefix = `[${item.pod}${item.container === undefined ? '' : `/${item.container}`}] `;
        if (item.error !== undefined) output.err(`${prefix}logs not readable: ${item.error}\n`);
        for (const line of (item.text ?? '').split('\n')) if (line !== '') output.out(`${prefix}${line}\n`);
      }
    }
    if (logs.every((item) => item.error !== undefined)) throw new UserError(`the logs of none of the ${logs.length} pods could be read`);
  });
}

function parseCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError('a number of lines');
  return value;
}
