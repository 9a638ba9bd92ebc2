/**
 * The push bench's wait for a cluster at rest (bench/cluster-settle.mjs) on the bed's real API
 * server: writes keep it waiting, and it says what was written.
 */
import * as k8s from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import { describeSettle, settleCluster } from '../../bench/cluster-settle.mjs';
import { freshNamespace, kubeConfig } from './testbed.js';

it('waits while something writes to the cluster, until nothing but heartbeats has been written for the quiet time', async () => {
  const kube = kubeConfig();
  const namespace = await freshNamespace('settle');
  const core = kube.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: namespace.name, body: { metadata: { name: 'busy' }, data: { n: '0' } } });
  const writerMs = 3_000;
  const quietMs = 2_000;
  const started = Date.now();
  let written = 0;
  const writer = (async () => {
    while (Date.now() - started < writerMs) {
      written++;
      await core.replaceNamespacedConfigMap({ name: 'busy', namespace: namespace.name, body: { metadata: { name: 'busy' }, data: { n: String(written) } } });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  // The bed is shared: others' writes may keep the cluster busy for longer than the timeout.
  const result = await settleCluster({ kube, quietMs, timeoutMs: 30_000, intervalMs: 250 });
  await writer;
  expect(written).toBeGreaterThan(5);
  expect(result.written.get('PUT core/configmaps') ?? 0).toBeGreaterThanOrEqual(written - 2);
  // Not at rest before the last write was quietMs old.
  expect(result.ms).toBeGreaterThanOrEqual(writerMs + quietMs - 300);
  if (result.atRest) {
    expect(describeSettle(result, quietMs)).toMatch(/^at rest after [\d.]+ s .*written meanwhile: .*PUT core\/configmaps/);
  } else {
    expect(result.ms).toBeGreaterThanOrEqual(30_000);
    expect(describeSettle(result, quietMs)).toMatch(/^NOT at rest after [\d.]+ s .*: still writing /);
  }
});
