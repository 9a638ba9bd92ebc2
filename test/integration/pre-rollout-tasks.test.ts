import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import { deployEnvironment } from '../../src/cluster/deploy.js';
import { readInventory } from '../../src/cluster/environment-inventory.js';
import { resolveApp, type ResolvedApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { writeOpsRepo } from '../support/ops-repo.js';
import { isNotFound, kubeConfig, uniqueSuffix } from './testbed.js';

const created: string[] = [];
afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await Promise.all(created.map((name) => core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)))));
});

/** An app whose `api` has a migration task, in a namespace of its own. */
async function appWithTask(task: string): Promise<ResolvedApp> {
  const dir = writeOpsRepo({
    '.diploid.conf.js': "import { defineConfig } from 'diploid';\nexport default defineConfig({ project: 'shop', environments: { production: {} } });\n",
    'services/api.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'api:1', port: 8080, tasks: { migrate: ${task} } });\n`,
  });
  const loaded = await loadOpsDir(dir);
  expect(loaded.problems).toEqual([]);
  const app = resolveApp(loaded.sources, { environment: 'production' });
  const namespace = `shop-tasks-${uniqueSuffix()}`.slice(0, 63);
  created.push(namespace);
  return { ...app, environment: { ...app.environment, namespace } };
}

describe('pre-rollout tasks on a real API server', () => {
  it('runs the task to completion before the Deployment is applied', async () => {
    const config = kubeConfig();
    const app = await appWithTask("{ command: ['migrate'] }");
    const namespace = app.environment.namespace;
    const { objects } = compileKubernetes(app);
    const result = await deployEnvironment(config, objects, { project: app.project, environment: 'production', namespace, prune: true, wait: true, timeoutMs: 90_000 });
    expect(result.failures).toEqual([]);
    const job = (await config.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace })).items[0];
    expect(job?.metadata?.name).toMatch(/^api-migrate-[0-9a-f]{8}$/);
    const completed = job?.status?.completionTime;
    expect(completed).toBeDefined();
    const deployment = await config.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'api', namespace });
    // The Deployment was created only after the task had completed.
    expect(new Date(deployment.metadata?.creationTimestamp as Date).getTime()).toBeGreaterThanOrEqual(new Date(completed as Date).getTime());
    expect(result.applied.map((entry) => entry.object)).toEqual([`Namespace ${namespace}`, `Job ${namespace}/${job?.metadata?.name}`, `Service ${namespace}/api`, `Deployment ${namespace}/api`]);
  });

  it('applies nothing else when the task fails, and says why', async () => {
    const config = kubeConfig();
    // A pod no node can hold never runs: the task's deadline fails it, as a failing migration would.
    const app = await appWithTask("{ command: ['migrate'], resources: { cpu: '5000' }, timeout: 3 }");
    const namespace = app.environment.namespace;
    const result = await deployEnvironment(config, compileKubernetes(app).objects, { project: app.project, environment: 'production', namespace, prune: true, wait: true, timeoutMs: 90_000 });
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]?.object).toMatch(new RegExp(`^Job ${namespace}/api-migrate-[0-9a-f]{8}$`));
    expect(result.failures[0]?.reason).toMatch(/^the task failed \(DeadlineExceeded/);
    expect((await config.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace })).items).toEqual([]);
    expect((await config.makeApiClient(k8s.CoreV1Api).listNamespacedService({ namespace })).items).toEqual([]);
    // What it did apply is in the inventory, as it says: a later deploy, a move or a teardown removes it.
    const recorded = (await readInventory(config, namespace)).map((entry) => `${entry.kind} ${entry.name}`);
    expect(recorded).toEqual(expect.arrayContaining([`Namespace ${namespace}`, expect.stringMatching(/^Job api-migrate-[0-9a-f]{8}$/)]));
    expect(recorded).toHaveLength(2);
    expect(result.inventory.map((entry) => `${entry.kind} ${entry.name}`).sort()).toEqual([...recorded].sort());
  });
});
