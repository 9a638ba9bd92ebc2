/**
 * The operator's view on the bed: `diploid status`, `rollback`, `unpin` and `promote` run as the
 * CLI runs them (through `main`), against the statuses a real controller (the harness: webhook
 * server, loop, reconciler, pin watcher) writes while it deploys to the bed's API server.
 */
import * as k8s from '@kubernetes/client-node';
import { WebhookNotifier } from '../../src/controller/notify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentView } from '../../src/controller/status-view.js';
import type { LiveWorkload } from '../../src/cluster/workloads.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { startNotificationReceiver, type NotificationReceiver } from '../support/notification-receiver.js';
import { runCli } from '../support/ops-repo.js';
import { ControllerHarness } from './controller-harness.js';
import { eventually, freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireKubernetes, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `ov${uniqueSuffix()}`;
const staging = `${project}-staging`;
const production = `${project}-production`;
let root: GitRoot;
let web: TestRepo;
let webUrl: string;
let ops: TestRepo;
let opsUrl: string;
let system: TestNamespace;
let controller: ControllerHarness;
/** A real loopback receiver of the controller's notifications. */
let receiver: NotificationReceiver;

function service(version: string): Record<string, string> {
  return { 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, env: { VERSION: '${version}' } });\n` };
}

const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);

async function version(namespace: string): Promise<string | undefined> {
  const deployment = await apps().readNamespacedDeployment({ name: 'web', namespace });
  return deployment.spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')?.value;
}

/** Runs the CLI against the bed and the controller's namespace. */
async function cli(...args: string[]) {
  return runCli([...args, '--kubeconfig', requireKubernetes().kubeconfig, '--namespace', system.name]);
}

async function statusOf(env: string): Promise<EnvironmentView & { services: LiveWorkload[] }> {
  const run = await cli('status', '--env', env, '-o', 'json');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as EnvironmentView & { services: LiveWorkload[] };
}

async function pushWeb(branch: string, label: string): Promise<string> {
  const previous = web.head(branch);
  web.checkout(branch);
  const next = web.commit(label, service(label));
  web.git('push', '-q', webUrl, branch);
  const mark = controller.logs.length;
  expect((await controller.push('web', `d-${label}`, { ref: `refs/heads/${branch}`, before: previous, after: next })).status).toBe(202);
  await controller.waitForLog(new RegExp(`^${branch === 'main' ? 'staging' : 'production'}: deployed`), mark);
  return next;
}

beforeAll(async () => {
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  webUrl = freshGitRepoUrl('web');
  ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { web: { path: 'team/web' } },
  environments: { staging: {}, production: { services: { web: { replicas: 2 } } } },
  branches: [
    { branch: 'main', environment: 'staging' },
    { branch: 'release', environment: 'production' },
    { branch: 'feature/*', preview: { mode: 'full', base: 'staging', ttl: '2h' } },
  ],
});
`,
  });
  web = root.repo('web', service('v1'));
  web.branch('release');
  ops.git('push', '-q', opsUrl, 'main');
  web.git('push', '-q', webUrl, 'main', 'release');
  system = await freshNamespace('ov-system');
  receiver = await startNotificationReceiver();
  const notifier = new WebhookNotifier(receiver.url);
  controller = new ControllerHarness({ ops: opsUrl, urls: { web: webUrl }, hooked: { web: 'team/web' }, namespace: system.name, cacheDir: root.cache, notifier });
  await controller.start();
  await controller.waitForLog(/^staging: deployed/);
  await controller.waitForLog(/^production: deployed/);
});

