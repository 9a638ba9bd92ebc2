import type * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { ClusterConnections, ClusterSecretError } from '../../cluster/clusters.js';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { liveWorkloads, type LiveWorkload } from '../../cluster/workloads.js';
import { ConfigMapPinStore } from '../../controller/pin-store.js';
import { ConfigMapStatusStore } from '../../controller/status-store.js';
import type { EnvironmentStatus } from '../../controller/status.js';
import { environmentView, humanDuration, table, viewNote, type EnvironmentView } from '../../controller/status-view.js';
import { UserError } from '../../errors.js';
import { json, withClusterReadOptions, type ClusterReadOptions } from '../cluster-options.js';
import type { Output } from '../output.js';

interface StatusOptions extends ClusterReadOptions {
  env?: string;
}

/** Adds `diploid status`: what runs where, from the controller's statuses and the live workloads. */
export function registerStatusCommand(program: Command, output: Output): void {
  withClusterReadOptions(
    program
      .command('status')
      .description('Every environment: branch, commit, revision, images, conditions, last deploy, previews\' time left; --env for one in detail.')
      .option('-e, --env <name>', 'one environment in detail: its services, their images and rollout state, and its history'),
  ).action(async (options: StatusOptions) => {
    const kube = kubeConfigFrom(options.kubeconfig);
    const store = new ConfigMapStatusStore(kube, options.namespace);
    const now = new Date();
    if (options.env === undefined) {
      const pins = await new ConfigMapPinStore(kube, options.namespace).list();
      const views = (await store.list()).map((status) => environmentView(status, now, pins.get(status.environment)));
      if (options.output === 'json') return output.out(json({ environments: views }));
      if (views.length === 0) return output.out(`no environments: the controller has written no status in namespace ${options.namespace}\n`);
      output.out(listText(views));
      return;
    }
    const status = await store.get(options.env);
    if (status === undefined) {
      const known = (await store.list()).map((item) => item.environment);
      throw new UserError(`no environment "${options.env}" in namespace ${options.namespace} (known: ${known.join(', ') || 'none'})`);
    }
    const view = environmentView(status, now, await new ConfigMapPinStore(kube, options.namespace).get(options.env));
    const { services, unreachable } = await workloadsOf(kube, status, options.namespace);
    if (options.output === 'json') return output.out(json({ ...view, services, ...(unreachable === undefined ? {} : { unreachable }) }));
    output.out(detailText(view, services, unreachable));
  });
}

const short = (sha: string | undefined) => sha?.slice(0, 12) ?? '-';

function listText(views: readonly EnvironmentView[]): string {
  const rows = [['ENVIRONMENT', 'BRANCH', 'COMMIT', 'REVISION', 'READY', 'REASON', 'DEPLOYED', 'NOTE']];
  for (const view of views) {
    rows.push([view.environment, view.branch ?? '-', view.commit === undefined ? '-' : `${view.repo ?? ''}@${short(view.commit)}`, short(view.revision), view.ready, view.reason || '-', view.deployedAt ?? '-', viewNote(view)]);
  }
  const images = [['ENVIRONMENT', 'SERVICE', 'IMAGE']];
  for (const view of views) for (const [service, image] of Object.entries(view.images).sort()) images.push([view.environment, service, image]);
  return table(rows) + (images.length > 1 ? `\n${table(images)}` : '');
}

/**
 * The environment's workloads, read where they run: an environment in another cluster through the
 * kubeconfig of that cluster's Secret (as the controller reads it). A Secret that cannot be used
 * leaves the rest of the status readable, with the reason.
 */
async function workloadsOf(kube: k8s.KubeConfig, status: EnvironmentStatus, namespace: string): Promise<{ services: LiveWorkload[]; unreachable?: string }> {
  if (status.cluster === undefined) return { services: await liveWorkloads(kube, status.namespace) };
  try {
    return { services: await liveWorkloads(await new ClusterConnections(kube, namespace).config(status.cluster), status.namespace) };
  } catch (error) {
    if (error instanceof ClusterSecretError) return { services: [], unreachable: error.message };
    throw error;
  }
}

function detailText(view: EnvironmentView, services: readonly LiveWorkload[], unreachable?: string): string {
  const lines = [
    `environment: ${view.environment}`,
    `namespace:   ${view.namespace}`,
    ...(view.cluster === undefined ? [] : [`cluster:     ${view.cluster}`]),
    `branch:      ${view.branch ?? '-'}`,
    `commit:      ${view.commit === undefined ? '-' : `${view.repo}@${view.commit}`}`,
    `commits:     ${Object.entries(view.commits).map(([repo, sha]) => `${repo}@${short(sha)}`).join(', ') || '-'}`,
    `revision:    ${view.revision ?? '-'}`,
    `deployed:    ${view.deployedAt ?? '-'}`,
  ];
  if (view.preview !== undefined) {
    const left = view.preview.expiredAt !== undefined ? `expired at ${view.preview.expiredAt}` : view.preview.expiresAt === undefined ? 'no ttl' : `expires ${view.preview.expiresAt} (${humanDuration(view.preview.remainingMs ?? 0)} left)`;
    lines.push(`preview:     ${view.preview.mode} of ${view.preview.base}, ttl ${view.preview.ttl ?? '-'}, ${left}`);
  }
  if (view.pin !== undefined) {
    const pin = view.pin;
    lines.push(`pinned:      ${pin.reason}${pin.from === undefined ? '' : ` from ${pin.from}`}${pin.revision === undefined ? '' : ` to revision ${short(pin.revision)}`} at ${pin.at}${pin.by === undefined ? '' : ` by ${pin.by}`}; the next push or \`diploid unpin\` ends it`);
  }
  lines.push('', 'conditions:');
  const conditions = [['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'], ...view.conditions.map((item) => [item.type, item.status, item.reason, item.lastTransitionTime, item.message])];
  const workloads = [['SERVICE', 'KIND', 'READY', 'ROLLOUT', 'IMAGE'], ...services.map((item) => [item.service, item.kind, `${item.ready}/${item.desired}`, item.rollout, Object.values(item.images).join(', ')])];
  const history = [['REVISION', 'COMMIT', 'DEPLOYED', 'CAUSE', 'BY'], ...view.history.map((item) => [short(item.revision), item.commit === undefined ? '-' : `${item.repo}@${short(item.commit)}`, item.deployedAt, item.cause, item.by ?? '-'])];
  return `${lines.join('\n')}\n${indent(table(conditions))}\nservices:\n${unreachable !== undefined ? `  not readable: ${unreachable}\n` : services.length === 0 ? '  none running\n' : indent(table(workloads))}\nhistory:\n${view.history.length === 0 ? '  none recorded\n' : indent(table(history))}`;
}

function indent(text: string): string {
  return text.split('\n').map((line) => (line === '' ? line : `  ${line}`)).join('\n');
}
