import { describe, expect, it } from 'vitest';
import { kubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import { compileKubernetes, type KubeObject } from '../../src/backends/kubernetes/index.js';
import { validateObjects } from '../../src/backends/kubernetes/validate.js';
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

  it('refuses a kind it has no schema for rather than passing it', async () => {
    expect(await validateObjects([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual([{ object: 'Widget/w', message: 'no schema known for example.com/v1 Widget' }]);
  });
});
