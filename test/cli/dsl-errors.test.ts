import { describe, expect, it } from 'vitest';
import { MINIMAL_CONFIG, runCli, writeOpsRepo } from '../support/ops-repo.js';

const service = (body: string) => `import { defineService, ref } from 'diploid';\nexport default defineService(${body});\n`;

async function renderErrors(files: Record<string, string>, backend = 'kubernetes'): Promise<{ code: number; stderr: string; stdout: string }> {
  const dir = writeOpsRepo({ '.diploid.conf.js': MINIMAL_CONFIG, ...files });
  return runCli(['render', '.', '--env', 'production', '--backend', backend], dir);
}

describe('errors name what the user meant', () => {
  it('points a probe with a misspelt timing at the timing key, suggested from the probe keys', async () => {
    const run = await renderErrors({ 'services/ad.js': service("{ name: 'ad', image: 'ad', port: 9555, health: { grpc: 9555, initialDelaySeconds: 20 } }") });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/ad.js:2 services.ad.health.initialDelaySeconds: unknown key "initialDelaySeconds" (did you mean "initialDelay"?)\n');
  });

  it('says a probe takes exactly one check when it has two', async () => {
    const run = await renderErrors({ 'services/cart.js': service("{ name: 'cart', image: 'cart', port: 3550, health: { grpc: 3550, http: '/x' } }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/cart.js:2 services.cart.health: expected exactly one of http, tcp, grpc or exec\n');
  });

  it('says what a resource range looks like', async () => {
    const run = await renderErrors({ 'services/api.js': service("{ name: 'api', image: 'api', resources: { memory: '220Mi-450Mi' } }") });
    expect(run.stderr).toBe(
      'error: 1 problem in the configuration:\n  services/api.js:2 services.api.resources.memory: expected a quantity such as "450Mi", or a range "min..max" such as "220Mi..450Mi", got "220Mi-450Mi"\n',
    );
  });

  it('reports a reference to a missing service in the same run as a schema error', async () => {
    const run = await renderErrors({
      'services/api.js': service("{ name: 'api', image: 'api', port: 8080, env: { CACHE: ref('cahce').address }, replicas: 'two' }"),
      'services/cache.js': service("{ name: 'cache', image: 'redis', ports: { redis: { port: 6379, protocol: 'tcp' } } }"),
    });
    expect(run.stderr).toBe(
      'error: 2 problems in the configuration:\n' +
        '  services/api.js:2 services.api.replicas: expected a number or an object, got "two"\n' +
        '  services/api.js:2 services.api.env.CACHE: refers to service "cahce", which does not exist (did you mean "cache"?)\n',
    );
  });

  it('groups the same compose warning for several services into one line', async () => {
    const run = await renderErrors(
      {
        'services/a.js': service("{ name: 'a', image: 'a', port: 8080, health: { http: '/healthz' }, security: { runAsUser: 1000 } }"),
        'services/b.js': service("{ name: 'b', image: 'b', port: 8080, health: { http: '/healthz' }, security: { runAsUser: 1000 } }"),
        'services/c.js': service("{ name: 'c', image: 'c', port: 8080, health: { http: '/healthz' }, security: { runAsUser: 1000 } }"),
      },
      'compose',
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'warning: services "a", "b", "c": health: the http check would run wget or curl inside the container, which the image may lack: no health check in compose, so services that depend on this one wait only for it to start (an exec check is kept as it is)\n',
    );
  });
});
