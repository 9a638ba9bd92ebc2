import * as k8s from '@kubernetes/client-node';
import { rolloutState } from './rollout.js';

/** One workload diploid runs in an environment, as the cluster reports it now. */
export interface LiveWorkload {
  readonly service: string;
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  readonly name: string;
  /** Image of each container, by container name. */
  readonly images: Readonly<Record<string, string>>;
  readonly desired: number;
  readonly ready: number;
  /** `rolled out`, or why not yet (as `kubectl rollout status` says it). */
  readonly rollout: string;
  readonly stalled: boolean;
}

const MANAGED = 'app.kubernetes.io/managed-by=diploid';

/** The workloads diploid manages in a namespace, sorted by service: what runs, not what was asked. */
export async function liveWorkloads(config: k8s.KubeConfig, namespace: string): Promise<LiveWorkload[]> {
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const [deployments, statefulSets, daemonSets] = await Promise.all([
    apps.listNamespacedDeployment({ namespace, labelSelector: MANAGED }),
    apps.listNamespacedStatefulSet({ namespace, labelSelector: MANAGED }),
    apps.listNamespacedDaemonSet({ namespace, labelSelector: MANAGED }),
  ]);
  const items: LiveWorkload[] = [
    ...deployments.items.map((item) => live('Deployment', item, item.spec?.replicas ?? 1, item.status?.readyReplicas ?? 0)),
    ...statefulSets.items.map((item) => live('StatefulSet', item, item.spec?.replicas ?? 1, item.status?.readyReplicas ?? 0)),
    ...daemonSets.items.map((item) => live('DaemonSet', item, item.status?.desiredNumberScheduled ?? 0, item.status?.numberReady ?? 0)),
  ];
  return items.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

type Workload = k8s.V1Deployment | k8s.V1StatefulSet | k8s.V1DaemonSet;

function live(kind: LiveWorkload['kind'], item: Workload, desired: number, ready: number): LiveWorkload {
  const name = item.metadata?.name ?? '';
  const containers = item.spec?.template.spec?.containers ?? [];
  const state = rolloutState(kind, item as Parameters<typeof rolloutState>[1]);
  return {
    service: item.metadata?.labels?.['app.kubernetes.io/name'] ?? name,
    kind,
    name,
    images: Object.fromEntries(containers.map((container) => [container.name, container.image ?? ''])),
    desired,
    ready,
    rollout: state.done ? 'rolled out' : state.reason,
    stalled: !state.done && state.stalled,
  };
}
