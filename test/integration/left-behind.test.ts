/**
 * Removing the copy an environment left in a cluster it moved away from (`removeLeftBehind`), on
 * the bed's real API server: by inventory, Secrets by name, the namespace only if diploid made it
 * and no volume is in it. The move itself, through the reconciler and two clusters, is in
 * multi-cluster.test.ts.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import type { KubeObject } from '../../src/backends/kubernetes/objects.js';
import { describeObject } from '../../src/cluster/apply.js';
import { deployEnvironment } from '../../src/cluster/deploy.js';
import { INVENTORY_NAME } from '../../src/cluster/environment-inventory.js';
import { removeLeftBehind } from '../../src/cluster/left-behind.js';
import { resolveApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { writeOpsRepo } from '../support/ops-repo.js';
import { isNotFound, kubeConfig, uniqueSuffix } from './testbed.js';

const namespaces: string[] = [];
const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
afterAll(async () => {
  await Promise.all(namespaces.map((name) => core().deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)))));
});

async function render(project: string, services: Record<string, string>, environment: string): Promise<{ objects: readonly KubeObject[]; namespace: string }> {
  const loaded = await loadOpsDir(writeOpsRepo({ '.diploid.conf.js': `import { defineConfig } from 'diploid';\nexport default defineConfig({ project: '${project}', environments: { staging: {}, shared: { namespace: '${project}-shared', existingNamespace: true } } });\n`, ...services }));
  const app = resolveApp(loaded.sources, { environment });
  return { objects: compileKubernetes(app).objects, namespace: app.environment.namespace };
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  return read().then(() => true, (error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (const end = Date.now() + 120_000; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 500))) if (await check()) return;
  throw new Error(`${what}: not after 120s`);
}

const web = `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080 });\n`;
const db = `import { defineService } from 'diploid';\nexport default defineService({ name: 'db', image: 'postgres:16', ports: { pg: { port: 5432, protocol: 'tcp' } }, volumes: { '/data': { size: '1Gi' } } });\n`;

describe('removing a copy left behind by a move', { timeout: 300_000 }, () => {
  it('deletes its objects by inventory and its Secrets, keeps a namespace that holds a volume (saying which), and deletes it once the volume is gone', async () => {
    const project = `lb${uniqueSuffix()}`;
    const config = kubeConfig();
    const { objects, namespace } = await render(project, { 'services/web.js': web, 'services/db.js': db }, 'staging');
    namespaces.push(namespace);
    // Wait is off: the claim has no volume on a bare cluster, so the db pod would never start.
    await deployEnvironment(config, objects, { project, environment: 'staging', namespace, prune: true, wait: false, timeoutMs: 0 });
    await core().createNamespacedSecret({ namespace, body: { metadata: { name: 'db', labels: { 'app.kubernetes.io/managed-by': 'diploid' } }, stringData: { password: 'x' } } });
    await core().createNamespacedSecret({ namespace, body: { metadata: { name: 'by-hand' }, stringData: { a: 'b' } } });

    const first = await removeLeftBehind(config, namespace, ['db', 'by-hand']);
    expect(first.namespace).toBe('kept');
    expect(first.volumes).toEqual([`${namespace}/db-data`]);
    const deletable = objects.filter((object) => !['Namespace', 'PersistentVolumeClaim'].includes(object.kind)).map(describeObject);
    expect([...first.removed].sort()).toEqual([...deletable, `Secret ${namespace}/db`].sort());
    expect(await exists(() => config.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'web', namespace }))).toBe(false);
    // The volume, a Secret diploid did not write, the inventory and the namespace stay.
    expect((await core().readNamespacedPersistentVolumeClaim({ name: 'db-data', namespace })).metadata?.deletionTimestamp).toBeUndefined();
    expect(await exists(() => core().readNamespacedSecret({ name: 'by-hand', namespace }))).toBe(true);
    expect(await exists(() => core().readNamespacedConfigMap({ name: INVENTORY_NAME, namespace }))).toBe(true);
    expect((await core().readNamespace({ name: namespace })).metadata?.deletionTimestamp).toBeUndefined();

    // A person decides the data can go: the next attempt removes the namespace.
    await core().deleteNamespacedPersistentVolumeClaim({ name: 'db-data', namespace });
    await until('the claim deleted', async () => !(await exists(() => core().readNamespacedPersistentVolumeClaim({ name: 'db-data', namespace }))));
    expect((await removeLeftBehind(config, namespace, ['db'])).namespace).toBe('deleted');
    await until('the namespace deleted', async () => !(await exists(() => core().readNamespace({ name: namespace }))));
    expect(await removeLeftBehind(config, namespace, ['db'])).toEqual({ removed: [], namespace: 'absent', volumes: [] });
  });

  it('empties a namespace diploid did not create of diploid\'s objects, and leaves the namespace', async () => {
    const project = `lc${uniqueSuffix()}`;
    const config = kubeConfig();
    const { objects, namespace } = await render(project, { 'services/web.js': web }, 'shared');
    expect(objects.some((object) => object.kind === 'Namespace')).toBe(false);
    namespaces.push(namespace);
    await core().createNamespace({ body: { metadata: { name: namespace } } });
    await deployEnvironment(config, objects, { project, environment: 'shared', namespace, prune: true, wait: false, timeoutMs: 0 });

    const result = await removeLeftBehind(config, namespace, []);
    expect(result.namespace).toBe('not-ours');
    expect([...result.removed].sort()).toEqual(objects.map(describeObject).sort());
    expect(await exists(() => core().readNamespacedConfigMap({ name: INVENTORY_NAME, namespace }))).toBe(false);
    expect((await core().readNamespace({ name: namespace })).metadata?.deletionTimestamp).toBeUndefined();
  });
});
