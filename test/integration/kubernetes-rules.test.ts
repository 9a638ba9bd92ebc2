import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { compileKubernetes, type KubeObject } from '../../src/backends/kubernetes/index.js';
import { applyObjects, ApplyError } from '../../src/cluster/apply.js';
import { ConfigError } from '../../src/errors.js';
import { resolveApp, type AppSources } from '../../src/resolve/index.js';
import { isNotFound, kubeConfig, uniqueSuffix } from './testbed.js';

/**
 * The resolver's limits are the API server's: what it accepts at the very limit (a 52-character
 * name in "production", a 15-character port name, 63-character label keys and values, a file just
 * under 1 MiB) a real kube-apiserver accepts, and one step past each limit it refuses. The
 * resolver refuses the same step itself, so the refusal comes with a file and a path.
 */
const namespaces: string[] = [];
afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await Promise.all(namespaces.map((name) => core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)))));
});

const LONGEST = `a${'b'.repeat(51)}`; // 52: "<name>-production" is 63
const PORT = 'abcdefghijklmno'; // 15
const LABEL_KEY = `example.com/${'k'.repeat(63)}`;
const LABEL_VALUE = 'v'.repeat(63);

function sources(name: string, extra: Record<string, unknown> = {}): AppSources {
  return {
    config: { file: '.diploid.conf.js', value: { project: 'edge', ingress: { domain: 'edge.test' }, environments: { production: {} } } },
    services: [
      {
        document: {
          file: 'services/edge.js',
          value: { name, image: 'nginx', ports: { [PORT]: 8080 }, labels: { [LABEL_KEY]: LABEL_VALUE }, routes: ['www'], files: { '/etc/app/big.conf': 'x'.repeat(1_000_000) }, ...extra },
        },
        origin: { kind: 'ops' },
      },
    ],
  };
}

/** The app in a namespace of its own. */
function compile(source: AppSources): KubeObject[] {
  const app = resolveApp(source, { environment: 'production' });
  const namespace = `edge-${uniqueSuffix()}`;
  namespaces.push(namespace);
  return [...compileKubernetes({ ...app, environment: { ...app.environment, namespace } }).objects];
}

async function refusal(objects: readonly KubeObject[]): Promise<string> {
  const error = await applyObjects(kubeConfig(), objects).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ApplyError);
  return (error as ApplyError).message;
}

function find(objects: readonly KubeObject[], kind: string): KubeObject & Record<string, unknown> {
  const found = objects.find((object) => object.kind === kind);
  if (found === undefined) throw new Error(`no ${kind}`);
  return found as KubeObject & Record<string, unknown>;
}

describe('Kubernetes rules, at their limits, on a real API server', () => {
  it('accepts everything the resolver accepts at the limit', async () => {
    const objects = compile(sources(LONGEST));
    const applied = await applyObjects(kubeConfig(), objects);
    expect(applied.map((entry) => entry.outcome)).toEqual(objects.map(() => 'created'));
    const deployment = await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: LONGEST, namespace: objects[0]?.metadata.name ?? '' });
    expect(deployment.metadata?.labels?.['app.kubernetes.io/instance']).toBe(`${LONGEST}-production`);
    expect(deployment.metadata?.labels?.[LABEL_KEY]).toBe(LABEL_VALUE);
    expect(deployment.spec?.template.spec?.containers[0]?.ports?.[0]?.name).toBe(PORT);
  });

  it('refuses one character more in the name, as the resolver does', async () => {
    const longer = `${LONGEST}c`;
    expect(() => resolveApp(sources(longer), { environment: 'production' })).toThrow(ConfigError);
    // The same objects, renamed by hand past the resolver: the API server refuses the label.
    const objects = compile(sources(LONGEST)).map((object) => JSON.parse(JSON.stringify(object).replaceAll(LONGEST, longer)) as KubeObject);
    expect(await refusal(objects)).toMatch(/422.*must be no more than 63 (characters|bytes)/);
  });

  it('refuses a 16-character port name, an upper-case host and a ConfigMap over 1 MiB, as the resolver does', async () => {
    expect(() => resolveApp(sources(LONGEST, { ports: { [`${PORT}p`]: 8080 } }), { environment: 'production' })).toThrow(ConfigError);
    expect(() => resolveApp(sources(LONGEST, { routes: ['WWW'] }), { environment: 'production' })).toThrow(ConfigError);
    expect(() => resolveApp(sources(LONGEST, { files: { '/etc/app/big.conf': 'x'.repeat(1_048_577) } }), { environment: 'production' })).toThrow(ConfigError);

    const base = compile(sources(LONGEST));
    const namespace = base.filter((object) => object.kind === 'Namespace');
    await applyObjects(kubeConfig(), namespace);

    // A container port's name is an IANA service name (a Service port's is only a DNS label).
    const deployment = structuredClone(find(base, 'Deployment')) as unknown as { spec: { template: { spec: { containers: Array<{ ports: Array<{ name: string }> }> } } } };
    (deployment.spec.template.spec.containers[0]?.ports[0] as { name: string }).name = `${PORT}p`;
    expect(await refusal([deployment as unknown as KubeObject])).toMatch(/422.*must be no more than 15 characters/);

    const ingress = structuredClone(find(base, 'Ingress')) as unknown as { spec: { rules: Array<{ host: string }> } };
    (ingress.spec.rules[0] as { host: string }).host = 'WWW.production.edge.test';
    expect(await refusal([ingress as unknown as KubeObject])).toMatch(/422.*RFC 1123 subdomain/);

    const configMap = structuredClone(find(base, 'ConfigMap')) as unknown as { data: Record<string, string> };
    configMap.data['big.conf'] = 'x'.repeat(1_048_577);
    expect(await refusal([configMap as unknown as KubeObject])).toMatch(/422.*(must have at most 1048576 bytes|Too long)/);
  });
});
