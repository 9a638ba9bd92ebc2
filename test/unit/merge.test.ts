import { describe, expect, it } from 'vitest';
import { shared } from '../../src/model/values.js';
import { mergeLayers } from '../../src/resolve/merge.js';

describe('mergeLayers', () => {
  it('merges objects key by key, the overlay winning', () => {
    expect(mergeLayers({ env: { A: '1', B: '2' }, replicas: 1 }, { env: { B: '3', C: '4' } })).toEqual({ env: { A: '1', B: '3', C: '4' }, replicas: 1 });
  });

  it('replaces lists whole, so an overlay can shorten them', () => {
    expect(mergeLayers({ args: ['a', 'b', 'c'] }, { args: ['x'] })).toEqual({ args: ['x'] });
  });

  it('replaces a health check whole instead of mixing two kinds', () => {
    expect(mergeLayers({ health: { http: '/healthz', period: 5 } }, { health: { exec: ['true'] } })).toEqual({ health: { exec: ['true'] } });
  });

  it('merges health kinds, but each kind whole', () => {
    const merged = mergeLayers({ health: { readiness: { http: '/ready' }, liveness: { tcp: 80 } } }, { health: { liveness: { exec: ['true'] } } });
    expect(merged).toEqual({ health: { readiness: { http: '/ready' }, liveness: { exec: ['true'] } } });
  });

  it('treats value expressions as values', () => {
    expect(mergeLayers({ env: { LEVEL: { $secret: { name: 's', key: 'k' } } } }, { env: { LEVEL: shared('LOG_LEVEL') } })).toEqual({ env: { LEVEL: { $shared: 'LOG_LEVEL' } } });
  });

  it('ignores undefined in the overlay and keeps the base untouched', () => {
    const base = { env: { A: '1' } };
    expect(mergeLayers(base, { env: undefined, image: 'x' })).toEqual({ env: { A: '1' }, image: 'x' });
    expect(base).toEqual({ env: { A: '1' } });
  });

  it('replaces one port entry whole but keeps the others', () => {
    expect(mergeLayers({ ports: { http: { port: 80, protocol: 'http2' }, admin: 9000 } }, { ports: { http: 8080 } })).toEqual({ ports: { http: 8080, admin: 9000 } });
  });
});
