import * as k8s from '@kubernetes/client-node';
import { reasonOf } from './kube-client.js';

/** Which pods: a service's in an environment's namespace. (A build's whole log: `latestBuild` in build-log.ts.) */
export interface LogSource {
  readonly kind: 'service';
  readonly namespace: string;
  readonly service: string;
}

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
  return `app.kubernetes.io/name=${source.service},app.kubernetes.io/managed-by=diploid`;
}

/**
 * Reads the logs of every pod of a service (all replicas) through the API server, as `kubectl logs` does. A pod whose logs cannot be read is reported,
 * not fatal: the others are still shown.
 */
export async function readPodLogs(config: k8s.KubeConfig, source: LogSource, options: LogOptions = {}): Promise<PodLogs[]> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const pods = (await core.listNamespacedPod({ namespace: source.namespace, labelSelector: logSelector(source) })).items;
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