afterAll(async () => {
  await controller?.stop();
  await receiver?.close();
  if (process.env['OV_LOG'] !== undefined) (await import('node:fs')).writeFileSync(process.env['OV_LOG'], controller.logs.join('\n'));
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of [staging, production, `${project}-feature-x`]) await core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

describe('the operator\'s view', { timeout: 240_000 }, () => {
  it('diploid status lists every environment with branch, commit, revision, images, conditions and last deploy', async () => {
    const run = await cli('status', '-o', 'json');
    expect(run.code).toBe(0);
    const { environments } = JSON.parse(run.stdout) as { environments: EnvironmentView[] };
    expect(environments.map((view) => view.environment)).toEqual(['production', 'staging']);
    for (const view of environments) {
      expect(view).toMatchObject({ ready: 'True', reason: 'Succeeded', images: { web: 'busybox:1.36' }, commits: { web: web.head(view.branch === 'main' ? 'main' : 'release') } });
      expect(view.revision).toMatch(/^[0-9a-f]{20}$/);
      expect(Date.parse(view.deployedAt ?? '')).toBeGreaterThan(Date.now() - 300_000);
      expect(view.conditions.map((item) => item.type)).toEqual(['Ready', 'Reconciling', 'Stalled']);
    }
    const text = await cli('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ENVIRONMENT +BRANCH +COMMIT +REVISION +READY +REASON +DEPLOYED +NOTE\n/);
    const stagingView = environments.find((view) => view.environment === 'staging')!;
    expect(text.stdout).toMatch(new RegExp(`\\nstaging +main +${stagingView.repo}@${stagingView.commit!.slice(0, 12)} +${stagingView.revision!.slice(0, 12)} +True +Succeeded `));
    expect(text.stdout).toMatch(/\nproduction +web +busybox:1\.36\n/);
  });

  it('diploid status --env shows the services with their images and rollout state, live from the cluster', async () => {
    await eventually('production rolled out', async () => (await apps().readNamespacedDeployment({ name: 'web', namespace: production })).status?.readyReplicas === 2, 60_000);
    const view = await statusOf('production');
    expect(view.services).toEqual([{ service: 'web', kind: 'Deployment', name: 'web', images: { web: 'busybox:1.36' }, desired: 2, ready: 2, rollout: 'rolled out', stalled: false }]);
    const text = await cli('status', '--env', 'production');
    expect(text.stdout).toMatch(/\nservices:\n  SERVICE +KIND +READY +ROLLOUT +IMAGE\n  web +Deployment +2\/2 +rolled out +busybox:1\.36\n/);
    expect(text.stdout).toMatch(/\n  Ready +True +Succeeded /);
  });

  it('a preview shows the time left before its ttl', async () => {
    web.branch('feature/x', 'main');
    const head = web.commit('fx', service('fx'));
    web.git('push', '-q', webUrl, 'feature/x');
    const mark = controller.logs.length;
    expect((await controller.push('web', 'fx', { ref: 'refs/heads/feature/x', before: '0'.repeat(40), after: head })).status).toBe(202);
    await controller.waitForLog(/^feature-x: deployed/, mark);
    const view = await statusOf('feature-x');
    expect(view.preview).toMatchObject({ mode: 'full', base: 'staging', ttl: '2h' });
    expect(view.preview?.remainingMs).toBeGreaterThan(2 * 3600_000 - 300_000);
    expect(view.preview?.remainingMs).toBeLessThanOrEqual(2 * 3600_000);
    const text = await cli('status');
    expect(text.stdout).toMatch(/\nfeature-x +feature\/x .* preview, 1h 5\dm left \(ttl 2h\)\n/);
  });

  it('history records each deploy; rollback redeploys the one before without a build, pinned, and the next push ends the pin', async () => {
    const v1 = web.head('main');
    const v2 = await pushWeb('main', 'v2');
    expect(await version(staging)).toBe('v2');
    const before = await statusOf('staging');
    expect(before.history.map((item) => item.commits.web)).toEqual([v2, v1]);
    expect(before.history.map((item) => item.cause)).toEqual(['git', 'git']);
    const jobs = (await kubeConfig().makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: system.name })).items.length;

    const run = await cli('rollback', '--env', 'staging', '--wait', '--timeout', '90');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`staging: pinned to revision ${before.history[1]!.revision.slice(0, 12)}`);
    expect(await version(staging)).toBe('v1');
    const pinned = await statusOf('staging');
    expect(pinned.pin).toMatchObject({ reason: 'rollback', revision: before.history[1]!.revision, commits: { web: v1 } });
    expect(pinned.revision).toBe(before.history[1]!.revision);
    expect(pinned.history[0]).toMatchObject({ cause: 'rollback', commits: { web: v1 } });
    expect((await cli('status')).stdout).toMatch(/\nstaging .* pinned \(rollback\)\n/);
    // No build: the images of a recorded revision exist.
    expect((await kubeConfig().makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: system.name })).items.length).toBe(jobs);

    // A resync keeps the pin: the loop is on, but the branch head (v2) is not deployed.
    let mark = controller.logs.length;
    controller.resync();
    await controller.waitForLog(/^staging: /, mark);
    expect(await version(staging)).toBe('v1');
    expect((await statusOf('staging')).pin?.reason).toBe('rollback');

    mark = controller.logs.length;
    await pushWeb('main', 'v3');
    expect(await version(staging)).toBe('v3');
    const after = await statusOf('staging');
    expect(after.pin).toBeUndefined();
    expect(after.history[0]).toMatchObject({ cause: 'git' });
  });

  it('rollback --to names a recorded revision by prefix, and refuses one that is not recorded', async () => {
    const view = await statusOf('staging');
    const v2 = view.history.find((item) => item.commits.web !== undefined && item.cause === 'git' && item !== view.history[0] && item.revision !== view.history[0]!.revision && item.commits.web === web.head('main~1'));
    expect(v2).toBeDefined();
    const run = await cli('rollback', '--env', 'staging', '--to', v2!.revision.slice(0, 8), '--wait', '-o', 'json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ environment: 'staging', pinned: true, revision: v2!.revision, deployed: true });
    expect(await version(staging)).toBe('v2');
    const bad = await cli('rollback', '--env', 'staging', '--to', 'ffffffffffff');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: cannot roll back staging: no recorded revision starts with "ffffffffffff"; recorded: /);
  });

  it('unpin returns the environment to its branch head', async () => {
    const run = await cli('unpin', '--env', 'staging', '--wait');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await version(staging)).toBe('v3');
    expect((await statusOf('staging')).pin).toBeUndefined();
    const again = await cli('unpin', '--env', 'staging');
    expect(again).toMatchObject({ code: 1, stderr: 'error: staging is not pinned\n' });
  });

  it('promote deploys to production exactly what staging runs, with production\'s own settings, no rebuild', async () => {
    const source = await statusOf('staging');
    const run = await cli('promote', '--from', 'staging', '--to', 'production', '--wait', '--timeout', '90', '-o', 'json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ from: 'staging', to: 'production', commits: source.commits, images: source.images, deployed: true });
    expect(await version(production)).toBe('v3');
    const live = await apps().readNamespacedDeployment({ name: 'web', namespace: production });
    expect(live.spec?.replicas).toBe(2);
    const view = await statusOf('production');
    expect(view.pin).toMatchObject({ reason: 'promotion', from: 'staging', commits: source.commits });
    expect(view.history[0]).toMatchObject({ cause: 'promotion', commits: source.commits, images: source.images });
    expect((await cli('status')).stdout).toMatch(/\nproduction .* pinned \(promotion from staging\)\n/);
  });

  it('a config rule requiring promotion: following git does not deploy production, a promotion from staging does', async () => {
    const config = ops.git('show', 'HEAD:.diploid.conf.js').replace("production: { services: { web: { replicas: 2 } } }", "production: { services: { web: { replicas: 2 } }, promotion: { from: 'staging' } }");
    expect(config).toContain("promotion: { from: 'staging' }");
    const before = ops.head();
    const after = ops.commit('require promotion', { '.diploid.conf.js': config });
    ops.git('push', '-q', opsUrl, 'main');
    // Production is still pinned by the promotion before: unpinned, it follows git, whose config now requires promotion.
    let mark = controller.logs.length;
    expect((await cli('unpin', '--env', 'production')).code).toBe(0);
    controller.resync();
    await controller.waitForLog(/^production: skipped \(PromotionRequired\)/, mark);
    expect(before).not.toBe(after);
    const runs = await version(production);
    // Another pass: still not deployed, and the status says why.
    mark = controller.logs.length;
    controller.resync();
    await controller.waitForLog(/^production: skipped \(PromotionRequired\) deploys only by promotion/, mark);
    expect(await version(production)).toBe(runs);
    const run = await cli('promote', '--from', 'staging', '--to', 'production', '--wait', '--timeout', '90');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await version(production)).toBe('v3');
    expect((await statusOf('production')).history[0]).toMatchObject({ cause: 'promotion' });
  });

  it('the notification webhook heard of deploys, the rollback and the promotion', () => {
    const kinds = receiver.received.map((item) => `${item.diploid.environment}:${item.diploid.kind}`);
    expect(kinds).toContain('staging:deployed');
    expect(kinds).toContain('staging:rolled-back');
    expect(kinds).toContain('production:promoted');
    expect(receiver.received.find((item) => item.diploid.kind === 'promoted')?.text).toMatch(/^:arrow_up: production: promoted from staging at \w+@[0-9a-f]{12} \(Succeeded\)$/);
  });

  it('a command on an unknown environment says which exist', async () => {
    const run = await cli('status', '--env', 'nope');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: no environment "nope" in namespace ${system.name} (known: feature-x, production, staging)\n`);
  });
});
