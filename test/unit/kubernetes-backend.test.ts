import { describe, expect, it } from 'vitest';
import { kubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import { compileKubernetes, type KubeObject } from '../../src/backends/kubernetes/index.js';
import { COMMON_KINDS, preloadValidators, validateObjects } from '../../src/backends/kubernetes/validate.js';
import { resolveApp, type AppSources } from '../../src/resolve/index.js';

const services = [
  { name: 'api', image: 'api:1', port: 8080, env: { B: '2', A: '1' }, routes: ['api'] },
  { name: 'cache', image: 'redis:7', ports: { redis: { port: 6379, protocol: 'tcp' } } },
  { name: 'worker', image: 'worker:1', after: ['cache'], replicas: { min: 1, max: 3 } },
];

function sources(order: readonly number[]): AppSources {
  return {
    config: { file: '.diploid.conf.js', value: { project: 'p', ingress: { domain: 'p.test' }, environments: { production: {} } } },
    services: order.map((index) => ({ document: { file: `services/${index}.js`, value: services[index] }, origin: { kind: 'ops' as const } })),
  };
}

describe('the Kubernetes backend', () => {
  it('gives the same bytes whatever the order the files were read in', () => {
    const render = (order: number[]) => kubernetesBackend.render(resolveApp(sources(order), { environment: 'production' }), 'yaml').stream;
    expect(render([2, 0, 1])).toBe(render([0, 1, 2]));
  });

  it('puts labels every object needs on every object', () => {
    const { objects } = compileKubernetes(resolveApp(sources([0, 1, 2]), { environment: 'production' }));
    for (const object of objects) {
      expect(object.metadata.labels?.['app.kubernetes.io/managed-by'], `${object.kind}/${object.metadata.name}`).toBe('diploid');
      expect(object.metadata.labels?.['app.kubernetes.io/part-of']).toBe('p');
      expect(object.metadata.labels?.['diploid.dev/environment']).toBe('production');
    }
  });

  it('leaves replicas to the autoscaler when one is asked for', () => {
    const { objects } = compileKubernetes(resolveApp(sources([0, 1, 2]), { environment: 'production' }));
    const worker = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'worker') as KubeObject & { spec: Record<string, unknown> };
    expect(worker.spec.replicas).toBeUndefined();
    expect(objects.some((object) => object.kind === 'HorizontalPodAutoscaler' && object.metadata.name === 'worker')).toBe(true);
  });
});

describe('compiling a state that shares resolved services with the last one', () => {
  it('keeps the objects of unchanged services (the same values) and compiles the changed one', () => {
    const first = resolveApp(sources([0, 1, 2]), { environment: 'production' });
    const second = { ...first, services: first.services.map((service) => (service.name === 'api' ? { ...service, replicas: { kind: 'fixed' as const, count: 5 } } : service)) };
    const a = compileKubernetes(first).objects;
    const b = compileKubernetes(second).objects;
    const pick = (objects: readonly KubeObject[], kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);
    expect(pick(b, 'Deployment', 'cache')).toBe(pick(a, 'Deployment', 'cache'));
    expect(pick(b, 'Deployment', 'api')).not.toBe(pick(a, 'Deployment', 'api'));
    expect((pick(b, 'Deployment', 'api') as KubeObject & { spec: { replicas: number } }).spec.replicas).toBe(5);
    // Whatever was remembered, the output equals compiling afresh from copies.
    expect(b).toEqual(compileKubernetes(structuredClone(second)).objects);
  });

  it('compiles every service again under other environment-wide settings', () => {
    const first = resolveApp(sources([0, 1, 2]), { environment: 'production' });
    const moved = { ...first, environment: { ...first.environment, namespace: 'elsewhere' } };
    const objects = compileKubernetes(moved).objects;
    expect(objects.filter((object) => object.kind !== 'Namespace').every((object) => object.metadata.namespace === 'elsewhere')).toBe(true);
    expect(compileKubernetes(first).objects.find((object) => object.kind === 'Deployment')?.metadata.namespace).toBe('p-production');
  });
});

