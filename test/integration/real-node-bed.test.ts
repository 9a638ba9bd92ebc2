/**
 * The bed's two kinds of node: kwok's fake one (pods marked Ready, nothing runs) and the real
 * one (a kubelet running containers). Each test's namespace says which its pods use.
 */
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eventually, freshNamespace, kubeConfig, requireKubernetes, requireRealNode, testbed } from './testbed.js';

const run = promisify(execFile);

function busybox(name: string, command: string): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: 65534 },
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', command] }],
    },
  };
}

describe('the real node', () => {
  it('is Ready, tainted so only real-node namespaces use it, and labelled apart from kwok', async () => {
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const real = await core.readNode({ name: requireRealNode().nodeName });
    expect(real.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(real.spec?.taints).toContainEqual(expect.objectContaining({ key: 'diploid.dev/real-node', effect: 'NoSchedule' }));
    expect(real.metadata?.labels?.['diploid.dev/node-kind']).toBe('real');
    expect(real.status?.addresses).toContainEqual({ type: 'InternalIP', address: requireRealNode().dnsServer });
    const fake = await core.readNode({ name: requireKubernetes().nodeName });
    expect(fake.metadata?.labels?.['diploid.dev/node-kind']).toBe('kwok');
  });

  it('runs pods of a real-node namespace, resolving service names, with logs and exec through the API server', async () => {
    const { name: namespace } = await freshNamespace('rn-bed', { node: 'real' });
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace, body: busybox('dns', 'nslookup kubernetes.default.svc.cluster.local; echo uid=$(id -u); sleep 300') });
    const pod = await eventually('the pod running', async () => {
      const read = await core.readNamespacedPod({ name: 'dns', namespace });
      return read.status?.phase === 'Running' ? read : undefined;
    }, 90_000, 500);
    expect(pod.spec?.nodeName).toBe(requireRealNode().nodeName);

    const log = await eventually('the lookup in the log', async () => {
      const text = await core.readNamespacedPodLog({ name: 'dns', namespace, container: 'main' });
      return text.includes('uid=') ? text : undefined;
    }, 30_000, 500);
    expect(log).toContain('10.96.0.1');
    expect(log).toContain('uid=65534');

    const kubectl = join(testbed().binDir, 'kubectl');
    const { stdout } = await run(kubectl, ['--kubeconfig', requireKubernetes().kubeconfig, '-n', namespace, 'exec', 'dns', '--', 'id', '-u']);
    expect(stdout.trim()).toBe('65534');
  });

  it('keeps pods of other namespaces on kwok', async () => {
    const { name: namespace } = await freshNamespace('kwok-only');
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace, body: busybox('fake', 'true') });
    const pod = await eventually('the pod scheduled', async () => {
      const read = await core.readNamespacedPod({ name: 'fake', namespace });
      return read.spec?.nodeName;
    }, 30_000, 250);
    expect(pod).toBe(requireKubernetes().nodeName);
  });

  it('places DaemonSets of a real-node namespace on the real node alone, keeping their own selector and tolerations; others stay as written', async () => {
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const daemonSet = (extra: Partial<k8s.V1PodSpec> = {}): k8s.V1DaemonSet => ({
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { securityContext: { runAsNonRoot: true, runAsUser: 65534 }, containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '300'] }], ...extra } },
      },
    });
    const { name: real } = await freshNamespace('rn-ds-place', { node: 'real' });
    await apps.createNamespacedDaemonSet({ namespace: real, body: daemonSet() });
    const placed = await apps.readNamespacedDaemonSet({ name: 'agent', namespace: real });
    expect(placed.spec?.template.spec?.nodeSelector).toEqual({ 'diploid.dev/node-kind': 'real' });
    expect(placed.spec?.template.spec?.tolerations).toEqual([{ key: 'diploid.dev/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    // One pod, running on the real node; none on kwok's.
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const nodes = await eventually('the DaemonSet\'s pod running', async () => {
      const pods = (await core.listNamespacedPod({ namespace: real, labelSelector: 'app=agent' })).items;
      return pods.length > 0 && pods.every((pod) => pod.status?.phase === 'Running') ? pods.map((pod) => pod.spec?.nodeName) : undefined;
    }, 60_000, 500);
    expect(nodes).toEqual([requireRealNode().nodeName]);
    // A DaemonSet's own selector keys and tolerations stay beside the real node's (a server-side dry run).
    const own = await apps.createNamespacedDaemonSet({ namespace: real, dryRun: 'All', body: { ...daemonSet({ nodeSelector: { zone: 'a' }, tolerations: [{ key: 'other', operator: 'Exists' }] }), metadata: { name: 'own' } } });
    expect(own.spec?.template.spec?.nodeSelector).toEqual({ zone: 'a', 'diploid.dev/node-kind': 'real' });
    expect(own.spec?.template.spec?.tolerations).toEqual([{ key: 'other', operator: 'Exists' }, { key: 'diploid.dev/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    // In a kwok namespace, a DaemonSet stays as written.
    const { name: kwok } = await freshNamespace('kwok-ds');
    const untouched = await apps.createNamespacedDaemonSet({ namespace: kwok, dryRun: 'All', body: daemonSet() });
    expect(untouched.spec?.template.spec?.nodeSelector).toBeUndefined();
    expect(untouched.spec?.template.spec?.tolerations).toBeUndefined();
  });
});
