/**
 * README's controller promises, through the controller's real path (signed webhook deliveries,
 * delivery log, queue, loop, reconciler, resync) on the bed: kwok rolls Deployments out and the
 * bed's git server holds the repos. Two services, each in its own repo, share one environment.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { condition } from '../../src/controller/status.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { ControllerHarness } from './controller-harness.js';
import { eventually, freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `prom${uniqueSuffix()}`;
const production = `${project}-production`;
const preview = `${project}-feature-x`;
let root: GitRoot;
let web: TestRepo;
let api: TestRepo;
let webUrl: string;
let apiUrl: string;
let system: TestNamespace;
let controller: ControllerHarness;
let skewMs = 0;

function service(name: string, version: string): Record<string, string> {
  return { 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: '${name}', image: 'busybox:1.36', port: 8080, env: { VERSION: '${version}' } });\n` };
}

const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);

async function replicaSets(namespace: string, service: string): Promise<string[]> {
  const list = await apps().listNamespacedReplicaSet({ namespace });
  return list.items.filter((item) => item.metadata?.name?.startsWith(`${service}-`)).map((item) => `${item.metadata?.name}@${item.metadata?.resourceVersion}`).sort();
}

async function version(namespace: string, name: string): Promise<string | undefined> {
  const deployment = await apps().readNamespacedDeployment({ name, namespace });
  return deployment.spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')?.value;
}

beforeAll(async () => {
  root = new GitRoot();
  const opsUrl = freshGitRepoUrl('ops');
  webUrl = freshGitRepoUrl('web');
  apiUrl = freshGitRepoUrl('api');
  const ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { web: { path: 'team/web' }, api: { path: 'team/api' } },
  environments: { production: {} },
  branches: [
    { branch: 'main', environment: 'production' },
    { branch: 'feature/*', preview: { mode: 'full', base: 'production', ttl: '1h' } },
  ],
});
`,
  });
  web = root.repo('web', service('web', 'w1'));
  api = root.repo('api', service('api', 'a1'));
  ops.git('push', '-q', opsUrl, 'main');
  web.git('push', '-q', webUrl, 'main');
  api.git('push', '-q', apiUrl, 'main');
  system = await freshNamespace('prom-system');
  controller = new ControllerHarness({
    ops: opsUrl,
    urls: { web: webUrl, api: apiUrl },
    hooked: { web: 'team/web', api: 'team/api' },
    namespace: system.name,
    cacheDir: root.cache,
    now: () => new Date(Date.now() + skewMs),
    // kwok rolls a Deployment out in a second or two; a rollout that cannot finish fails in 20s.
    deployTimeoutMs: 20_000,
  });
  await controller.start();
  await controller.waitForLog(/^production: deployed/);
  await eventually('both services rolled out', async () => {
    for (const name of ['web', 'api']) {
      const live = await apps().readNamespacedDeployment({ name, namespace: production });
      if (live.status?.availableReplicas !== 1) return false;
    }
    return true;
  }, 60_000);
});

afterAll(async () => {
  await controller?.stop();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of [production, preview]) await core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

describe('the controller keeps its promises', { timeout: 240_000 }, () => {
  it('a push to one service leaves the other Deployment\'s generation and ReplicaSets untouched', async () => {
    const apiBefore = await apps().readNamespacedDeployment({ name: 'api', namespace: production });
    const apiSets = await replicaSets(production, 'api');
    const webBefore = await apps().readNamespacedDeployment({ name: 'web', namespace: production });
    const previous = web.head();
    const next = web.commit('w2', service('web', 'w2'));
    web.git('push', '-q', webUrl, 'main');
    const mark = controller.logs.length;
    expect((await controller.push('web', 'w2', { ref: 'refs/heads/main', before: previous, after: next })).status).toBe(202);
    const line = await controller.waitForLog(/^production: deployed/, mark);
    expect(line).toMatch(/: 1 of \d+ objects changed/);
    await eventually('web rolled out', async () => {
      const live = await apps().readNamespacedDeployment({ name: 'web', namespace: production });
      return live.status?.observedGeneration === live.metadata?.generation && live.status?.updatedReplicas === 1 && live.status.availableReplicas === 1;
    }, 60_000);
    expect(await version(production, 'web')).toBe('w2');
    expect((await apps().readNamespacedDeployment({ name: 'web', namespace: production })).metadata?.generation).toBeGreaterThan(webBefore.metadata?.generation ?? 0);
    const apiAfter = await apps().readNamespacedDeployment({ name: 'api', namespace: production });
    expect(apiAfter.metadata?.generation).toBe(apiBefore.metadata?.generation);
    expect(apiAfter.metadata?.resourceVersion).toBe(apiBefore.metadata?.resourceVersion);
    expect(await replicaSets(production, 'api')).toEqual(apiSets);
  });

  it('a hand edit of a managed field is reverted at the next resync and reported as drift', async () => {
    const live = await apps().readNamespacedDeployment({ name: 'api', namespace: production });
    const container = live.spec!.template.spec!.containers[0]!;
    container.env = (container.env ?? []).map((item) => (item.name === 'VERSION' ? { ...item, value: 'edited-by-hand' } : item));
    // What `kubectl edit` does: an update under another field manager.
    await apps().replaceNamespacedDeployment({ name: 'api', namespace: production, body: live, fieldManager: 'kubectl-edit' });
    expect(await version(production, 'api')).toBe('edited-by-hand');
    const mark = controller.logs.length;
    controller.resync();
    const line = await controller.waitForLog(/^production: deployed \(DriftReverted\)/, mark);
    expect(line).toContain(`drift reverted (edited in the cluster): Deployment ${production}/api`);
    expect(await version(production, 'api')).toBe('a1');
    const saved = await new ConfigMapStatusStore(kubeConfig(), system.name).get('production');
    expect(saved?.drift).toEqual([`Deployment ${production}/api`]);
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'DriftReverted' });
  });

  it('a preview past its ttl is torn down in the cluster, and a resync does not bring it back', async () => {
    web.branch('feature/x');
    const head = web.commit('feature', service('web', 'feature'));
    web.git('push', '-q', webUrl, 'feature/x');
    let mark = controller.logs.length;
    expect((await controller.push('web', 'fx', { ref: 'refs/heads/feature/x', before: '0'.repeat(40), after: head })).status).toBe(202);
    await controller.waitForLog(/^feature-x: deployed/, mark);
    expect(await version(preview, 'web')).toBe('feature');
    expect(await version(preview, 'api')).toBe('a1');

    // Two hours later, with no push since: past the one-hour ttl.
    skewMs = 2 * 3_600_000;
    mark = controller.logs.length;
    controller.resync();
    await controller.waitForLog(/^feature-x: deleted \(Expired\)/, mark);
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const going = async () => {
      try {
        return (await core.readNamespace({ name: preview })).metadata?.deletionTimestamp !== undefined;
      } catch (error) {
        return isNotFound(error);
      }
    };
    await eventually(`namespace ${preview} going`, going, 30_000);
    expect(condition(await new ConfigMapStatusStore(kubeConfig(), system.name).get('feature-x'), 'Ready')).toMatchObject({ status: 'False', reason: 'Expired' });

    // The branch is still there; the next resync leaves the preview down.
    mark = controller.logs.length;
    controller.resync();
    await controller.waitForLog(/^feature-x: skipped \(Expired\)/, mark);
    expect(await going()).toBe(true);
  });

  it('a rollout that cannot finish is RolloutFailed, and the previous version keeps serving', async () => {
    const before = await apps().readNamespacedDeployment({ name: 'api', namespace: production });
    const servingImage = before.spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')?.value;
    const previous = api.head();
    // No node has 1000 CPUs: the new pod is never scheduled.
    const next = api.commit('huge', { 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'busybox:1.36', port: 8080, env: { VERSION: 'a2' }, resources: { cpu: '1000..1000' } });\n` });
    api.git('push', '-q', apiUrl, 'main');
    expect(api.git('ls-remote', apiUrl, 'refs/heads/main').split(/\s/)[0]).toBe(next);
    const mark = controller.logs.length;
    const reportsBefore = controller.reports.length;
    expect((await controller.push('api', 'huge', { ref: 'refs/heads/main', before: previous, after: next })).status).toBe(202);
    const line = await controller.waitForLog(/^production: stalled \(RolloutFailed\)/, mark);
    expect(line).toMatch(/the previous version keeps serving: Deployment .*\/api: not ready after 20s/);
    expect(line).toMatch(/Insufficient cpu|Unschedulable/);
    // The old ReplicaSet still serves: its pod is available, running the previous version.
    const sets = (await apps().listNamespacedReplicaSet({ namespace: production })).items.filter((item) => item.metadata?.name?.startsWith('api-'));
    const old = sets.find((item) => item.spec?.template?.spec?.containers[0]?.env?.find((env) => env.name === 'VERSION')?.value === servingImage);
    expect(old?.status?.availableReplicas).toBe(1);
    expect((await apps().readNamespacedDeployment({ name: 'api', namespace: production })).status?.availableReplicas).toBe(1);
    const saved = await new ConfigMapStatusStore(kubeConfig(), system.name).get('production');
    expect(condition(saved, 'Stalled')).toMatchObject({ status: 'True', reason: 'RolloutFailed' });
    expect(controller.reports.slice(reportsBefore).filter((item) => item.target.sha === next && item.status.environment === 'production').map((item) => item.status.phase)).toEqual(['pending', 'failed']);
    // The preview that expired earlier is fed by this branch too, but stays down: it is not its own branch.
    await controller.waitForLog(/^feature-x: skipped \(Expired\)/, mark);
  });
});
