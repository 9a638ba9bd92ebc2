import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../backends/kubernetes/objects.js';

const REVISION = 'deployment.kubernetes.io/revision';
/** The label the DaemonSet and StatefulSet controllers put on pods and ControllerRevisions. */
const POD_REVISION = 'controller-revision-hash';

/**
 * True for a workload whose failed rollout leaves nothing (or less than asked) serving, and that
 * no later push repairs by itself, so diploid puts its previous revision back:
 * - a `Recreate` Deployment: its old pods are gone before the new ones start;
 * - a DaemonSet: with one pod per host and no surge (diploid renders none, since a surge pod would
 *   clash with host ports), each host's old pod stops before its new one starts;
 * - a StatefulSet: it replaces its pods one by one, the highest ordinal first, and a replaced pod
 *   that never becomes ready stays broken: the controller waits on it forever, even after the
 *   template is reverted, until the pod is deleted (Kubernetes' "forced rollback").
 */
export function keepsNoOldPods(object: KubeObject): boolean {
  if (object.kind === 'DaemonSet' || object.kind === 'StatefulSet') return true;
  return object.kind === 'Deployment' && (object.spec as { strategy?: { type?: string } } | undefined)?.strategy?.type === 'Recreate';
}

/** Why a kind cannot keep its old pods, as `diploid apply` and the status say it. Pure. */
export function whyRestored(kind: string): string {
  if (kind === 'DaemonSet') return 'a DaemonSet stops the old pod on a host before its new one starts';
  if (kind === 'StatefulSet') return 'a StatefulSet replaced a pod that never became ready and would wait on it forever';
  return 'a Recreate Deployment keeps no old pods';
}

/**
 * Puts the pod template of the workload's previous revision back, as `kubectl rollout undo` does,
 * and for a DaemonSet or StatefulSet deletes the pods of the failed revision (the StatefulSet
 * controller would wait for them forever). Returns that revision, or undefined when there is none
 * (a first deploy).
 */
export async function restorePreviousRevision(config: k8s.KubeConfig, object: KubeObject): Promise<string | undefined> {
  if (object.kind === 'DaemonSet' || object.kind === 'StatefulSet') return restoreControllerRevision(config, object);
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

/** A ControllerRevision as far as a rollback reads it. */
export interface RevisionRecord {
  readonly name: string;
  readonly revision: number;
  /** The pods' `controller-revision-hash` label value (a DaemonSet's pods carry the hash, a StatefulSet's the name). */
  readonly podLabels: readonly string[];
  readonly data: unknown;
}

/**
 * The failed revision (the newest) and the one to restore (the newest before it) among a
 * workload's ControllerRevisions, with the previous one's pod template as the controller stored
 * it (`{spec: {template: {..., $patch: replace}}}`). Undefined when there is no previous one. Pure.
 */
export function previousRevision(revisions: readonly RevisionRecord[]): { failed: RevisionRecord; previous: RevisionRecord; template: k8s.V1PodTemplateSpec } | undefined {
  const sorted = [...revisions].sort((a, b) => b.revision - a.revision);
  const [failed, previous] = sorted;
  if (failed === undefined || previous === undefined) return undefined;
  const stored = (previous.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (stored === undefined) return undefined;
  const { $patch: _replace, ...template } = structuredClone(stored);
  return { failed, previous, template: template as k8s.V1PodTemplateSpec };
}

async function restoreControllerRevision(config: k8s.KubeConfig, object: KubeObject): Promise<string | undefined> {
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const core = config.makeApiClient(k8s.CoreV1Api);
  const name = object.metadata.name;
  const namespace = object.metadata.namespace ?? 'default';
  const live = object.kind === 'DaemonSet' ? await apps.readNamespacedDaemonSet({ name, namespace }) : await apps.readNamespacedStatefulSet({ name, namespace });
  const uid = live.metadata?.uid;
  const revisions: RevisionRecord[] = (await apps.listNamespacedControllerRevision({ namespace })).items
    .filter((revision) => revision.metadata?.ownerReferences?.some((owner) => owner.uid === uid) === true)
    .map((revision) => ({
      name: revision.metadata?.name ?? '',
      revision: revision.revision,
      podLabels: [revision.metadata?.name ?? '', revision.metadata?.labels?.[POD_REVISION] ?? ''].filter((label) => label !== ''),
      data: revision.data,
    }));
  const found = previousRevision(revisions);
  if (found === undefined || live.spec === undefined) return undefined;
  live.spec.template = found.template;
  if (object.kind === 'DaemonSet') await apps.replaceNamespacedDaemonSet({ name, namespace, body: live as k8s.V1DaemonSet, fieldManager: 'diploid-rollback' });
  else await apps.replaceNamespacedStatefulSet({ name, namespace, body: live as k8s.V1StatefulSet, fieldManager: 'diploid-rollback' });
  // Pods of the failed revision: the controllers replace them with pods of the restored one.
  const selector = (live.spec.selector?.matchLabels ?? {}) as Record<string, string>;
  const labelSelector = Object.entries(selector).map(([key, value]) => `${key}=${value}`).join(',');
  const pods = await core.listNamespacedPod({ namespace, labelSelector });
  await Promise.all(
    pods.items
      .filter((pod) => found.failed.podLabels.includes(pod.metadata?.labels?.[POD_REVISION] ?? ''))
      .map((pod) => core.deleteNamespacedPod({ name: pod.metadata?.name ?? '', namespace }).catch((error: unknown) => {
        if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
      })),
  );
  return String(found.previous.revision);
}
