import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/backends/kubernetes/objects.js';
import { keepsNoOldPods, previousRevision, whyRestored, type RevisionRecord } from '../../../src/cluster/rollback.js';

const template = (version: string) => ({ metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: `agent:${version}` }] } });
/** As the DaemonSet and StatefulSet controllers store a revision: a strategic patch that replaces the template. */
const stored = (version: string) => ({ spec: { template: { ...template(version), $patch: 'replace' } } });
const revision = (name: string, number: number, version: string): RevisionRecord => ({ name, revision: number, podLabels: [name], data: stored(version) });
const workload = (kind: string, spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'apps/v1', kind, metadata: { name: 'agent', namespace: 'ns' }, spec });

describe('the revision a failed DaemonSet or StatefulSet rollout goes back to', () => {
  it('is the newest before the failed one, whatever order the API lists them in, with its template as it ran', () => {
    const found = previousRevision([revision('agent-b', 2, 'v2'), revision('agent-c', 3, 'v3'), revision('agent-a', 1, 'v1')]);
    expect(found?.failed.name).toBe('agent-c');
    expect(found?.previous.name).toBe('agent-b');
    expect(found?.template).toEqual(template('v2'));
    // The controller's patch directive is not part of a pod template.
    expect(found?.template).not.toHaveProperty('$patch');
  });

  it('follows the revision numbers after an earlier restore (a restored revision is renumbered newest)', () => {
    // v1 ran (1), v2 failed (2) and v1 was restored (now 3), then v4 failed (4): back to v1.
    const found = previousRevision([revision('agent-v1', 3, 'v1'), revision('agent-v2', 2, 'v2'), revision('agent-v4', 4, 'v4')]);
    expect(found?.previous.name).toBe('agent-v1');
    expect(found?.template).toEqual(template('v1'));
  });

  it('is none on a first deploy', () => {
    expect(previousRevision([revision('agent-a', 1, 'v1')])).toBeUndefined();
    expect(previousRevision([])).toBeUndefined();
  });

  it('is none when the stored revision holds no template', () => {
    expect(previousRevision([{ ...revision('agent-a', 1, 'v1'), data: {} }, revision('agent-b', 2, 'v2')])).toBeUndefined();
  });
});

describe('which workloads diploid restores after a failed rollout', () => {
  it.each([
    ['a rolling Deployment (its old pods keep serving)', workload('Deployment'), false],
    ['a Recreate Deployment', workload('Deployment', { strategy: { type: 'Recreate' } }), true],
    ['a DaemonSet', workload('DaemonSet'), true],
    ['a StatefulSet', workload('StatefulSet', { replicas: 3 }), true],
  ])('%s: %s', (_what, object, restored) => {
    expect(keepsNoOldPods(object)).toBe(restored);
  });

  it('says why for each kind', () => {
    expect(whyRestored('DaemonSet')).toBe('a DaemonSet stops the old pod on a host before its new one starts');
    expect(whyRestored('StatefulSet')).toBe('a StatefulSet replaced a pod that never became ready and would wait on it forever');
    expect(whyRestored('Deployment')).toBe('a Recreate Deployment keeps no old pods');
  });
});
