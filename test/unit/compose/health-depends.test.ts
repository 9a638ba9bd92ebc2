import { describe, expect, it } from 'vitest';
import { compileCompose } from '../../../src/backends/compose/index.js';
import type { ResolvedProbe } from '../../../src/resolve/model.js';
import { app, http8080, service } from './fixtures.js';

describe('compose: health checks', () => {
  it('runs an HTTP check with wget, falling back to curl, with headers quoted for sh', () => {
    const probe: ResolvedProbe = { check: { kind: 'http', path: '/healthz', port: http8080, headers: [{ name: 'X-Probe', value: "it's me" }], scheme: 'HTTPS' }, period: 5, timeout: 2, failureThreshold: 4, initialDelay: 15 };
    const { file, warnings } = compileCompose(app([service('api', { health: { readiness: probe } })]));
    expect(file.services.api?.healthcheck).toEqual({
      test: [
        'CMD-SHELL',
        "wget -q -O /dev/null --no-check-certificate --header 'X-Probe: it'\\''s me' https://127.0.0.1:8080/healthz || curl -fsS -o /dev/null -k -H 'X-Probe: it'\\''s me' https://127.0.0.1:8080/healthz",
      ],
      interval: '5s',
      timeout: '2s',
      retries: 4,
      start_period: '15s',
    });
    expect(warnings).toEqual(['service "api": health: the http check runs wget or curl inside the container, which the image must have']);
  });

  it('runs TCP checks with nc and gRPC checks with grpc_health_probe, checking every 10 seconds unless told', () => {
    const { file } = compileCompose(
      app([
        service('cache', { health: { readiness: { check: { kind: 'tcp', port: { name: 'redis', port: 6379, servicePort: 6379, protocol: 'tcp' } } } } }),
        service('rpc', { health: { readiness: { check: { kind: 'grpc', port: { name: 'grpc', port: 50051, servicePort: 50051, protocol: 'grpc' }, service: 'v1' } } } }),
      ]),
    );
    expect(file.services.cache?.healthcheck).toEqual({ test: ['CMD-SHELL', 'nc -z -w 2 127.0.0.1 6379'], interval: '10s' });
    expect(file.services.rpc?.healthcheck).toEqual({ test: ['CMD', 'grpc_health_probe', '-addr=127.0.0.1:50051', '-service=v1'], interval: '10s' });
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
