import { describe, expect, it } from 'vitest';
import type { DeployRecord } from '../../../src/controller/history.js';
import { compactHistory, expandHistory } from '../../../src/controller/history-images.js';
import { parseStatus, statusConfigMap, STATUS_KEY, type EnvironmentStatus } from '../../../src/controller/status.js';

const entry = (revision: string, images: Record<string, string> | undefined): DeployRecord => ({ revision, repo: 'ops', commit: `c-${revision}`, commits: { ops: `c-${revision}` }, ...(images === undefined ? {} : { images }), deployedAt: '2026-11-29T01:00:00.000Z', cause: 'git' });
const status = (images: Record<string, string>, history: DeployRecord[]): EnvironmentStatus => ({ environment: 'production', namespace: 'shop-production', appliedRevision: history[0]?.revision, images, history, updatedAt: 't', conditions: [] });

describe('the deploy history in the status ConfigMap', () => {
  it('keeps each entry as the images changed from the newer one, and reads them back whole (added and removed services too)', () => {
    const r3 = { web: 'reg/web:3', api: 'reg/api:2', worker: 'reg/worker:1' };
    const r2 = { web: 'reg/web:2', api: 'reg/api:2' };
    const r1 = { web: 'reg/web:1', api: 'reg/api:1', cron: 'reg/cron:1' };
    const written = status(r3, [entry('r3', r3), entry('r2', r2), entry('r1', r1)]);
    const map = statusConfigMap('diploid-system', written);
    const stored = JSON.parse((map.data as Record<string, string>)[STATUS_KEY]!) as { history: Record<string, unknown>[] };
    expect(stored.history.map((item) => item['imageChanges'])).toEqual([{}, { web: 'reg/web:2', worker: null }, { web: 'reg/web:1', api: 'reg/api:1', cron: 'reg/cron:1' }]);
    expect(stored.history.every((item) => item['images'] === undefined)).toBe(true);
    expect(parseStatus(map.data as Record<string, string>)).toEqual(written);
  });

  it('expands the history only when it is read (listing statuses to plan reads none), and it is the same history then, spread or serialized', () => {
    const r2 = { web: 'reg/web:2', api: 'reg/api:1' };
    const r1 = { web: 'reg/web:1', api: 'reg/api:1' };
    const written = status(r2, [entry('r2', r2), entry('r1', r1)]);
    const read = parseStatus(statusConfigMap('diploid-system', written).data as Record<string, string>)!;
    expect(read.environment).toBe('production');
    // Not expanded yet: still the accessor parseStatus left.
    expect(Object.getOwnPropertyDescriptor(read, 'history')?.get).toBeDefined();
    expect({ ...read }.history).toEqual(written.history);
    expect(Object.getOwnPropertyDescriptor(read, 'history')?.value).toEqual(written.history);
    const again = parseStatus(statusConfigMap('diploid-system', written).data as Record<string, string>)!;
    expect(JSON.parse(JSON.stringify(again))).toEqual(JSON.parse(JSON.stringify(written)));
    expect(Object.keys(again)).toEqual(Object.keys(written));
  });

  it('reads a status written before, with every image in every entry, and writes it back compact', () => {
    const r2 = { web: 'reg/web:2', api: 'reg/api:1' };
    const r1 = { web: 'reg/web:1', api: 'reg/api:1' };
    // Exactly what the previous format wrote: the status as is.
    const old = { environment: 'production', namespace: 'shop-production', images: r2, history: [entry('r2', r2), entry('r1', r1)], updatedAt: 't', conditions: [] };
    const read = parseStatus({ [STATUS_KEY]: JSON.stringify(old, null, 2) });
    expect(read).toEqual(old);
    const again = statusConfigMap('diploid-system', read!);
    expect((again.data as Record<string, string>)[STATUS_KEY]).toContain('"imageChanges"');
    expect(parseStatus(again.data as Record<string, string>)).toEqual(old);
  });

  it('past the budget an older entry keeps no images, nor any entry after it; the newest always keeps its own', () => {
    const images = (n: number) => Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`svc-${i}`, `reg/svc-${i}:${n}`]));
    const history = [entry('r4', images(4)), entry('r3', images(3)), entry('r2', images(2)), entry('r1', images(1))];
    const oneChange = JSON.stringify(compactHistory(images(4), history)[1]!.imageChanges).length;
    const stored = compactHistory(images(4), history, oneChange * 1.5);
    expect(stored.map((item) => item.imageChanges === undefined)).toEqual([false, false, true, true]);
    const read = expandHistory(images(4), stored);
    expect(read.map((item) => item.images)).toEqual([images(4), images(3), undefined, undefined]);
    expect(read.map((item) => item.commits)).toEqual(history.map((item) => item.commits));
    // A budget of nothing still keeps the newest entry, whose changes from the status' images are none.
    expect(compactHistory(images(4), history, 0).map((item) => item.imageChanges)).toEqual([{}, undefined, undefined, undefined]);
  });

  it('an entry without images breaks the chain: older changes are not applied to the wrong base', () => {
    const stored = compactHistory({ web: 'w3' }, [entry('r3', { web: 'w3' }), entry('r2', undefined), entry('r1', { web: 'w1' })]);
    expect(stored.map((item) => item.imageChanges)).toEqual([{}, undefined, undefined]);
  });

  it('an edited status: malformed changes leave that entry and older ones without images; a `__proto__` service stays a plain key', () => {
    const text = JSON.stringify({
      environment: 'production', namespace: 'shop-production', images: { web: 'w2' }, updatedAt: 't', conditions: [],
      history: [
        { revision: 'r3', repo: 'ops', commits: {}, deployedAt: 't', cause: 'git', imageChanges: JSON.parse('{"__proto__": "evil"}') },
        7,
        { revision: 'r2', repo: 'ops', commits: {}, deployedAt: 't', cause: 'git', imageChanges: ['not', 'a', 'map'] },
        { revision: 'r1', repo: 'ops', commits: {}, deployedAt: 't', cause: 'git', imageChanges: { web: 'w1' } },
      ],
    });
    const read = parseStatus({ [STATUS_KEY]: text })!;
    expect(read.history!.map((item) => item.revision)).toEqual(['r3', 'r2', 'r1']);
    const newest = read.history![0]!.images!;
    expect(Object.getPrototypeOf(newest)).toBe(Object.prototype);
    expect(Object.entries(newest)).toEqual([['web', 'w2'], ['__proto__', 'evil']]);
    expect(read.history!.slice(1).map((item) => item.images)).toEqual([undefined, undefined]);
    // A status whose own images are not a map gives its history no base either.
    const odd = parseStatus({ [STATUS_KEY]: JSON.stringify({ ...JSON.parse(text), images: 'x' }) })!;
    expect(odd.history![0]!.images).toBeUndefined();
  });
});