describe('validateObjects', () => {
  it('accepts a valid object and refuses an invalid one, naming the field', async () => {
    const good: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok' }, data: { a: 'b' } };
    const bad: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' }, spec: { replicas: 'two', selector: {}, template: {} } };
    expect(await validateObjects([good])).toEqual([]);
    const violations = await validateObjects([good, bad]);
    expect(violations).toHaveLength(1);
    expect(violations[0]?.object).toBe('Deployment/bad');
    expect(violations[0]?.message).toContain('replicas');
  });

  it('validates the objects as they are, leaving them unchanged, and skips fields left undefined as the API would', async () => {
    const objects = compileKubernetes(resolveApp(sources([0, 1, 2]), { environment: 'production' })).objects;
    const before = structuredClone(objects);
    expect(await validateObjects(objects)).toEqual([]);
    expect(objects).toStrictEqual(before);
    const withHole: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hole', labels: undefined }, data: { a: 'b' }, binaryData: undefined };
    expect(await validateObjects([withHole])).toEqual([]);
    const wrongNested: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 'eighty' }] } };
    expect((await validateObjects([wrongNested]))[0]?.message).toContain('/spec/ports/0/port');
  });

  it('preloads real validators for the common kinds: after it, each kind still refuses an invalid object', async () => {
    await preloadValidators();
    for (const [apiVersion, kind] of COMMON_KINDS) {
      const violations = await validateObjects([{ apiVersion, kind, metadata: { name: 'x', labels: 'not-a-map' } } as unknown as KubeObject]);
      expect(violations, `${apiVersion} ${kind}`).toHaveLength(1);
      expect(violations[0]?.message).toContain('labels');
    }
  });

  it('refuses a kind it has no schema for rather than passing it', async () => {
    expect(await validateObjects([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual([{ object: 'Widget/w', message: 'no schema known for example.com/v1 Widget' }]);
  });
});

describe('the cors preset on a Traefik ingress class', () => {
  const withClass = (className: string): AppSources => ({
    config: { file: '.diploid.conf.js', value: { project: 'p', ingress: { domain: 'p.test', className }, environments: { production: {} } } },
    services: [
      { document: { file: 'services/web.js', value: { name: 'web', image: 'web:1', port: 8080, routes: ['@'] } }, origin: { kind: 'ops' as const } },
      { document: { file: 'services/api.js', value: { name: 'api', image: 'api:1', port: 8080, routes: ['api'], cors: { origins: ['https://p.test'], credentials: true } } }, origin: { kind: 'ops' as const } },
    ],
  });

  it('answers CORS with a headers Middleware the Ingress refers to, not nginx annotations', async () => {
    const { objects, warnings } = compileKubernetes(resolveApp(withClass('traefik'), { environment: 'production' }));
    expect(warnings).toEqual([]);
    const middleware = objects.find((object) => object.kind === 'Middleware') as KubeObject & { spec: { headers: Record<string, unknown> } };
    expect(middleware.apiVersion).toBe('traefik.io/v1alpha1');
    expect(middleware.metadata).toMatchObject({ name: 'api-cors', namespace: 'p-production' });
    expect(middleware.spec.headers).toMatchObject({
      accessControlAllowOriginList: ['https://p.test'],
      accessControlAllowCredentials: true,
      addVaryHeader: true,
    });
    const api = objects.find((object) => object.kind === 'Ingress' && object.metadata.name === 'api');
    expect(api?.metadata.annotations).toEqual({ 'traefik.ingress.kubernetes.io/router.middlewares': 'p-production-api-cors@kubernetescrd' });
    // Applied before the Ingress that names it; valid against Traefik's CRD schema.
    expect(objects.indexOf(middleware)).toBeLessThan(objects.indexOf(api as KubeObject));
    expect(await validateObjects(objects)).toEqual([]);
  });

  it('keeps ingress-nginx annotations, and no Middleware, for nginx classes', () => {
    const { objects } = compileKubernetes(resolveApp(withClass('nginx'), { environment: 'production' }));
    expect(objects.some((object) => object.kind === 'Middleware')).toBe(false);
    const api = objects.find((object) => object.kind === 'Ingress' && object.metadata.name === 'api');
    expect(api?.metadata.annotations?.['nginx.ingress.kubernetes.io/enable-cors']).toBe('true');
  });
});
