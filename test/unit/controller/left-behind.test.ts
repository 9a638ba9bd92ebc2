import { describe, expect, it } from 'vitest';
import { ClusterSecretError } from '../../../src/cluster/clusters.js';
import { afterAttempt, pendingLeftBehind, settledStatus, withDeadline } from '../../../src/controller/left-behind.js';
import { condition, conditionsFor, type EnvironmentStatus } from '../../../src/controller/status.js';
import { environmentView, viewNote } from '../../../src/controller/status-view.js';

const prod = { name: 'prod', secret: 'diploid-cluster-prod', key: 'kubeconfig' };
const edge = { name: 'edge', secret: 'diploid-cluster-edge', key: 'kubeconfig' };
const NOW = '2026-11-29T09:00:00.000Z';

function status(fields: Partial<EnvironmentStatus>): EnvironmentStatus {
  return { environment: 'staging', namespace: 'shop-staging', appliedRevision: 'r1', updatedAt: NOW, conditions: conditionsFor('ready', 'Succeeded', 'deployed revision r1', NOW), ...fields };
}

describe('pendingLeftBehind: what a move leaves behind', () => {
  const table: Array<{ name: string; previous: EnvironmentStatus | undefined; target: { cluster?: typeof prod; namespace: string }; expected: unknown[] }> = [
    { name: 'a first deploy leaves nothing', previous: undefined, target: { cluster: prod, namespace: 'shop-staging' }, expected: [] },
    { name: 'staying in the same cluster leaves nothing', previous: status({ cluster: prod }), target: { cluster: prod, namespace: 'shop-staging' }, expected: [] },
    { name: 'home to prod leaves the home copy', previous: status({}), target: { cluster: prod, namespace: 'shop-staging' }, expected: [{ namespace: 'shop-staging', since: NOW }] },
    { name: 'prod back home leaves the prod copy', previous: status({ cluster: prod }), target: { namespace: 'shop-staging' }, expected: [{ cluster: prod, namespace: 'shop-staging', since: NOW }] },
    { name: 'nothing deployed yet where it was (never Ready there) leaves nothing', previous: status({ cluster: prod, appliedRevision: undefined }), target: { namespace: 'shop-staging' }, expected: [] },
    {
      name: 'a copy not removed yet is kept, and the new one is added',
      previous: status({ cluster: prod, leftBehind: [{ namespace: 'shop-staging', since: 'earlier', reason: 'ClusterSecretMissing', message: 'gone' }] }),
      target: { cluster: edge, namespace: 'shop-staging' },
      expected: [{ namespace: 'shop-staging', since: 'earlier', reason: 'ClusterSecretMissing', message: 'gone' }, { cluster: prod, namespace: 'shop-staging', since: NOW }],
    },
    {
      name: 'moving back onto a copy not removed yet takes it over instead of deleting it',
      previous: status({ cluster: prod, leftBehind: [{ namespace: 'shop-staging', since: 'earlier' }] }),
      target: { namespace: 'shop-staging' },
      expected: [{ cluster: prod, namespace: 'shop-staging', since: NOW }],
    },
    {
      name: 'the same place is recorded once, however often the move is retried',
      previous: status({ cluster: edge, leftBehind: [{ cluster: prod, namespace: 'shop-staging', since: 'earlier' }] }),
      target: { cluster: prod, namespace: 'shop-staging' },
      expected: [{ cluster: edge, namespace: 'shop-staging', since: NOW }],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      expect(pendingLeftBehind(row.previous, row.target, NOW)).toEqual(row.expected);
    });
  }
});

