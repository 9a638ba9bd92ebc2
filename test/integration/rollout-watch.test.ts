/**
 * The rollout wait of a push on the bed's real API server and kube-controller-manager (kwok's
 * node runs the pods): it watches the changed workloads instead of reading them again and again,
 * and the environment's inventory is written while the rollout runs when nothing is removed.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { KubeObject } from '../../src/backends/kubernetes/objects.js';
import { applyObjects } from '../../src/cluster/apply.js';
import { deployEnvironment } from '../../src/cluster/deploy.js';
import { readInventory } from '../../src/cluster/environment-inventory.js';
import { waitForRollout } from '../../src/cluster/rollout.js';
import { eventually, freshNamespace, kubeConfig, serviceAccountConfig } from './testbed.js';

function deployment(namespace: string, name: string, image: string, spec: Record<string, unknown> = {}, pod: Record<string, unknown> = {}): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: { replicas: 1, selector: { matchLabels: labels }, ...spec, template: { metadata: { labels }, spec: { containers: [{ name: 'main', image }], ...pod } } },
  };
}

/** The requests this process makes whose path contains `fragment`, as they start. */
function recordRequests(fragment: string): string[] {
  const seen: string[] = [];
  const listener = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (request.path.includes(fragment)) seen.push(`${request.method} ${request.path}`);
  };
  diagnosticsChannel.subscribe('http.client.request.start', listener);
  onTestFinished(() => {
    diagnosticsChannel.unsubscribe('http.client.request.start', listener);
  });
  return seen;
}

describe('the rollout wait of a push', () => {
  it('watches a changed Deployment until its new version is available: one read, however long the rollout takes', async () => {
    const config = kubeConfig();
    const { name: namespace } = await freshNamespace('rollout-watch');
    // minReadySeconds keeps the new version unavailable for 4 s after its pod is ready: a wait
    // that read the Deployment every 100 ms would read it about 40 times.
    const first = deployment(namespace, 'web', 'web:1', { minReadySeconds: 4 });
    await applyObjects(config, [first]);
    expect(await waitForRollout(config, [first], { timeoutMs: 60_000 })).toEqual([]);
    const second = deployment(namespace, 'web', 'web:2', { minReadySeconds: 4 });
    await applyObjects(config, [second]);
    const requests = recordRequests(`/namespaces/${namespace}/deployments`);
    expect(await waitForRollout(config, [second], { timeoutMs: 60_000 })).toEqual([]);
    const live = await config.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'web', namespace });
    // Done means done: the new version is the one available, nothing of the old one is left.
    expect(live.spec?.template.spec?.containers[0]?.image).toBe('web:2');
    expect(live.status?.observedGeneration).toBe(live.metadata?.generation);
    expect([live.status?.updatedReplicas, live.status?.availableReplicas, live.status?.replicas]).toEqual([1, 1, 1]);
    const reads = requests.filter((request) => !request.includes('watch=true'));
    const watches = requests.filter((request) => request.includes('watch=true'));
    expect(reads.length, requests.join('\n')).toBeLessThanOrEqual(2);
    expect(watches.length, requests.join('\n')).toBeGreaterThanOrEqual(1);
    expect(watches[0]).toContain('fieldSelector=metadata.name%3Dweb');
  });

  it('reads the Deployment again every 100 ms when its role may not watch: the refused watch is asked once, and the new version is seen', async () => {
    const config = kubeConfig();
    const { name: namespace } = await freshNamespace('rollout-nowatch');
    // A role that may read Deployments but not watch them, as a controller installed before it had the right.
    const reader = await serviceAccountConfig(namespace, 'reader', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }]);
    const first = deployment(namespace, 'web', 'web:1');
    await applyObjects(config, [first]);
    expect(await waitForRollout(config, [first], { timeoutMs: 60_000 })).toEqual([]);
    // minReadySeconds: the new version stays unavailable for 2 s after its pod is ready.
    const second = deployment(namespace, 'web', 'web:2', { minReadySeconds: 2 });
    await applyObjects(config, [second]);
    const requests = recordRequests(`/namespaces/${namespace}/deployments`);
    const started = Date.now();
    expect(await waitForRollout(reader, [second], { timeoutMs: 60_000 })).toEqual([]);
    const waitedMs = Date.now() - started;
    const live = await config.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'web', namespace });
    expect(live.spec?.template.spec?.containers[0]?.image).toBe('web:2');
    expect([live.status?.updatedReplicas, live.status?.availableReplicas, live.status?.replicas]).toEqual([1, 1, 1]);
    const watches = requests.filter((request) => request.includes('watch=true'));
    const reads = requests.filter((request) => !request.includes('watch=true'));
    expect(watches, requests.join('\n')).toHaveLength(1);
    // About one read per 100 ms of waiting (each read takes a few ms more): at least a third of that.
    expect(reads.length, requests.join('\n')).toBeGreaterThanOrEqual(Math.floor(waitedMs / 300));
  });

  it('writes the inventory while the rollout runs when the push removes nothing, and still reports the failed rollout', async () => {
    const config = kubeConfig();
    const { name: namespace } = await freshNamespace('rollout-inventory');
    const settings: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace }, data: { mode: 'a' } };
    const options = { project: 'inv', environment: 'production', namespace, prune: true, wait: true };
    const first = await deployEnvironment(config, [settings], { ...options, timeoutMs: 30_000 });
    expect(first.failures).toEqual([]);
    expect((await readInventory(config, namespace)).map((entry) => entry.kind)).toEqual(['ConfigMap']);
    // A pod no node takes: the rollout cannot finish before the deploy's timeout.
    const stuck = deployment(namespace, 'api', 'api:1', {}, { nodeSelector: { 'diploid.dev/no-such-node': 'true' } });
    let settled = false;
    const deploying = deployEnvironment(config, [settings, stuck], { ...options, timeoutMs: 6_000 }).finally(() => {
      settled = true;
    });
    const seen = await eventually('the Deployment in the inventory', async () => {
      const kinds = (await readInventory(config, namespace)).map((entry) => entry.kind).sort();
      return kinds.includes('Deployment') ? { kinds, settled } : undefined;
    }, 30_000, 100);
    expect(seen).toEqual({ kinds: ['ConfigMap', 'Deployment'], settled: false });
    const result = await deploying;
    expect(result.failures.map((failure) => failure.object)).toEqual([`Deployment ${namespace}/api`]);
    expect(result.inventory.map((entry) => entry.kind).sort()).toEqual(['ConfigMap', 'Deployment']);
  });
});
