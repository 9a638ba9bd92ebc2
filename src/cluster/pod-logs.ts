import * as k8s from '@kubernetes/client-node';
import { BUILD_LABEL } from './build-job.js';
import { reasonOf } from './kube-client.js';

/** Which pods: a service's in an environment's namespace, or a build's in the controller's. */
export type LogSource =
  | { readonly kind: 'service'; readonly namespace: string; readonly service: string }
  | { readonly kind: 'build'; readonly namespace: string; readonly service: string };

export interface LogOptions {
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  readonly container?: string;
}

/** One pod's logs, or why they could not be read (the pod is then still named). */
export interface PodLogs {
  readonly pod: string;
  readonly container?: string;
  readonly text?: string;
  readonly error?: string;
}

/** The label selector of a source's pods. Pure. */
export function logSelector(source: LogSource): string {
  return source.kind === 'service'
    ? `app.kubernetes.io/name=${source.service},app.kubernetes.io/managed-by=diploid`
    : `${BUILD_LABEL}=${source.service}`;
}

/**
 * Reads the logs of every pod of a service (all replicas), or of a service's newest build Job,
 * through the API server, as `kubectl logs` does. A pod whose logs cannot be read is reported,
 * not fatal: the others are still shown.
 */
export async function readPodLogs(config: k8s.KubeConfig, source: LogSource, options: LogOptions = {}): Promise<PodLogs[]> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  let pods = (await core.listNamespacedPod({ namespace: source.namespace, labelSelector: logSelector(source) })).items;
  if (source.kind === 'build') {
    // The newest build only: older Jobs of the same service are other builds.
    const jobs = [...new Set(pods.map((pod) => pod.metadata?.labels?.['job-name']).filter((name): name is string => name !== undefined))];
    const newest = pods.filter((pod) => pod.metadata?.labels?.['job-name'] !== undefined).sort((a, b) => time(b) - time(a))[0]?.metadata?.labels?.['job-name'];
    if (jobs.length > 1 && newest !== undefined) pods = pods.filter((pod) => pod.metadata?.labels?.['job-name'] === newest);
  }
  pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const results: PodLogs[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const containers = options.container !== undefined ? [options.container] : (pod.spec?.containers ?? []).map((container) => container.name);
    for (const container of containers) {
      try {
        const text = await core.readNamespacedPodLog({
          name,
          namespace: source.namespace,
          container,
          ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }),
          ...(options.sinceSeconds === undefined ? {} : { sinceSeconds: options.sinceSeconds }),
        });
        results.push({ pod: name, ...(containers.length > 1 ? { container } : {}), text });
      } catch (error) {
        results.push({ pod: name, ...(containers.length > 1 ? { container } : {}), error: reasonOf(error) });
      }
    }
  }
  return results;
}

function time(pod: k8s.V1Pod): number {
  const created = pod.metadata?.creationTimestamp;
  return created === undefined ? 0 : new Date(created).getTime();
}