describe('afterAttempt and settledStatus: what the status says', () => {
  const entry = { cluster: prod, namespace: 'shop-staging', since: NOW };

  it('a copy removed (namespace deleted, absent, or not ours) is gone from the record', () => {
    for (const namespace of ['deleted', 'absent', 'not-ours'] as const) expect(afterAttempt(entry, { removal: { removed: ['Deployment shop-staging/web'], namespace, volumes: [] } })).toBeUndefined();
  });

  it('a namespace kept for its volumes stays recorded, naming them', () => {
    const stays = afterAttempt(entry, { removal: { removed: [], namespace: 'kept', volumes: ['shop-staging/data'] } });
    expect(stays).toMatchObject({ reason: 'VolumesKept' });
    expect(stays?.message).toContain('shop-staging/data');
  });

  it('an unreachable cluster stays recorded with the typed reason of the failure', () => {
    const missing = afterAttempt(entry, { error: new ClusterSecretError('ClusterSecretMissing', 'prod', 'cluster prod: Secret diploid-system/diploid-cluster-prod does not exist') });
    expect(missing).toMatchObject({ reason: 'ClusterSecretMissing', namespace: 'shop-staging', cluster: prod, since: NOW });
    expect(missing?.message).toMatch(/does not exist; tried again at every reconcile and resync$/);
    expect(afterAttempt(entry, { error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })).toMatchObject({ reason: 'ClusterUnreachable' });
  });

  it('Ready stays True and says LeftBehind, naming the cluster, the namespace and why; once removed, it says what went', () => {
    const moved = status({ leftBehind: [entry] });
    const left = settledStatus(moved, [{ ...entry, reason: 'ClusterSecretMissing', message: 'Secret gone' }], [], NOW);
    expect(condition(left, 'Ready')).toMatchObject({ status: 'True', reason: 'LeftBehind' });
    expect(condition(left, 'Ready')?.message).toBe(`revision r1 runs in namespace shop-staging of the controller's own cluster; left behind: namespace shop-staging in cluster prod (since ${NOW}): ClusterSecretMissing: Secret gone`);
    expect(left.leftBehind).toHaveLength(1);

    const done = settledStatus(left, [], ['3 objects removed from namespace shop-staging of cluster prod, namespace deleted'], NOW);
    expect(done.leftBehind).toBeUndefined();
    expect('leftBehind' in done).toBe(false);
    expect(condition(done, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(done, 'Ready')?.message).toContain('moved: 3 objects removed from namespace shop-staging of cluster prod, namespace deleted');
  });

  it('a deploy reason other than ours (drift reverted) is kept when the move is done', () => {
    const drifted = status({ leftBehind: [entry], conditions: conditionsFor('ready', 'DriftReverted', 'deployed revision r1; drift reverted', NOW) });
    const done = settledStatus(drifted, [], ['namespace deleted'], NOW);
    expect(condition(done, 'Ready')).toMatchObject({ reason: 'DriftReverted', message: 'deployed revision r1; drift reverted; moved: namespace deleted' });
  });
});

describe('diploid status', () => {
  it('notes the copies left behind, by cluster and namespace', () => {
    const view = environmentView(status({ cluster: prod, leftBehind: [{ namespace: 'shop-staging', since: NOW }, { cluster: edge, namespace: 'shop-staging', since: NOW }] }), new Date(NOW), undefined);
    expect(view.leftBehind).toEqual(['home/shop-staging', 'edge/shop-staging']);
    expect(viewNote(view)).toBe('cluster prod; left behind: home/shop-staging, edge/shop-staging');
    expect(viewNote(environmentView(status({}), new Date(NOW), undefined))).toBe('');
  });
});

describe('withDeadline: a cluster that never answers', () => {
  it('is given up on after the deadline, as ClusterUnreachable; an answer in time passes through', async () => {
    const never = new Promise<string>(() => {});
    const error = await withDeadline(never, 20, 'cluster prod did not answer within 0s').catch((caught: unknown) => caught);
    expect(afterAttempt({ namespace: 'shop-staging', since: NOW }, { error })).toMatchObject({ reason: 'ClusterUnreachable', message: 'cluster prod did not answer within 0s; tried again at every reconcile and resync' });
    await expect(withDeadline(Promise.resolve('done'), 1000, 'late')).resolves.toBe('done');
  });
});
