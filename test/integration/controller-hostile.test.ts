/**
 * A hostile service repo against the controller's real path (signed webhook, delivery log, queue,
 * loop, reconciler, the sandbox, the bed's API server and git server): what an attacker who can
 * push a branch achieves is their own service's output, and nothing else.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { ControllerHarness } from './controller-harness.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `evil${uniqueSuffix()}`;
const production = `${project}-production`;
const ZERO = '0'.repeat(40);
const TOKEN = 'glpat-the-controller-token-never-leaks';
let root: GitRoot;
let app: TestRepo;
let ops: TestRepo;
let appUrl: string;
let opsUrl: string;
let system: TestNamespace;
let controller: ControllerHarness;

/** Everything the attacker tried, in one file; what it gathers goes into its own env. */
const HOSTILE = (extra: string) => `import { defineService } from 'diploid';
const loot = {};
for (const [name, attempt] of Object.entries({
  env: () => process.env,
  ctor: () => globalThis.constructor.constructor('return process')().env,
  array: () => [].constructor.constructor('return process')().env,
  fetch: () => fetch('http://127.0.0.1:1/'),
})) { try { loot[name] = attempt(); } catch { loot[name] = 'blocked'; } }
try { const fs = await import('node:fs'); loot.fs = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token', 'utf8'); } catch { loot.fs = 'blocked'; }
export default defineService([{ name: 'app', image: 'busybox:1.36', port: 8080, env: { LOOT: JSON.stringify(loot) } }${extra}]);
`;

async function deploymentEnv(namespace: string, name: string): Promise<Record<string, string | undefined> | undefined> {
  try {
    const deployment = await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name, namespace });
    return Object.fromEntries((deployment.spec?.template.spec?.containers[0]?.env ?? []).map((item) => [item.name, item.value]));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function everythingInCluster(): Promise<string> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
  const maps = await core.listConfigMapForAllNamespaces();
  const deployments = await apps.listDeploymentForAllNamespaces();
  return JSON.stringify([maps.items, deployments.items]);
}

