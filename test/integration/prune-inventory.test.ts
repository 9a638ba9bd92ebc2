/**
 * Prune by inventory on the bed's real API server: what the last deploy applied and this one no
 * longer renders goes, of every kind diploid renders (Ingress, and HTTPRoute under a Gateway API
 * CRD), and nothing else: not volumes, not objects made by hand with diploid's own labels.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import type { KubeObject } from '../../src/backends/kubernetes/objects.js';
import { describeObject } from '../../src/cluster/apply.js';
import { deployEnvironment } from '../../src/cluster/deploy.js';
import { INVENTORY_NAME, readInventory } from '../../src/cluster/environment-inventory.js';
import { resolveApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { runCli, writeOpsRepo } from '../support/ops-repo.js';
import { installHttpRouteCrd, isNotFound, kubeConfig, requireKubernetes, uniqueSuffix } from './testbed.js';

const namespaces: string[] = [];
afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await Promise.all(namespaces.map((name) => core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)))));
});

/** A bare cluster has no Gateway API: a CRD that keeps every field stands in for the real one (the schema is checked in golden tests). */
beforeAll(installHttpRouteCrd);

const SERVICES: Record<string, string> = {
  'services/web.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, routes: ['www'] });\n`,
  'services/api.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'busybox:1.36', port: 8080, routes: ['api'] });\n`,
  'services/db.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'db', image: 'postgres:16', ports: { pg: { port: 5432, protocol: 'tcp' } }, volumes: { '/data': { size: '1Gi' } } });\n`,
};

function opsFiles(project: string, api: 'ingress' | 'gateway', services: readonly string[]): Record<string, string> {
  const ingress = api === 'gateway' ? `{ domain: '${project}.test', api: 'gateway', gateway: { name: 'public', namespace: 'gateways' } }` : `{ domain: '${project}.test' }`;
  return {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';\nexport default defineConfig({ project: '${project}', ingress: ${ingress}, environments: { production: {} } });\n`,
    ...Object.fromEntries(services.map((name) => [`services/${name}.js`, SERVICES[`services/${name}.js`]!])),
  };
}

async function render(project: string, api: 'ingress' | 'gateway', services: readonly string[]): Promise<{ objects: readonly KubeObject[]; namespace: string }> {
  const loaded = await loadOpsDir(writeOpsRepo(opsFiles(project, api, services)));
  const app = resolveApp(loaded.sources, { environment: 'production' });
  return { objects: compileKubernetes(app).objects, namespace: app.environment.namespace };
}

function names(objects: readonly KubeObject[]): string[] {
  return objects.map(describeObject).sort();
}

