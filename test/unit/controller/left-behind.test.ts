import { describe, expect, it } from 'vitest';
import { ClusterSecretError } from '../../../src/cluster/clusters.js';
import { afterAttempt, forgetLeftBehind, pendingLeftBehind, settledStatus, withDeadline } from '../../../src/controller/left-behind.js';
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
    { name: 'another namespace in the same cluster leaves the old namespace', previous: status({}), target: { namespace: 'shop-stage2' }, expected: [{ namespace: 'shop-staging', since: NOW }] },
    { name: 'another namespace in the same other cluster leaves the old namespace there', previous: status({ cluster: prod }), target: { cluster: prod, namespace: 'shop-stage2' }, expected: [{ cluster: prod, namespace: 'shop-staging', since: NOW }] },
    {
      name: 'moving back to the namespace not removed yet takes it over',
      previous: status({ namespace: 'shop-stage2', leftBehind: [{ namespace: 'shop-staging', since: 'earlier' }] }),
      target: { namespace: 'shop-staging' },
      expected: [{ namespace: 'shop-stage2', since: NOW }],
    },
    {
      name: 'a first deploy that never became Ready (attempted, not applied) leaves what it applied there',
      previous: status({ cluster: prod, appliedRevision: undefined, attemptedRevision: 'r1', conditions: conditionsFor('stalled', 'RolloutFailed', 'web did not become ready', NOW) }),
      target: { namespace: 'shop-staging' },
      expected: [{ cluster: prod, namespace: 'shop-staging', since: NOW }],
    },
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

describe('forgetLeftBehind: an operator drops the record of a copy in a cluster gone for good', () => {
  const left = (entries: EnvironmentStatus['leftBehind']) => settledStatus(status({ leftBehind: entries }), entries ?? [], [], NOW);

  it('drops the copies in that cluster; Ready says they were forgotten, not removed', () => {
    const result = forgetLeftBehind(left([{ cluster: prod, namespace: 'shop-staging', since: NOW, reason: 'ClusterSecretMissing', message: 'gone' }]), 'prod', undefined, NOW);
    if ('problem' in result) throw new Error(result.problem);
    expect(result.forgotten).toMatchObject([{ cluster: prod, namespace: 'shop-staging' }]);
    expect('leftBehind' in result.status).toBe(false);
    expect(condition(result.status, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(result.status, 'Ready')?.message).toBe("revision r1 runs in namespace shop-staging of the controller's own cluster; forgotten by an operator, not removed: namespace shop-staging in cluster prod");
  });

  it('keeps the copies elsewhere, still named in Ready; `home` is the controller\'s own cluster, a namespace narrows it', () => {
    const entries = [{ cluster: prod, namespace: 'shop-staging', since: NOW }, { namespace: 'shop-old', since: NOW }, { namespace: 'shop-older', since: NOW }];
    const result = forgetLeftBehind(left(entries), 'home', 'shop-old', NOW);
    if ('problem' in result) throw new Error(result.problem);
    expect(result.forgotten).toEqual([{ namespace: 'shop-old', since: NOW }]);
    expect(result.status.leftBehind).toEqual([entries[0], entries[2]]);
    expect(condition(result.status, 'Ready')).toMatchObject({ status: 'True', reason: 'LeftBehind' });
    expect(condition(result.status, 'Ready')?.message).not.toContain('shop-old ');
  });

  it('a cluster or namespace with no copy is a clear problem naming what there is', () => {
    expect(forgetLeftBehind(left([{ cluster: prod, namespace: 'shop-staging', since: NOW }]), 'edge', undefined, NOW)).toEqual({ problem: 'staging has no copy left behind in cluster edge; it has: prod/shop-staging' });
    expect(forgetLeftBehind(status({}), 'prod', 'x', NOW)).toEqual({ problem: 'staging has no copy left behind in cluster prod, namespace x; it has none' });
  });

  it('a status that is not Ready keeps its conditions', () => {
    const failing = status({ leftBehind: [{ cluster: prod, namespace: 'shop-staging', since: NOW }], conditions: conditionsFor('stalled', 'RolloutFailed', 'web failed', NOW) });
    const result = forgetLeftBehind(failing, 'prod', undefined, NOW);
    if ('problem' in result) throw new Error(result.problem);
    expect(result.status.conditions).toEqual(failing.conditions);
    expect('leftBehind' in result.status).toBe(false);
  });
});
