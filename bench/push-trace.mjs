// Watches a namespace's Deployments, ReplicaSets, Pods and Events and prints each change with this
// process's clock, one JSON line each: run beside `npm run bench -- --only push` (with
// DIPLOID_BENCH_TRACE=1, which prints the controller's API requests on the same clock) to see
// where a push's time goes between the apply and the new ReplicaSet's availability.
//   node bench/push-trace.mjs KUBECONFIG [NAMESPACE=bench-production] > trace.jsonl
import * as k8s from '@kubernetes/client-node';

const [kubeconfig, namespace = 'bench-production'] = process.argv.slice(2);
const kube = new k8s.KubeConfig();
kube.loadFromFile(kubeconfig);
const watch = new k8s.Watch(kube);
const print = (record) => process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), ...record })}\n`);

const summaries = {
  deployments: (o) => ({ gen: o.metadata?.generation, observed: o.status?.observedGeneration, image: o.spec?.template?.spec?.containers?.[0]?.image, updated: o.status?.updatedReplicas, available: o.status?.availableReplicas, replicas: o.status?.replicas }),
  replicasets: (o) => ({ owner: o.metadata?.ownerReferences?.[0]?.name, replicas: o.spec?.replicas, ready: o.status?.readyReplicas, available: o.status?.availableReplicas, observed: o.status?.observedGeneration }),
  // An Event's `lastTimestamp` is when its component recorded it (to the second), `t` when the API
  // server had it: far apart when the component's client is backed up (README, run K).
  events: (o) => ({ reason: o.reason, component: o.source?.component ?? o.reportingComponent, object: `${o.involvedObject?.kind}/${o.involvedObject?.name}`, recorded: o.lastTimestamp ?? o.eventTime, count: o.count }),
  pods: (o) => ({ owner: o.metadata?.ownerReferences?.[0]?.name, node: o.spec?.nodeName, phase: o.status?.phase, ready: o.status?.conditions?.find((c) => c.type === 'Ready')?.status, deleting: o.metadata?.deletionTimestamp !== undefined }),
};
for (const [resource, summary] of Object.entries(summaries)) {
  const group = resource === 'pods' || resource === 'events' ? '/api/v1' : '/apis/apps/v1';
  const start = () =>
    watch.watch(`${group}/namespaces/${namespace}/${resource}`, { allowWatchBookmarks: false }, (type, object) => print({ kind: resource, type, name: object.metadata?.name, rv: object.metadata?.resourceVersion, ...summary(object) }), () => setTimeout(start, 100));
  await start();
}
