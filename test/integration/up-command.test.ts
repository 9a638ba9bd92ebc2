/**
 * `diploid up examples/shop`, the README's first command, run as its own process against the
 * run's test bed (DIPLOID_TESTBED_DIR): it reuses the running bed, pushes the example's repos to
 * the bed's git server, the controller builds them with BuildKit on the real node and deploys
 * them, and the URLs it prints answer over HTTP through Traefik. A second run changes nothing.
 * With an explicit kubeconfig it uses that cluster and starts no bed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOpsRepo } from '../support/ops-repo.js';
import { TestRepo } from '../support/git-repos.js';
import { freshGitRepoUrl, isNotFound, kubeConfig, requireIngress, requireKubernetes, requireRealNode, testbed, uniqueSuffix } from './testbed.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../support/cli-process.ts', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** The CLI as its own process, from the repository root, with no cluster in the environment unless given. */
function diploid(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  const { KUBECONFIG: _kubeconfig, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

/** GET through the ingress with a route's host, as `curl -H 'Host: ...'` does. */
function request(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { host }, timeout: 10_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} (Host ${host})`)));
    req.on('error', reject);
  });
}

/** Right after a rollout Traefik may still send a request to a pod just stopped: up to three tries, 2 s apart. */
async function asked(url: string, host: string): Promise<{ status: number; body: string } | undefined> {
  let answer = await request(url, host).catch(() => undefined);
  for (let tries = 1; answer?.status !== 200 && tries < 3; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    answer = await request(url, host).catch(() => undefined);
  }
  return answer;
}

/** The routes `up` printed: `SERVICE URL (answers N)` each followed by its curl line. */
function printedRoutes(stdout: string): Array<{ service: string; url: string; host: string; direct: string }> {
  const routes: Array<{ service: string; url: string; host: string; direct: string }> = [];
  const lines = stdout.split('\n');
  lines.forEach((line, index) => {
    const route = /^(\S+)\s+(http:\/\/\S+)\s+\(answers \d+\)$/.exec(line);
    const curl = /curl -H 'Host: ([^']+)' (\S+)$/.exec(lines[index + 1] ?? '');
    if (route?.[1] !== undefined && route[2] !== undefined && curl?.[1] !== undefined && curl[2] !== undefined) {
      routes.push({ service: route[1], url: route[2], host: curl[1], direct: curl[2] });
    }
  });
  return routes;
}

/** Commits `up` says it pushed, by folder. */
function pushed(stderr: string): string[] {
  return [...stderr.matchAll(/pushed (\S+) to (\S+) main \(([0-9a-f]{12})/g)].map((match) => `${match[2]} ${match[3]}`).sort();
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('diploid up', { timeout: 1_800_000 }, () => {
  it('brings up examples/shop on the running bed: progress, URLs that answer, and a second run that changes nothing', async () => {
    requireRealNode();
    const bed = testbed().stateDir;
    const bedStarted = JSON.parse(readFileSync(join(bed, 'state.json'), 'utf8')).startedAt as string;
    const first = await diploid(['up', 'examples/shop'], { DIPLOID_TESTBED_DIR: bed });
    console.log(`diploid up (first run on this bed): ${first.seconds.toFixed(0)}s\n${first.stderr}\n${first.stdout}`);
    expect(first.code, first.stderr).toBe(0);

    // Progress: the bed reused, each repo pushed, the controller's status, builds and pods.
    expect(first.stderr).toContain('no cluster named (--kubeconfig, KUBECONFIG, --context): using the local test bed');
    expect(first.stderr).toContain(`test bed already running (${bed})`);
    expect(pushed(first.stderr).map((line) => line.split(' ')[0])).toEqual([
      expect.stringMatching(/\/shop\/backend\.git$/),
      expect.stringMatching(/\/shop\/billing\.git$/),
      expect.stringMatching(/\/shop\/ops\.git$/),
      expect.stringMatching(/\/shop\/web\.git$/),
    ]);
    // The status the controller writes, as it changes (Building, Progressing, then Succeeded; a warm bed may show only the last).
    expect(first.stderr).toMatch(/\] production: (Building|Progressing|Succeeded): \S/);
    expect(first.stderr).toMatch(/\] web: \d+\/\d+ pods ready/);
    expect(first.stderr).toMatch(/\] api answers 200 at http:\/\/api\.production\.shop\.localhost:\d+\//);
    expect(first.stderr).toMatch(/first service answered \d+s after the start/);
    // The bed is the one the run started: not restarted.
    expect(JSON.parse(readFileSync(join(bed, 'state.json'), 'utf8')).startedAt).toBe(bedStarted);

    // The URLs printed answer, asked here independently of up's own probe, through Traefik.
    const routes = printedRoutes(first.stdout);
    expect(routes.map((route) => route.service)).toEqual(['api', 'web']);
    const ingress = requireIngress().url;
    for (const route of routes) {
      expect(route.direct).toBe(`${ingress}/`);
      expect(new URL(route.url).port).toBe(new URL(ingress).port);
      const answer = await asked(route.direct, route.host);
      expect(answer?.status, `${route.service} at ${route.url}`).toBe(200);
    }
    // The API answers as itself; the web app serves its page.
    expect(JSON.parse((await asked(`${ingress}/`, 'api.production.shop.localhost'))?.body ?? '')).toMatchObject({ service: 'api' });
    expect((await asked(`${ingress}/`, 'production.shop.localhost'))?.body).toContain('<html');
    expect(first.stdout).toContain(`Stop the bed: DIPLOID_TESTBED_DIR=${bed} npx diploid down`);

    // A second run: same commits, no build, no new rollout of any Deployment.
    const kube = kubeConfig();
    // The rollout revision of each Deployment (a generation also moves when the api's autoscaler scales it).
    const generations = async () => Object.fromEntries((await kube.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace: 'shop-production' })).items.map((d) => [d.metadata?.name, d.metadata?.annotations?.['deployment.kubernetes.io/revision']]));
    const jobs = async () => (await kube.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: 'diploid-system', labelSelector: 'diploid.dev/build' })).items.map((job) => job.metadata?.name).sort();
    const [generationsBefore, jobsBefore] = [await generations(), await jobs()];
    const second = await diploid(['up', 'examples/shop'], { DIPLOID_TESTBED_DIR: bed });
    console.log(`diploid up (second run): ${second.seconds.toFixed(0)}s\n${second.stderr}`);
    expect(second.code, second.stderr).toBe(0);
    expect(pushed(second.stderr)).toEqual(pushed(first.stderr));
    expect(second.stderr).not.toMatch(/: building \(/);
    expect(printedRoutes(second.stdout)).toEqual(routes);
    expect(await jobs()).toEqual(jobsBefore);
    expect(await generations()).toEqual(generationsBefore);
  });

  it('with --kubeconfig (or KUBECONFIG and --context) it installs the controller in that cluster and starts no bed', async () => {
    const suffix = uniqueSuffix();
    const project = `upk${suffix}`;
    const namespace = `upk-system-${suffix}`;
    const noBed = mkdtempSync(join(tmpdir(), 'diploid-up-nobed-'));
    const ops = writeOpsRepo({
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  controller: { namespace: '${namespace}' },
  ingress: { domain: '${project}.test' },
  environments: { production: { namespace: '${project}-production' } },
  branches: [{ branch: 'main', environment: 'production' }],
});
`,
    });
    const opsUrl = freshGitRepoUrl('up-ops');
    const repo = new TestRepo(ops);
    repo.git('init', '-q', '-b', 'main');
    repo.git('add', '-A');
    repo.git('commit', '-qm', 'ops');
    repo.git('push', '-q', opsUrl, 'main');
    const kube = kubeConfig();
    cleanups.push(async () => {
      rmSync(ops, { recursive: true, force: true });
      rmSync(noBed, { recursive: true, force: true });
      await kube.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
      const rbac = kube.makeApiClient(k8s.RbacAuthorizationV1Api);
      await rbac.deleteClusterRoleBinding({ name: `diploid-controller-${project}` }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: `diploid-controller-${project}` }).catch(() => undefined);
    });

    const run = await diploid(['up', ops, '--kubeconfig', requireKubernetes().kubeconfig, '--ops-url', opsUrl, '--image', 'example.test/diploid:up', '--no-wait'], { DIPLOID_TESTBED_DIR: noBed });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`using the cluster at ${requireKubernetes().server} (kubeconfig ${requireKubernetes().kubeconfig}); no local test bed`);
    expect(run.stderr).not.toContain('[bed]');
    // No bed was started in DIPLOID_TESTBED_DIR, and nothing was pushed.
    expect(readdirSync(noBed)).toEqual([]);
    expect(existsSync(join(noBed, 'state.json'))).toBe(false);
    expect(run.stderr).not.toContain('pushed ');
    // diploid init ran against that cluster: the controller's Deployment, with the image asked for.
    const deployment = await kube.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'diploid-controller', namespace });
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('example.test/diploid:up');
    expect(deployment.spec?.template.spec?.containers[0]?.args).toContain(`--ops=${opsUrl}`);

    // A context named, with the kubeconfig from KUBECONFIG: the same cluster, again no bed.
    const context = new k8s.KubeConfig();
    context.loadFromFile(requireKubernetes().kubeconfig);
    const again = await diploid(['up', ops, '--context', context.getCurrentContext(), '--ops-url', opsUrl, '--image', 'example.test/diploid:up2', '--no-wait'], { DIPLOID_TESTBED_DIR: noBed, KUBECONFIG: requireKubernetes().kubeconfig });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`using the cluster at ${requireKubernetes().server} (context ${context.getCurrentContext()}); no local test bed`);
    expect(readdirSync(noBed)).toEqual([]);
    const updated = await kube.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'diploid-controller', namespace });
    expect(updated.spec?.template.spec?.containers[0]?.image).toBe('example.test/diploid:up2');
  });
});
