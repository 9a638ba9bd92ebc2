import * as k8s from '@kubernetes/client-node';
import { ENVIRONMENT_LABEL } from '../backends/kubernetes/labels.js';
import type { KubeObject } from '../backends/kubernetes/objects.js';
import { describeObject } from './apply.js';
import { statusOf } from './kube-client.js';

/** Kinds diploid creates inside a namespace, and so may have to delete. */
const PRUNABLE = [
  ['networking.k8s.io/v1', 'Ingress'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['batch/v1', 'CronJob'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
  ['v1', 'ServiceAccount'],
] as const;

/**
 * Deletes what diploid once applied to an environment's namespace and no longer renders.
 * Only objects carrying diploid's labels for this project and environment are candidates, so
 * nothing created by hand is touched. Persistent volume claims are kept: data is not pruned.
 */
export async function pruneObjects(config: k8s.KubeConfig, options: { namespace: string; project: string; environment: string; keep: readonly KubeObject[] }): Promise<string[]> {
  const client = k8s.KubernetesObjectApi.makeApiClient(config);
  const keep = new Set(options.keep.map((object) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`));
  const selector = `app.kubernetes.io/managed-by=diploid,app.kubernetes.io/part-of=${options.project},${ENVIRONMENT_LABEL}=${options.environment}`;
  const deleted: string[] = [];
  for (const [apiVersion, kind] of PRUNABLE) {
    let items: k8s.KubernetesObject[];
    try {
      items = (await client.list(apiVersion, kind, options.namespace, undefined, undefined, undefined, undefined, selector)).items;
    } catch (error) {
      if (statusOf(error) === 404) continue;
      throw error;
    }
    for (const item of items) {
      const key = `${kind}/${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
      if (keep.has(key)) continue;
      await client.delete({ apiVersion, kind, metadata: { name: item.metadata?.name ?? '', namespace: options.namespace } });
      deleted.push(describeObject({ kind, metadata: { name: item.metadata?.name ?? '', namespace: options.namespace } }));
    }
  }
  return deleted;
}