describe.each(['ingress', 'gateway'] as const)('prune by inventory (%s)', (api) => {
  it('removes what the last deploy applied and this one no longer renders, of every kind, never the volume claim', async () => {
    const project = `pi${api[0]}${uniqueSuffix()}`;
    const config = kubeConfig();
    const all = await render(project, api, ['web', 'api', 'db']);
    namespaces.push(all.namespace);
    const routeKind = api === 'gateway' ? 'HTTPRoute' : 'Ingress';
    expect(all.objects.filter((object) => object.kind === routeKind).map((object) => object.metadata.name).sort()).toEqual(['api', 'web']);
    // Wait is off: the claim has no volume on a bare cluster, so the db pod would never start.
    const first = await deployEnvironment(config, all.objects, { project, environment: 'production', namespace: all.namespace, prune: true, wait: false, timeoutMs: 0 });
    expect(first.inventory.map((entry) => `${entry.kind} ${entry.namespace ?? ''}/${entry.name}`.replace(' /', ' ')).sort()).toEqual(names(all.objects));
    expect((await readInventory(config, all.namespace)).length).toBe(all.objects.length);

    // Made by hand, with diploid's labels: a label-selecting prune would take it; the inventory does not know it.
    const core = config.makeApiClient(k8s.CoreV1Api);
    const labels = all.objects.find((object) => object.kind === 'Service')?.metadata.labels ?? {};
    await core.createNamespacedConfigMap({ namespace: all.namespace, body: { metadata: { name: 'made-by-hand', labels: { ...labels } }, data: { a: 'b' } } });

    const fewer = await render(project, api, ['web']);
    const result = await deployEnvironment(config, fewer.objects, { project, environment: 'production', namespace: fewer.namespace, prune: true, wait: true, timeoutMs: 90_000 });
    expect(result.failures).toEqual([]);
    const gone = all.objects.filter((object) => !names(fewer.objects).includes(describeObject(object)) && object.kind !== 'PersistentVolumeClaim');
    expect([...result.pruned].sort()).toEqual(names(gone));
    expect(result.pruned).toContain(`${routeKind} ${all.namespace}/api`);
    expect(result.pruned).toContain(`Deployment ${all.namespace}/db`);

    const client = k8s.KubernetesObjectApi.makeApiClient(config);
    for (const object of gone) {
      const read = await client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata.name, namespace: all.namespace } }).catch((error: unknown) => error);
      // Deleted, or on its way (a Deployment waits for its garbage collection).
      if (!isNotFound(read)) expect((read as k8s.KubernetesObject).metadata?.deletionTimestamp).toBeDefined();
    }
    await client.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: all.namespace } });
    // The volume claim and the hand-made object stay.
    expect((await core.readNamespacedPersistentVolumeClaim({ name: 'db-data', namespace: all.namespace })).metadata?.deletionTimestamp).toBeUndefined();
    expect((await core.readNamespacedConfigMap({ name: 'made-by-hand', namespace: all.namespace })).data).toEqual({ a: 'b' });
    // The inventory is now what is rendered; a third deploy prunes nothing.
    expect((await readInventory(config, all.namespace)).length).toBe(fewer.objects.length);
    const again = await deployEnvironment(config, fewer.objects, { project, environment: 'production', namespace: fewer.namespace, prune: true, wait: true, timeoutMs: 90_000 });
    expect(again.pruned).toEqual([]);
    expect((await core.readNamespacedConfigMap({ name: INVENTORY_NAME, namespace: all.namespace })).metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('diploid');
  });
});

describe('diploid apply flags on the bed', { timeout: 180_000 }, () => {
  it('--no-prune keeps what is no longer rendered (and a later apply still prunes it); --no-wait returns before the rollout; --timeout bounds the wait', async () => {
    const project = `flags${uniqueSuffix()}`;
    const { kubeconfig } = requireKubernetes();
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const both = writeOpsRepo(opsFiles(project, 'ingress', ['web', 'api']));
    const namespace = `${project}-production`;
    namespaces.push(namespace);
    const first = await runCli(['apply', both, '--env', 'production', '--kubeconfig', kubeconfig, '--no-wait']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created Deployment ${namespace}/api`);

    const webOnly = writeOpsRepo(opsFiles(project, 'ingress', ['web']));
    const kept = await runCli(['apply', webOnly, '--env', 'production', '--kubeconfig', kubeconfig, '--no-prune', '--timeout', '90']);
    expect(kept.code).toBe(0);
    expect(kept.stdout).not.toContain('pruned');
    expect((await apps.readNamespacedDeployment({ name: 'api', namespace })).metadata?.deletionTimestamp).toBeUndefined();

    const pruned = await runCli(['apply', webOnly, '--env', 'production', '--kubeconfig', kubeconfig, '--timeout', '90']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(`pruned Deployment ${namespace}/api`);
    expect(pruned.stdout).toContain(`pruned Ingress ${namespace}/api`);

    // A pod that cannot be scheduled (no node has 1000 CPUs) never becomes ready: --timeout ends the wait.
    const huge = writeOpsRepo({
      ...opsFiles(project, 'ingress', ['web']),
      'services/web.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, routes: ['www'], resources: { cpu: '1000..1000' } });\n`,
    });
    const started = Date.now();
    const timedOut = await runCli(['apply', huge, '--env', 'production', '--kubeconfig', kubeconfig, '--timeout', '3']);
    expect(timedOut.code).not.toBe(0);
    expect(timedOut.stderr).toMatch(/not ready after 3s/);
    expect(Date.now() - started).toBeLessThan(60_000);
    const noWait = await runCli(['apply', huge, '--env', 'production', '--kubeconfig', kubeconfig, '--no-wait']);
    expect(noWait.code).toBe(0);
  });
});
