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
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { status } from '../../testbed/bed.js';
import { ensureControllerImage } from '../../testbed/controller-image.js';
import { isRunning } from '../../testbed/processes.js';
import { startSecondBed } from './second-bed.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireGit, requireIngress, requireKubernetes, requirePodGateway, requireRealNode, requireRegistry, testbed, uniqueSuffix } from './testbed.js';

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

/** An ops repo for `up` with a cluster (one environment, production, fed by main), pushed to `url`; returns its folder. */
function pushedOpsRepo(url: string, names: { project: string; controllerNamespace: string; production: string }, files: Readonly<Record<string, string>> = {}): string {
  const ops = writeOpsRepo({
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${names.project}',
  controller: { namespace: '${names.controllerNamespace}' },
  ingress: { domain: '${names.project}.test' },
  environments: { production: { namespace: '${names.production}' } },
  branches: [{ branch: 'main', environment: 'production' }],
});
`,
    ...files,
  });
  const repo = new TestRepo(ops);
  repo.git('init', '-q', '-b', 'main');
  repo.git('add', '-A');
  repo.git('commit', '-qm', 'ops');
  repo.git('push', '-q', url, 'main');
  return ops;
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
    const opsUrl = freshGitRepoUrl('up-ops');
    const ops = pushedOpsRepo(opsUrl, { project, controllerNamespace: namespace, production: `${project}-production` });
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

  it('with --kubeconfig and without --no-wait it follows the controller it installed until the environment is deployed', async () => {
    requireRealNode();
    const gateway = requirePodGateway();
    const suffix = uniqueSuffix();
    const project = `upw${suffix}`;
    const noBed = mkdtempSync(join(tmpdir(), 'diploid-up-nobed-'));
    const image = (await ensureControllerImage({ registry: requireRegistry().host, log: (line) => process.stderr.write(`[controller-image] ${line}\n`) })).image;
    // The administrator's part: the controller's namespace on the real node (it runs as a pod) and its Secret.
    const system = await freshNamespace('upw-system', { node: 'real' });
    const production = await freshNamespace('upw-prod');
    const kube = kubeConfig();
    await kube.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({ namespace: system.name, body: { metadata: { name: 'diploid' }, stringData: { DIPLOID_WEBHOOK_SECRET: uniqueSuffix() } } });
    const opsPath = `up-wait-${suffix}`;
    const ops = pushedOpsRepo(`${requireGit().url}/${opsPath}.git`, { project, controllerNamespace: system.name, production: production.name }, {
      'services/web.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, routes: ['@'] });\n`,
    });
    cleanups.push(async () => {
      rmSync(ops, { recursive: true, force: true });
      rmSync(noBed, { recursive: true, force: true });
      const rbac = kube.makeApiClient(k8s.RbacAuthorizationV1Api);
      await rbac.deleteClusterRoleBinding({ name: `diploid-controller-${project}` }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: `diploid-controller-${project}` }).catch(() => undefined);
    });

    // The controller runs in a pod: it clones the ops repo from the git server at the pod gateway.
    const run = await diploid(['up', ops, '--kubeconfig', requireKubernetes().kubeconfig, '--ops-url', `${gateway.gitUrl}/${opsPath}.git`, '--image', image, '--timeout', '10'], { DIPLOID_TESTBED_DIR: noBed });
    console.log(`diploid up --kubeconfig (following): ${run.seconds.toFixed(0)}s\n${run.stderr}\n${run.stdout}`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('controller installed (diploid init:');
    expect(readdirSync(noBed)).toEqual([]);
    // It followed the controller's status to the deploy, then listed the routes without probing them.
    expect(run.stderr).toMatch(/\] production: Succeeded: deployed revision [0-9a-f]+ from ops@[0-9a-f]{12}: /);
    expect(run.stderr).toMatch(/\] web: 1\/1 pods ready/);
    expect(run.stdout).toMatch(new RegExp(`^web\\s+http://(\\S+\\.)?${project}\\.test/$`, 'm'));
    expect(run.stdout).not.toContain('curl -H');
    expect(run.stdout).toContain(`The controller stays installed: kubectl delete namespace ${system.name} removes it.`);
    // What it waited for is there: the controller's pods, from the image asked for, and the service it deployed.
    const apps = kube.makeApiClient(k8s.AppsV1Api);
    const controller = await apps.readNamespacedDeployment({ name: 'diploid-controller', namespace: system.name });
    expect(controller.spec?.template.spec?.containers[0]?.image).toBe(image);
    const controllerPods = await kube.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: system.name, labelSelector: 'app.kubernetes.io/name=diploid-controller' });
    expect(controllerPods.items.filter((pod) => pod.status?.phase === 'Running').map((pod) => pod.spec?.nodeName)).toContain(requireRealNode().nodeName);
    const web = await apps.readNamespacedDeployment({ name: 'web', namespace: production.name });
    expect(web.status?.readyReplicas).toBe(1);
    const status = await new ConfigMapStatusStore(kube, system.name).get('production');
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
  });

  it('diploid down stops the bed in DIPLOID_TESTBED_DIR, every process it started and its folder, and nothing else', async () => {
    // A bed of its own to stop (kwok only: the machine's real node stays with the run's bed).
    const second = await startSecondBed();
    cleanups.push(() => second.stop());
    const stateDir = second.state.stateDir;
    const processes = second.state.processes;
    expect(processes.map((record) => record.name)).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver', 'kwok', 'registry', 'git']));
    expect(processes.filter((record) => !isRunning(record))).toEqual([]);
    const runBed = testbed().stateDir;
    const runBedStarted = JSON.parse(readFileSync(join(runBed, 'state.json'), 'utf8')).startedAt as string;

    const run = await diploid(['down'], { DIPLOID_TESTBED_DIR: stateDir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('the local test bed is stopped');
    // Each process it started is named as it stops, and none runs any more; its folder is gone.
    for (const record of processes) expect(run.stderr).toMatch(new RegExp(`${record.name} \\(pid ${record.pid}\\): (stopped|killed)`));
    expect(processes.filter((record) => isRunning(record)).map((record) => `${record.name} ${record.pid}`)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
    await expect(fetch(`${second.state.registry?.url}/v2/`)).rejects.toThrow();
    // What it leaves: the bed's built binaries (the next up starts in seconds), and every other bed.
    expect(existsSync(join(testbed().binDir, 'kube-apiserver'))).toBe(true);
    expect((await status(runBed)).parts.filter((part) => !part.ok)).toEqual([]);
    expect(JSON.parse(readFileSync(join(runBed, 'state.json'), 'utf8')).startedAt).toBe(runBedStarted);
  });
});
