/**
 * The web UI in a real browser: Debian's Chromium, headless, driven by playwright-core, against
 * the UI server reading the statuses a real controller (the harness) writes while it deploys to
 * the bed. Screenshots go to test-artifacts/web-ui/ (gitignored) for people to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveWorkloads } from '../../src/cluster/workloads.js';
import { ConfigMapPinStore } from '../../src/controller/pin-store.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { startUiServer, type RunningUi } from '../../src/controller/ui/server.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { ControllerHarness } from './controller-harness.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `ui${uniqueSuffix()}`;
const TOKEN = 'ui-token-0123456789';
const artifacts = join(process.cwd(), 'test-artifacts', 'web-ui');
let root: GitRoot;
let web: TestRepo;
let webUrl: string;
let system: TestNamespace;
let controller: ControllerHarness;
let ui: RunningUi;
let browser: Browser;

const service = (version: string) => ({ 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, env: { VERSION: '${version}' } });\n` });

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  root = new GitRoot();
  const opsUrl = freshGitRepoUrl('ops');
  webUrl = freshGitRepoUrl('web');
  const ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { web: { path: 'team/web' } },
  environments: { staging: {} },
  branches: [{ branch: 'main', environment: 'staging' }, { branch: 'feature/*', preview: { mode: 'full', base: 'staging', ttl: '3h' } }],
});
`,
  });
  web = root.repo('web', service('v1'));
  web.branch('feature/login');
  web.commit('login', service('login'));
  web.checkout('main');
  ops.git('push', '-q', opsUrl, 'main');
  web.git('push', '-q', webUrl, 'main', 'feature/login');
  system = await freshNamespace('ui-system');
  controller = new ControllerHarness({ ops: opsUrl, urls: { web: webUrl }, hooked: { web: 'team/web' }, namespace: system.name, cacheDir: root.cache });
  await controller.start();
  await controller.waitForLog(/^staging: deployed/);
  await controller.waitForLog(/^feature-login: deployed/);
  const kube = kubeConfig();
  ui = await startUiServer({ store: new ConfigMapStatusStore(kube, system.name), pins: new ConfigMapPinStore(kube, system.name), workloads: (namespace) => liveWorkloads(kube, namespace), token: TOKEN, port: 0, pollMs: 300 });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await controller?.stop();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of [`${project}-staging`, `${project}-feature-login`]) await core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

describe('the web UI in Chromium', { timeout: 180_000 }, () => {
  it('refuses requests without the token, and anything but GET', async () => {
    expect((await fetch(`${ui.url}/`)).status).toBe(401);
    expect((await fetch(`${ui.url}/api/environments`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${ui.url}/api/environments`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
    const ok = await fetch(`${ui.url}/api/environments`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { environments: Array<{ environment: string }> }).environments.map((item) => item.environment)).toEqual(['feature-login', 'staging']);
  });

  it('shows the bed\'s environments, a preview\'s time left, one environment\'s services and history, and updates live on a deploy', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${ui.url}/?token=${TOKEN}`);
    // The token left the address bar for an HttpOnly cookie.
    expect(page.url()).toBe(`${ui.url}/`);
    const rows = page.locator('#environments tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const staging = page.locator('#environments tr[data-env="staging"]');
    expect(await staging.locator('td').nth(1).textContent()).toBe('main');
    expect(await staging.locator('td').nth(4).textContent()).toBe('True');
    expect(await staging.locator('td').nth(7).textContent()).toBe('web=busybox:1.36');
    expect(await page.locator('#environments tr[data-env="feature-login"] td').nth(8).textContent()).toMatch(/^preview, 2h 5\dm left \(ttl 3h\)$/);
    await expect.poll(() => page.locator('#live').textContent()).toBe('live');
    await page.screenshot({ path: join(artifacts, '1-environments.png'), fullPage: true });

    await staging.click();
    await expect.poll(() => page.locator('#services tbody tr').count()).toBe(1);
    expect(await page.locator('#services tbody tr td').allTextContents()).toEqual(['web', 'Deployment', '1/1', 'rolled out', 'busybox:1.36']);
    expect(await page.locator('#conditions tbody tr td:first-child').allTextContents()).toEqual(['Ready', 'Reconciling', 'Stalled']);
    expect(await page.locator('#history tbody tr').count()).toBe(1);
    await page.screenshot({ path: join(artifacts, '2-staging.png'), fullPage: true });

    // A push: the page changes without a reload, through the event stream.
    const before = web.head('main');
    const after = web.commit('v2', service('v2'));
    web.git('push', '-q', webUrl, 'main');
    const mark = controller.logs.length;
    expect((await controller.push('web', 'ui-v2', { ref: 'refs/heads/main', before, after })).status).toBe(202);
    await controller.waitForLog(/^staging: deployed/, mark);
    await expect.poll(() => staging.locator('td').nth(2).textContent(), { timeout: 15_000 }).toBe(`web@${after.slice(0, 12)}`);
    await expect.poll(() => page.locator('#history tbody tr').count(), { timeout: 15_000 }).toBe(2);
    expect(await page.locator('#history tbody tr:first-child td').nth(1).textContent()).toBe(`web@${after.slice(0, 12)}`);
    await page.screenshot({ path: join(artifacts, '3-after-deploy.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(await page.content()).not.toContain(TOKEN);
    await page.close();
  });
});