beforeAll(async () => {
  process.env.GITLAB_TOKEN = TOKEN;
  process.env.GITHUB_TOKEN = TOKEN;
  process.env.DIPLOID_WEBHOOK_SECRET = TOKEN;
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  appUrl = freshGitRepoUrl('app');
  ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { app: { path: 'team/app' } },
  environments: { production: {} },
  branches: [{ branch: 'main', environment: 'production' }, { branch: 'feature/*', preview: { mode: 'full', base: 'production' } }],
});
`,
    'services/api.js': "import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'registry.test/api:1', port: 8080 });\n",
  });
  app = root.repo('app', { 'diploid.service.js': "import { defineService } from 'diploid';\nexport default defineService({ name: 'app', image: 'busybox:1.36', port: 8080 });\n" });
  ops.git('push', '-q', opsUrl, 'main');
  app.git('push', '-q', appUrl, 'main');
  system = await freshNamespace('evil-system');
  controller = new ControllerHarness({ ops: opsUrl, urls: { app: appUrl }, hooked: { app: 'team/app', ops: 'team/ops' }, namespace: system.name, cacheDir: root.cache });
  await controller.start();
  await controller.waitForLog(/^production: deployed/);
});

afterAll(async () => {
  await controller?.stop();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of [production, `${project}-feature-loot`, `${project}-feature-other`, `${project}-feature-hang`, `${project}-feature-ops-loot`]) {
    await core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  }
  await system?.delete();
  root?.dispose();
});

describe('a hostile service repo through the controller', { timeout: 240_000 }, () => {
  it('reaches nothing: its preview runs with empty loot, and no token is anywhere in the cluster', async () => {
    app.branch('feature/loot');
    const head = app.commit('loot', { 'diploid.service.js': HOSTILE('') });
    app.git('push', '-q', appUrl, 'feature/loot');
    const mark = controller.logs.length;
    expect((await controller.push('app', 'loot-1', { ref: 'refs/heads/feature/loot', before: ZERO, after: head })).status).toBe(202);
    await controller.waitForLog(/^feature-loot: deployed/, mark);
    const env = await deploymentEnv(`${project}-feature-loot`, 'app');
    expect(JSON.parse(env?.LOOT ?? 'null')).toEqual({ env: 'blocked', ctor: 'blocked', array: 'blocked', fetch: 'blocked', fs: 'blocked' });
    expect(await everythingInCluster()).not.toContain(TOKEN);
    expect(controller.logs.join('\n')).not.toContain(TOKEN);
  });

  it('cannot describe another service: the preview fails with the located reason, production is untouched', async () => {
    const before = await deploymentEnv(production, 'api');
    app.checkout('main');
    app.branch('feature/other');
    const head = app.commit('other', { 'diploid.service.js': HOSTILE(", { name: 'api', image: 'evil/backdoor:latest', port: 8080 }") });
    app.git('push', '-q', appUrl, 'feature/other');
    const mark = controller.logs.length;
    expect((await controller.push('app', 'other-1', { ref: 'refs/heads/feature/other', before: ZERO, after: head })).status).toBe(202);
    const line = await controller.waitForLog(/^feature-other: /, mark);
    expect(line).toContain('repo "app" may describe only "app"');
    expect(await deploymentEnv(`${project}-feature-other`, 'api')).toBeUndefined();
    expect(await deploymentEnv(production, 'api')).toEqual(before);
    const status = await new ConfigMapStatusStore(kubeConfig(), system.name).get('feature-other');
    expect(condition(status, 'Ready')?.status).toBe('False');
    expect(JSON.stringify(status)).not.toContain('backdoor:latest');
  });

  it('an endless loop fails its own push after the time limit, and the controller keeps deploying', async () => {
    app.checkout('main');
    app.branch('feature/hang');
    const head = app.commit('hang', { 'diploid.service.js': 'for (;;) {}\n' });
    app.git('push', '-q', appUrl, 'feature/hang');
    const mark = controller.logs.length;
    expect((await controller.push('app', 'hang-1', { ref: 'refs/heads/feature/hang', before: ZERO, after: head })).status).toBe(202);
    expect(await controller.waitForLog(/^feature-hang: /, mark)).toContain('did not finish within');
    app.checkout('main');
    const previous = app.head();
    const next = app.commit('v2', { 'diploid.service.js': "import { defineService } from 'diploid';\nexport default defineService({ name: 'app', image: 'busybox:1.36', port: 8080, env: { V: '2' } });\n" });
    app.git('push', '-q', appUrl, 'main');
    const again = controller.logs.length;
    expect((await controller.push('app', 'main-2', { ref: 'refs/heads/main', before: previous, after: next })).status).toBe(202);
    await controller.waitForLog(/^production: deployed/, again);
    expect((await deploymentEnv(production, 'app'))?.V).toBe('2');
  });

  it('a hostile ops-repo branch reaches nothing either', async () => {
    ops.branch('feature/ops-loot');
    const head = ops.commit('ops loot', { 'services/loot.js': HOSTILE('').replace("name: 'app'", "name: 'loot'") });
    ops.git('push', '-q', opsUrl, 'feature/ops-loot');
    const mark = controller.logs.length;
    expect((await controller.push('ops', 'ops-loot-1', { ref: 'refs/heads/feature/ops-loot', before: ZERO, after: head })).status).toBe(202);
    await controller.waitForLog(/^feature-ops-loot: deployed/, mark);
    const env = await deploymentEnv(`${project}-feature-ops-loot`, 'loot');
    expect(JSON.parse(env?.LOOT ?? 'null')).toEqual({ env: 'blocked', ctor: 'blocked', array: 'blocked', fetch: 'blocked', fs: 'blocked' });
    expect(await everythingInCluster()).not.toContain(TOKEN);
  });
});
