import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import { applyObjects, ApplyError } from '../../src/cluster/apply.js';
import { deployEnvironment } from '../../src/cluster/deploy.js';
import { environmentNames, resolveApp, type ResolvedApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { SHOP_EXAMPLE } from '../support/golden.js';
import { isNotFound, kubeConfig, uniqueSuffix } from './testbed.js';

const created: string[] = [];
const volumes: string[] = [];
afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const ignoreMissing = (error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error));
  await Promise.all(created.map((name) => core.deleteNamespace({ name }).catch(ignoreMissing)));
  await Promise.all(volumes.map((name) => core.deletePersistentVolume({ name }).catch(ignoreMissing)));
});

/**
 * The bed has no storage provisioner, as a bare cluster has none: give each claim a volume of
 * its own, bound up front, the way an administrator provisions storage statically.
 */
async function provisionVolumes(config: k8s.KubeConfig, objects: readonly { kind: string; metadata: { name: string; namespace?: string }; spec?: unknown }[]): Promise<void> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  for (const claim of objects.filter((object) => object.kind === 'PersistentVolumeClaim')) {
    const spec = claim.spec as { resources: { requests: { storage: string } }; accessModes: string[] };
    const name = `pv-${uniqueSuffix()}`;
    volumes.push(name);
    await core.createPersistentVolume({
      body: {
        metadata: { name },
        spec: {
          capacity: { storage: spec.resources.requests.storage },
          accessModes: spec.accessModes,
          hostPath: { path: `/tmp/${name}` },
          claimRef: { namespace: claim.metadata.namespace ?? '', name: claim.metadata.name },
        },
      },
    });
  }
}

/** The same app in a namespace of its own, so runs and tests never share objects. */
function isolated(app: ResolvedApp): ResolvedApp {
  const namespace = `${app.environment.namespace}-${uniqueSuffix()}`.slice(0, 63);
  created.push(namespace);
  return { ...app, environment: { ...app.environment, namespace } };
}

async function replicaSetCount(apps: k8s.AppsV1Api, namespace: string): Promise<number> {
  return (await apps.listNamespacedReplicaSet({ namespace })).items.length;
}

const loaded = await loadOpsDir(join(SHOP_EXAMPLE, 'ops'));

describe.each(environmentNames(loaded.sources))('the shop example, environment %s, on a real API server', (environment) => {
  it('applies with server-side apply, rolls out through kwok, and a second apply changes nothing', async () => {
    const config = kubeConfig();
    const app = isolated(resolveApp(loaded.sources, { environment }));
    const { objects } = compileKubernetes(app);
    const namespace = app.environment.namespace;
    await provisionVolumes(config, objects);

    const first = await deployEnvironment(config, objects, { project: app.project, environment, namespace, prune: true, wait: true, timeoutMs: 90_000 });
    expect(first.failures).toEqual([]);
    expect(first.applied.map((entry) => entry.outcome)).toEqual(objects.map(() => 'created'));

    // Read back: the server holds what was rendered, with diploid as the field manager.
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const deployments = (await apps.listNamespacedDeployment({ namespace })).items;
    expect(deployments.map((deployment) => deployment.metadata?.name).sort()).toEqual(objects.filter((object) => object.kind === 'Deployment').map((object) => object.metadata.name).sort());
    for (const deployment of deployments) {
      expect(deployment.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('diploid');
      expect(deployment.metadata?.managedFields?.some((field) => field.manager === 'diploid' && field.operation === 'Apply')).toBe(true);
      expect(deployment.status?.conditions?.find((condition) => condition.type === 'Available')?.status).toBe('True');
    }
    const replicaSets = await replicaSetCount(apps, namespace);

    const second = await deployEnvironment(config, objects, { project: app.project, environment, namespace, prune: true, wait: true, timeoutMs: 90_000 });
    expect(second.applied.filter((entry) => entry.outcome !== 'unchanged')).toEqual([]);
    expect(second.pruned).toEqual([]);
    expect(await replicaSetCount(apps, namespace)).toBe(replicaSets);
  });
});

describe('deploying to a real API server', () => {
  it('prunes what is no longer rendered, and only that', async () => {
    const config = kubeConfig();
    const app = isolated(resolveApp(loaded.sources, { environment: 'staging' }));
    const namespace = app.environment.namespace;
    await provisionVolumes(config, compileKubernetes(app).objects);
    await deployEnvironment(config, compileKubernetes(app).objects, { project: app.project, environment: 'staging', namespace, prune: true, wait: false, timeoutMs: 0 });
    const withoutWorker = { ...app, services: app.services.filter((service) => service.name !== 'worker') };
    const result = await deployEnvironment(config, compileKubernetes(withoutWorker).objects, { project: app.project, environment: 'staging', namespace, prune: true, wait: true, timeoutMs: 90_000 });
    expect(result.pruned).toEqual([`Deployment ${namespace}/worker`]);
    const apps = config.makeApiClient(k8s.AppsV1Api);
    expect((await apps.listNamespacedDeployment({ namespace })).items.map((item) => item.metadata?.name)).not.toContain('worker');
  });

  it('says why the API server refused a change and leaves the running version in place', async () => {
    const config = kubeConfig();
    const app = isolated(resolveApp(loaded.sources, { environment: 'staging' }));
    const namespace = app.environment.namespace;
    const { objects } = compileKubernetes(app);
    await applyObjects(config, objects);
    const cache = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'cache');
    expect(cache).toBeDefined();
    // A selector cannot change on a live Deployment: the real API server refuses it.
    const changed = structuredClone(cache) as unknown as { spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ image: string }> } } } };
    changed.spec.selector.matchLabels.extra = 'x';
    changed.spec.template.metadata.labels.extra = 'x';
    const container = changed.spec.template.spec.containers[0];
    if (container) container.image = 'redis:8';
    const error = await applyObjects(config, [changed as unknown as (typeof objects)[number]]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApplyError);
    expect((error as ApplyError).message).toMatch(/^the cluster refused Deployment .*\/cache: 422 .*field is immutable/);
    const live = await config.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'cache', namespace });
    expect(live.spec?.template.spec?.containers[0]?.image).toBe('redis:7.2-alpine');
  });
});
