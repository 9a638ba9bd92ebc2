import { describe, expect, it } from 'vitest';
import { compileCompose } from '../../../src/backends/compose/index.js';
import type { ResolvedProbe } from '../../../src/resolve/model.js';
import { app, http8080, service } from './fixtures.js';

describe('compose: health checks', () => {
  it('invents no check that needs a tool in the image: http, tcp and grpc checks are left out, with a warning', () => {
    const http: ResolvedProbe = { check: { kind: 'http', path: '/healthz', port: http8080, headers: [], scheme: 'HTTP' } };
    const { file, warnings } = compileCompose(
      app([
        service('api', { health: { readiness: http } }),
        service('cache', { health: { readiness: { check: { kind: 'tcp', port: { name: 'redis', port: 6379, servicePort: 6379, protocol: 'tcp' } } } } }),
        service('rpc', { health: { readiness: { check: { kind: 'grpc', port: { name: 'grpc', port: 50051, servicePort: 50051, protocol: 'grpc' }, service: 'v1' } } } }),
        service('web', { references: ['api'] }),
      ]),
    );
    for (const name of ['api', 'cache', 'rpc']) expect(file.services[name]?.healthcheck).toBeUndefined();
    expect(JSON.stringify(file)).not.toMatch(/wget|curl|\bnc\b|grpc_health_probe/);
    expect(file.services.web?.depends_on).toEqual({ api: { condition: 'service_started' } });
    expect(warnings).toEqual([
      'service "api": health: the http check would run wget or curl inside the container, which the image may lack: no health check in compose, so services that depend on this one wait only for it to start (an exec check is kept as it is)',
      'service "cache": health: the tcp check would run nc inside the container, which the image may lack: no health check in compose, so services that depend on this one wait only for it to start (an exec check is kept as it is)',
      'service "rpc": health: the grpc check would run grpc_health_probe inside the container, which the image may lack: no health check in compose, so services that depend on this one wait only for it to start (an exec check is kept as it is)',
    ]);
  });

  it('keeps an exec check with its timing, every 10 seconds unless told', () => {
    const probe: ResolvedProbe = { check: { kind: 'exec', command: ['pg_isready', '-q'] }, period: 5, timeout: 2, failureThreshold: 4, initialDelay: 15 };
    const { file } = compileCompose(app([service('db', { health: { readiness: probe } }), service('queue', { health: { readiness: { check: { kind: 'exec', command: ['true'] } } } })]));
    expect(file.services.db?.healthcheck).toEqual({ test: ['CMD', 'pg_isready', '-q'], interval: '5s', timeout: '2s', retries: 4, start_period: '15s' });
    expect(file.services.queue?.healthcheck).toEqual({ test: ['CMD', 'true'], interval: '10s' });
  });

  it('prefers readiness, gives a startup probe its budget as start period, and says liveness does not restart', () => {
    const readiness: ResolvedProbe = { check: { kind: 'exec', command: ['pg_isready'] } };
    const liveness: ResolvedProbe = { check: { kind: 'exec', command: ['true'] } };
    const startup: ResolvedProbe = { check: { kind: 'exec', command: ['true'] }, period: 5, failureThreshold: 12 };
    const { file, warnings } = compileCompose(app([service('db', { health: { readiness, liveness, startup } })]));
    expect(file.services.db?.healthcheck).toEqual({ test: ['CMD', 'pg_isready'], interval: '10s', start_period: '60s' });
    expect(warnings).toEqual(['service "db": health: a failing container is marked unhealthy but not restarted, as liveness would; the liveness check differs from readiness and is left out']);
  });
});

describe('compose: start order', () => {
  const ready: ResolvedProbe = { check: { kind: 'exec', command: ['true'] } };

  it('waits for healthy dependencies, and for started ones that have no check', () => {
    const { file, warnings } = compileCompose(
      app([
        service('api', { after: [{ service: 'db', port: http8080 }], references: ['cache', 'db'] }),
        service('db', { health: { readiness: ready } }),
        service('cache'),
      ]),
    );
    expect(file.services.api?.depends_on).toEqual({ cache: { condition: 'service_started' }, db: { condition: 'service_healthy' } });
    expect(warnings).toEqual([]);
  });

  it('leaves out a reference that would close a cycle, keeping every explicit `after`', () => {
    const { file, warnings } = compileCompose(
      app([
        service('api', { references: ['web'] }),
        service('web', { after: [{ service: 'api', port: http8080 }], references: ['api'] }),
      ]),
    );
    expect(file.services.web?.depends_on).toEqual({ api: { condition: 'service_started' } });
    expect(file.services.api?.depends_on).toBeUndefined();
    expect(warnings).toEqual(['service "web": after: "api" has no health check, so compose waits only for it to start, not for its port to answer']);
  });

  it('ignores references to services that are not in this file', () => {
    const { file } = compileCompose(app([service('api', { references: ['elsewhere'] })]));
    expect(file.services.api?.depends_on).toBeUndefined();
  });
});
