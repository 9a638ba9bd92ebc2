import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/backends/kubernetes/objects.js';
import { entryOf, inventoryDiff, inventoryOf, inventoryUnion } from '../../../src/cluster/environment-inventory.js';

const object = (apiVersion: string, kind: string, name: string, spec: unknown = {}): KubeObject => ({ apiVersion, kind, metadata: { name, namespace: 'ns' }, spec } as KubeObject);

describe('inventories', () => {
  it('prunes what the old inventory has and the new lacks, of any kind, never claims or namespaces', () => {
    const old = inventoryOf([
      object('apps/v1', 'Deployment', 'api'),
      object('gateway.networking.k8s.io/v1', 'HTTPRoute', 'api'),
      object('v1', 'PersistentVolumeClaim', 'db-data'),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } } as KubeObject,
      object('apps/v1', 'Deployment', 'web'),
    ]);
    const next = inventoryOf([object('apps/v1', 'Deployment', 'web')]);
    expect(inventoryDiff(old, next).map((entry) => `${entry.kind}/${entry.name}`)).toEqual(['Deployment/api', 'HTTPRoute/api']);
  });

  it('an object whose API version moved within its group is the same object, not pruned', () => {
    const old = inventoryOf([object('autoscaling/v2beta2', 'HorizontalPodAutoscaler', 'api')]);
    const next = inventoryOf([object('autoscaling/v2', 'HorizontalPodAutoscaler', 'api')]);
    expect(inventoryDiff(old, next)).toEqual([]);
  });

  it('hashes content: the same object gives the same hash, a changed one another', () => {
    expect(entryOf(object('apps/v1', 'Deployment', 'a', { replicas: 1 })).hash).toBe(entryOf(object('apps/v1', 'Deployment', 'a', { replicas: 1 })).hash);
    expect(entryOf(object('apps/v1', 'Deployment', 'a', { replicas: 2 })).hash).not.toBe(entryOf(object('apps/v1', 'Deployment', 'a', { replicas: 1 })).hash);
  });

  it('a deploy that pruned nothing keeps tracking the old objects', () => {
    const old = inventoryOf([object('apps/v1', 'Deployment', 'api'), object('apps/v1', 'Deployment', 'web', { v: 1 })]);
    const next = inventoryOf([object('apps/v1', 'Deployment', 'web', { v: 2 })]);
    const union = inventoryUnion(old, next);
    expect(union.map((entry) => entry.name)).toEqual(['api', 'web']);
    expect(union.find((entry) => entry.name === 'web')?.hash).toBe(next[0]?.hash);
  });
});
