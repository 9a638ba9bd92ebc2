import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';

const REVISION = 'deployment.kubernetes.io/revision';

/**
 * True for a Deployment that replaces its pods (`Recreate`): its old pods are gone before the new
 * ones start, so nothing of the previous version outlives a failed rollout.
 */
export function keepsNoOldPods(object: KubeObject): boolean {
  return object.kind === 'Deployment' && (object.spec as { strategy?: { type?: string } } | undefined)?.strategy?.type === 'Recreate';
}

/**
 * Puts the pod template of the Deployment's previous revision back, as `kubectl rollout undo`
 * does. Returns that revision, or undefined when there is none (a first deploy).
 */
export async function restorePreviousRevision(config: k8s.KubeConfig, object: KubeObject): Promise<string | undefined> {
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const name = object.metadata.name;
  const namespace = object.metadata.namespace ?? 'default';
  const deployment = await apps.readNamespacedDeployment({ name, namespace });
  const current = Number(deployment.metadata?.annotations?.[REVISION] ?? '0');
  const owned = (await apps.listNamespacedReplicaSet({ namespace })).items
    .filter((set) => set.metadata?.ownerReferences?.some((owner) => owner.uid === deployment.metadata?.uid) === true)
    .map((set) => ({ set, revision: Number(set.metadata?.annotations?.[REVISION] ?? '0') }))
    .filter((entry) => entry.revision < current)
    .sort((a, b) => b.revision - a.revision);
  const previous = owned[0];
  if (previous?.set.spec?.template === undefined || deployment.spec === undefined) return undefined;
  const template = structuredClone(previous.set.spec.template);
  // The ReplicaSet's own label, which the Deployment controller adds again.
  delete template.metadata?.labels?.['pod-template-hash'];
  deployment.spec.template = template;
  await apps.replaceNamespacedDeployment({ name, namespace, body: deployment, fieldManager: 'diploid-rollback' });
  return String(previous.revision);
}
