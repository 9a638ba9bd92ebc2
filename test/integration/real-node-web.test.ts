/**
 * The `spa` preset's static server on the bed's real node, through Traefik: the preset's own
 * server config and static image (the nginx-unprivileged look-alike), serving a built output.
 * No image is built here (the bed has no builder yet), so the output's files are given as
 * diploid files where the preset's Dockerfile would copy them.
 */
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES } from '../../src/resolve/index.js';
import { expandSpa } from '../../src/resolve/presets/spa.js';
import { apply, appService, http, opsConfig, realNodeNamespace } from './real-node-app.js';
import { eventually, kubeConfig, requireIngress } from './testbed.js';

const INDEX = '<!doctype html><html><head><script src="/assets/app.3f2a9c.js"></script></head><body>shop</body></html>\n';

describe('the spa preset served on a real node', () => {
  it('answers at its route, falls back to index.html, and caches fingerprinted assets for a year but not index.html', async () => {
    const namespace = await realNodeNamespace('rn-web');
    const { spec } = expandSpa({ spa: { output: 'dist' } }, DEFAULT_IMAGES);
    const { build: _build, spa: _spa, ...preset } = spec as Record<string, unknown>;
    const web = {
      ...preset,
      name: 'web',
      image: DEFAULT_IMAGES.static,
      routes: ['@'],
      files: {
        ...(spec.files as Record<string, string>),
        '/usr/share/nginx/html/index.html': INDEX,
        '/usr/share/nginx/html/assets/app.3f2a9c.js': 'document.body.dataset.ready = "yes";\n',
        '/usr/share/nginx/html/assets/settings.js': 'window.SETTINGS = {};\n',
      },
    };
    const result = await apply({
      '.diploid.conf.js': opsConfig(namespace),
      'services/web.js': `import { defineService } from 'diploid';\nexport default defineService(${JSON.stringify(web)});\n`,
    });
    expect(result.code, result.stderr).toBe(0);

    const networking = kubeConfig().makeApiClient(k8s.NetworkingV1Api);
    const host = (await networking.readNamespacedIngress({ name: 'web', namespace })).spec?.rules?.[0]?.host ?? '';
    const get = (path: string) => http(`${requireIngress().url}${path}`, { headers: { host } });

    const index = await eventually('web through the ingress', async () => {
      const response = await get('/');
      return response.status === 200 ? response : undefined;
    }, 60_000, 500);
    expect(index.body).toBe(INDEX);
    expect(index.headers['cache-control']).toBe('no-cache');

    const deep = await get('/orders/42/details');
    expect(deep.status).toBe(200);
    expect(deep.body).toBe(INDEX);
    expect(deep.headers['cache-control']).toBe('no-cache');

    const asset = await get('/assets/app.3f2a9c.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toContain('dataset.ready');

    // A script without a hash in its name may change under that name: it is revalidated.
    const unhashed = await get('/assets/settings.js');
    expect(unhashed.status).toBe(200);
    expect(unhashed.headers['cache-control']).toBe('no-cache');

    // A missing asset is a 404, not index.html served as JavaScript.
    expect((await get('/assets/missing.1a2b3c.js')).status).toBe(404);
  });
});

describe('Gateway API routes on a real node', () => {
  it('serve the app through the Gateway with the CORS headers of the cors preset', async () => {
    const namespace = await realNodeNamespace('rn-gateway');
    const { gateway } = requireIngress();
    const origin = 'http://web.example.test';
    const result = await apply({
      '.diploid.conf.js': opsConfig(namespace).replace(
        "ingress: { domain: 'realnode.test', className: 'traefik' }",
        `ingress: { domain: 'realnode.test', api: 'gateway', gateway: ${JSON.stringify(gateway)} }`,
      ),
      'services/api.js': appService('api', { security: { runAsUser: 1000 }, routes: ['api'], cors: { origins: [origin] } }, { VERSION: 'gw' }),
    });
    expect(result.code, result.stderr).toBe(0);

    const routes = kubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const route = (await routes.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'httproutes', name: 'api' })) as { spec: { hostnames: string[] } };
    const host = route.spec.hostnames[0] ?? '';
    const answer = await eventually('the app through the Gateway', async () => {
      const response = await http(`${requireIngress().url}/`, { headers: { host, origin } });
      return response.status === 200 ? response : undefined;
    }, 60_000, 500);
    expect((JSON.parse(answer.body) as { version: string }).version).toBe('gw');
    expect(answer.headers['access-control-allow-origin']).toBe(origin);
    // The route's status: accepted by the Gateway Traefik programs.
    const status = (await routes.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'httproutes', name: 'api' })) as { status?: { parents?: { conditions?: { type: string; status: string }[] }[] } };
    expect(status.status?.parents?.[0]?.conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
  });
});
