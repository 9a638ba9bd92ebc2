/**
 * DaemonSets in real-node namespaces run on the real node. A real-node namespace's annotations
 * (`realNodeNamespaceAnnotations`) make the API server give each *pod* the real node's selector and
 * the toleration of its taint, but the DaemonSet controller picks nodes from the DaemonSet's
 * *template*: without them it puts one pod on kwok's node (where the pod, selected to the real
 * node, stays Pending) and none on the tainted real node. Dropping the taint would not help (the
 * kwok node would still get a Pending pod, and every kwok test's pods could land on the real node).
 *
 * So the bed does what a cluster administrator would: a MutatingAdmissionPolicy (CEL, run inside
 * the API server: no webhook server to keep alive) adds the selector and the toleration to the
 * template of every DaemonSet created or updated in a namespace carrying those annotations, keeping
 * any selector keys and tolerations the DaemonSet has. The objects diploid applies stay as rendered.
 * (A server-side apply configuration cannot set these fields: both are atomic; JSON patches can.)
 */
import { kubectl } from './control-plane.js';
import { nodeKindLabel, realNodeNamespaceAnnotations, realNodeTaint, sandboxImage } from './node-config.js';
import { waitUntil } from './processes.js';

const policyName = 'diploid-testbed-daemonsets-on-real-node';
/** A real-node namespace of the bed's own, where a server-side dry run shows the policy at work. */
const probeNamespace = 'diploid-testbed-placement';

/** The policy and its binding (cluster-wide; the policy itself tells real-node namespaces apart). */
export function placementObjects(): object[] {
  const [selectorKey, selectorValue] = realNodeNamespaceAnnotations['scheduler.alpha.kubernetes.io/node-selector'].split('=');
  const toleration = JSON.stringify({ key: realNodeTaint.key, operator: 'Equal', value: realNodeTaint.value, effect: realNodeTaint.effect });
  const spec = 'object.spec.template.spec';
  const expression = [
    '!variables.realNode ? [] :',
    `(has(${spec}.nodeSelector) ?`,
    `  [JSONPatch{op: "add", path: "/spec/template/spec/nodeSelector/" + jsonpatch.escapeKey("${nodeKindLabel}"), value: "real"}] :`,
    `  [JSONPatch{op: "add", path: "/spec/template/spec/nodeSelector", value: {"${nodeKindLabel}": "real"}}]) +`,
    `(!has(${spec}.tolerations) ?`,
    `  [JSONPatch{op: "add", path: "/spec/template/spec/tolerations", value: [${toleration}]}] :`,
    `${spec}.tolerations.exists(t, has(t.key) && t.key == "${realNodeTaint.key}" && has(t.effect) && t.effect == "${realNodeTaint.effect}") ? [] :`,
    `  [JSONPatch{op: "add", path: "/spec/template/spec/tolerations/-", value: ${toleration}}])`,
  ].join('\n');
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicy',
      metadata: { name: policyName },
      spec: {
        matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['daemonsets'] }] },
        // namespaceObject is not available to matchConditions: the test is a variable of the mutation.
        variables: [{ name: 'realNode', expression: `namespaceObject.metadata.?annotations[?'scheduler.alpha.kubernetes.io/node-selector'].orValue('') == '${selectorKey}=${selectorValue}'` }],
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        mutations: [{ patchType: 'JSONPatch', jsonPatch: { expression } }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: { name: policyName },
      spec: { policyName },
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: probeNamespace, annotations: realNodeNamespaceAnnotations } },
  ];
}

/**
 * Installs the policy (idempotent: `up` calls it on a fresh bed and on a running one it reuses,
 * so a bed started before the policy existed gets it too) and waits until the API server applies
 * it: policies load a few seconds after they are created.
 */
export async function ensureDaemonSetPlacement(kubeconfig: string, log: (message: string) => void): Promise<void> {
  await kubectl(kubeconfig, ['apply', '--server-side', '--field-manager=diploid-testbed', '--force-conflicts', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: placementObjects() }));
  const probe = JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'probe', namespace: probeNamespace },
    spec: {
      selector: { matchLabels: { app: 'probe' } },
      template: { metadata: { labels: { app: 'probe' } }, spec: { containers: [{ name: 'probe', image: sandboxImage }] } },
    },
  });
  await waitUntil('the DaemonSet placement policy to take effect', async () => {
    const { stdout } = await kubectl(kubeconfig, ['create', '--dry-run=server', '-o', 'jsonpath={.spec.template.spec.nodeSelector}', '-f', '-'], probe);
    return stdout.includes(nodeKindLabel);
  }, { timeoutMs: 60_000, intervalMs: 500 });
  log('DaemonSets in real-node namespaces run on the real node (MutatingAdmissionPolicy)');
}
