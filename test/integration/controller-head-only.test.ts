/**
 * Head-only deploys through the controller's real path: signed GitHub deliveries to the webhook
 * server, the in-cluster delivery log, the queue, the loop and the reconciler, against the bed's
 * API server (kwok rolls Deployments out) and git server. A delivery only says a branch moved;
 * what is deployed is the branch's head in git.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_LOG_NAME } from '../../src/controller/delivery-log.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { ControllerHarness } from './controller-harness.js';
import { eventually, freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `head${uniqueSuffix()}`;
const production = `${project}-production`;
const ZERO = '0'.repeat(40);
let root: GitRoot;
let app: TestRepo;
let appUrl: string;
let system: TestNamespace;
let controller: ControllerHarness;

function service(version: string): Record<string, string> {
  return { 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, env: { VERSION: '${version}' } });\n` };
}

async function live(): Promise<{ version: string | undefined; generation: number | undefined }> {
  const deployment = await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: production });
  const version = deployment.spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')?.value;
  return { version, generation: deployment.metadata?.generation };
}

async function deployedCommit(): Promise<string | undefined> {
  return (await new ConfigMapStatusStore(kubeConfig(), system.name).get('production'))?.commit;
}

beforeAll(async () => {
  root = new GitRoot();
  const opsUrl = freshGitRepoUrl('ops');
  appUrl = freshGitRepoUrl('app');
  const ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { app: { path: 'team/app', services: ['web'] } },
  environments: { production: {} },
  branches: [{ branch: 'main', environment: 'production' }],
});
`,
  });
  app = root.repo('app', service('v1'));
  ops.git('push', '-q', opsUrl, 'main');
  app.git('push', '-q', appUrl, 'main');
  system = await freshNamespace('head-system');
  controller = new ControllerHarness({ ops: opsUrl, urls: { app: appUrl }, hooked: { app: 'team/app' }, namespace: system.name, cacheDir: root.cache });
  await controller.start();
  // The resync at start deploys what git holds.
  await controller.waitForLog(/^production: deployed/);
});

afterAll(async () => {
  await controller?.stop();
  await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: production }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

describe('head-only deploys through the controller', { timeout: 240_000 }, () => {
  let v1 = '';
  let v2 = '';

  it('a delivery of the branch head deploys it', async () => {
    v1 = app.head();
    v2 = app.commit('v2', service('v2'));
    app.git('push', '-q', appUrl, 'main');
    const mark = controller.logs.length;
    expect(await controller.push('app', 'd-v2', { ref: 'refs/heads/main', before: v1, after: v2 })).toEqual({ status: 202, body: '{"status":"queued"}' });
    await controller.waitForLog(/^production: deployed/, mark);
    expect((await live()).version).toBe('v2');
    expect(await deployedCommit()).toBe(v2);
  });

  it('a replayed old push (same body, new delivery id) does not roll back', async () => {
    const before = await live();
    const mark = controller.logs.length;
    const reportsBefore = controller.reports.length;
    expect((await controller.push('app', 'replay-of-v1', { ref: 'refs/heads/main', before: ZERO, after: v1 })).status).toBe(202);
    await controller.waitForLog(new RegExp(`names ${v1.slice(0, 12)}, but the head of "main" is ${v2.slice(0, 12)}`), mark);
    await controller.waitForLog(/^production: unchanged/, mark);
    expect(await live()).toEqual(before);
    expect(before.version).toBe('v2');
    expect(await deployedCommit()).toBe(v2);
    // Nothing is reported about the old commit: it was not deployed.
    expect(controller.reports.slice(reportsBefore).filter((item) => item.target.sha === v1)).toEqual([]);
  });

  it('a push naming a commit that is not the head deploys the head, not it', async () => {
    const v3 = app.commit('v3', service('v3'));
    const v4 = app.commit('v4', service('v4'));
    app.git('push', '-q', appUrl, 'main');
    const mark = controller.logs.length;
    const reportsBefore = controller.reports.length;
    expect((await controller.push('app', 'd-v3', { ref: 'refs/heads/main', before: v2, after: v3 })).status).toBe(202);
    await controller.waitForLog(new RegExp(`names ${v3.slice(0, 12)}, but the head of "main" is ${v4.slice(0, 12)}`), mark);
    await controller.waitForLog(/^production: deployed/, mark);
    expect((await live()).version).toBe('v4');
    expect(await deployedCommit()).toBe(v4);
    const reported = controller.reports.slice(reportsBefore);
    expect(reported.some((item) => item.target.sha === v4 && item.status.phase === 'deployed')).toBe(true);
    expect(reported.filter((item) => item.target.sha === v3)).toEqual([]);
  });

  it('a commit that is on no branch (forged with a leaked secret) is never deployed', async () => {
    const before = await live();
    // A commit that exists only locally: git on the server has never seen it.
    const unknown = app.commit('unreviewed', service('evil'));
    app.git('reset', '-q', '--hard', 'HEAD~1');
    const mark = controller.logs.length;
    expect((await controller.push('app', 'forged', { ref: 'refs/heads/main', before: ZERO, after: unknown })).status).toBe(202);
    await controller.waitForLog(new RegExp(`names ${unknown.slice(0, 12)}, but the head of "main"`), mark);
    await controller.waitForLog(/^production: unchanged/, mark);
    expect(await live()).toEqual(before);
    expect(before.version).not.toBe('evil');
  });

  it('a push whose webhook was dropped is deployed by the next resync, and the status and commit status name that commit', async () => {
    const v5 = app.commit('v5', service('v5'));
    app.git('push', '-q', appUrl, 'main');
    // No delivery: the host's webhook was lost.
    const mark = controller.logs.length;
    const reportsBefore = controller.reports.length;
    controller.resync();
    await controller.waitForLog(/^production: deployed/, mark);
    expect((await live()).version).toBe('v5');
    const saved = await new ConfigMapStatusStore(kubeConfig(), system.name).get('production');
    // The resync reached production through the ops repo's branch first; the status still names the app commit it deployed.
    expect(saved).toMatchObject({ repo: 'app', commit: v5 });
    expect(saved?.commits?.['app']).toBe(v5);
    const reported = controller.reports.slice(reportsBefore);
    expect(reported.filter((item) => item.target.repo === 'app' && item.target.sha === v5).map((item) => item.status.phase)).toEqual(['pending', 'deployed']);
    expect(reported.filter((item) => item.target.repo === 'ops')).toEqual([]);
  });

  it('a redelivery is dropped, also by a restarted controller', async () => {
    const head = app.head();
    expect((await controller.push('app', 'once', { ref: 'refs/heads/main', before: ZERO, after: head })).body).toBe('{"status":"queued"}');
    expect((await controller.push('app', 'once', { ref: 'refs/heads/main', before: ZERO, after: head })).body).toBe('{"status":"duplicate"}');
    await controller.stop();
    const mark = controller.logs.length;
    await controller.start();
    // The restarted controller remembers nothing in memory; the delivery log is in the cluster.
    expect((await controller.push('app', 'once', { ref: 'refs/heads/main', before: ZERO, after: head })).body).toBe('{"status":"duplicate"}');
    expect((await controller.push('app', 'twice', { ref: 'refs/heads/main', before: ZERO, after: head })).body).toBe('{"status":"queued"}');
    const log = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name: DELIVERY_LOG_NAME, namespace: system.name });
    expect(Object.keys(log.data ?? {}).length).toBeGreaterThanOrEqual(6);
    await eventually('the restarted controller idle again', async () => controller.logs.slice(mark).some((line) => /^production: /.test(line)), 60_000);
  });
});
