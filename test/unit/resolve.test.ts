import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { ref, secret, shared } from '../../src/model/values.js';
import { checkApp, resolveApp, type AppSources } from '../../src/resolve/index.js';

function sources(config: Record<string, unknown>, ...services: Array<Record<string, unknown> | { repo: string; value: unknown }>): AppSources {
  return {
    config: { file: '.diploid.conf.js', value: { project: 'shop', environments: { production: {} }, ...config } },
    services: services.map((service, index) =>
      'repo' in service && 'value' in service
        ? { document: { file: `repo/${index}.js`, value: service.value }, origin: { kind: 'repo' as const, repo: service.repo as string } }
        : { document: { file: `services/${index}.js`, value: service }, origin: { kind: 'ops' as const } },
    ),
  };
}

const resolveOne = (input: AppSources, environment = 'production') => resolveApp(input, { environment });

describe('resolveApp', () => {
  it('names a lone port after its protocol and resolves references to it', () => {
    const app = resolveOne(
      sources({}, { name: 'api', image: 'api', port: { port: 7070, protocol: 'grpc' } }, { name: 'web', image: 'web', env: { API: ref('api').address, API_URL: ref('api').url, API_HOST: ref('api').host } }),
    );
    const api = app.services.find((service) => service.name === 'api');
    expect(api?.ports).toEqual([{ name: 'grpc', port: 7070, servicePort: 7070, protocol: 'grpc' }]);
    const web = app.services.find((service) => service.name === 'web');
    expect(web?.env.map((variable) => variable.value)).toEqual([
      { kind: 'literal', value: 'api:7070' },
      { kind: 'literal', value: 'grpc://api:7070' },
      { kind: 'literal', value: 'api' },
    ]);
    expect(web?.references).toEqual(['api']);
  });

  it('lets an environment override a shared value', () => {
    const input = sources({ shared: { LEVEL: 'info' }, environments: { production: {}, dev: { shared: { LEVEL: 'debug' } } } }, { name: 'api', image: 'api', env: { LEVEL: shared('LEVEL') } });
    expect(resolveOne(input, 'production').services[0]?.env[0]?.value).toEqual({ kind: 'literal', value: 'info' });
    expect(resolveOne(input, 'dev').services[0]?.env[0]?.value).toEqual({ kind: 'literal', value: 'debug' });
  });

  it('expands relative route hosts onto the environment domain', () => {
    const app = resolveOne(sources({ ingress: { domain: 'shop.test' } }, { name: 'web', image: 'web', port: 80, routes: ['@', 'www/app', 'cdn.other.test'] }));
    expect(app.services[0]?.routes.map((route) => `${route.host}${route.path}`)).toEqual(['production.shop.test/', 'www.production.shop.test/app', 'cdn.other.test/']);
  });

  it('keeps secrets in files as separate parts', () => {
    const app = resolveOne(sources({}, { name: 'legacy', image: 'legacy', env: { USER: 'app', PASSWORD: secret('db', 'pw') }, files: { '/etc/app.ini': 'user={{ env.USER }}\npw={{ env.PASSWORD }}\n' } }));
    const file = app.services[0]?.files[0];
    expect(file?.hasSecrets).toBe(true);
    expect(file?.parts).toEqual([{ text: 'user=app\npw=' }, { secret: 'db', key: 'pw' }, { text: '\n' }]);
  });

  it('merges the ops layer over the service repo layer, and environment overrides over both', () => {
    const app = resolveOne(
      sources(
        { repos: { api: { path: 'team/api' } }, registry: { url: 'registry.test/shop' }, environments: { production: { services: { api: { replicas: 5 } } } } },
        { repo: 'api', value: { name: 'api', build: { context: 'server' }, port: 8080, replicas: 2, env: { A: 'repo', B: 'repo' } } },
        { name: 'api', env: { B: 'ops' }, replicas: 3 },
      ),
    );
    const api = app.services[0];
    expect(api?.image).toMatchObject({ kind: 'build', repo: 'api', context: 'server', ref: 'registry.test/shop/api:latest' });
    expect(api?.env.map((variable) => [variable.name, variable.value])).toEqual([
      ['A', { kind: 'literal', value: 'repo' }],
      ['B', { kind: 'literal', value: 'ops' }],
    ]);
    expect(api?.replicas).toEqual({ kind: 'fixed', count: 5 });
    expect(api?.sources).toEqual(['repo/0.js', 'services/1.js', '.diploid.conf.js']);
  });

  it('lets a service relax the spa preset defaults', () => {
    const app = resolveOne(sources({ repos: { web: { path: 'web' } }, registry: { url: 'r.test' } }, { name: 'web', build: { repo: 'web' }, spa: true, port: 3000 }));
    const web = app.services[0];
    expect(web?.ports[0]?.port).toBe(3000);
    expect(web?.spa).toBe(true);
    expect(web?.image.kind === 'build' && web.image.inlineDockerfile).toContain('COPY --from=build /app/dist/ /usr/share/nginx/html/');
  });

  it('runs one instance per host unless a count is given, and autoscales on CPU by default', () => {
    const app = resolveOne(sources({}, { name: 'agent', image: 'a', placement: 'one-per-host' }, { name: 'api', image: 'b', replicas: { min: 2, max: 4 } }));
    expect(app.services.map((service) => service.replicas)).toEqual([
      { kind: 'per-host' },
      { kind: 'auto', min: 2, max: 4, cpu: 80 },
    ]);
  });

  it('hardens by default and relaxes setting by setting', () => {
    const app = resolveOne(sources({}, { name: 'a', image: 'a' }, { name: 'b', image: 'b', security: { runAsRoot: true, capabilities: ['NET_BIND_SERVICE'] } }));
    expect(app.services[0]?.security).toEqual({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, addCapabilities: [] });
    expect(app.services[1]?.security).toMatchObject({ runAsNonRoot: false, addCapabilities: ['NET_BIND_SERVICE'] });
    expect(app.services[0]?.volumes).toEqual([{ kind: 'scratch', name: 'tmp', path: '/tmp', memory: false }]);
  });

  it('throws a ConfigError listing every problem', () => {
    const input = sources({}, { name: 'a', image: 'a', env: { X: ref('nope').address } }, { name: 'b' });
    expect(() => resolveOne(input)).toThrow(ConfigError);
    expect(checkApp(input).map((problem) => `${problem.file} ${problem.path}: ${problem.message}`)).toEqual([
      'services/0.js services.a.env.X: refers to service "nope", which does not exist',
      'services/1.js services.b: needs an image to run: set image, build or spa',
    ]);
  });

  it('keeps the repo name "ops" for the ops repo', () => {
    expect(checkApp(sources({ repos: { ops: { path: 'shop/ops' } } }, { name: 'a', image: 'a' })).map((problem) => `${problem.path}: ${problem.message}`)).toEqual([
      'repos.ops: expected a key that is not "ops", which names the ops repo itself, got "ops"',
    ]);
  });

  it('refuses shared values that look like inline secrets', () => {
    expect(checkApp(sources({ shared: { API_TOKEN: 'abc' } }, { name: 'a', image: 'a' })).map((problem) => problem.path)).toEqual(['shared.API_TOKEN']);
  });
});
