/**
 * The bundled example, `examples/shop`, run for real: its service repos are pushed to the bed's
 * git server and built into images by diploid's own BuildKit build Jobs on the real node (the web
 * app through the `spa` preset's generated Dockerfile), pushed to the bed's registry under the
 * paths of the names `diploid apply` renders (`registry.example.com/...`, which the bed's
 * containerd resolves to its registry). The ops repo is then applied with `diploid apply --env
 * staging`, and the test asks as a user would, over HTTP from the host through Traefik.
 *
 * What differs from the example as shipped: the Ingress class is the bed's (Traefik serves class
 * `traefik`; the example names `nginx`); the vendor's billing image, which the example pulls and
 * never builds, is a stand-in built from `repos/billing/vendor-image`. What the example leaves to
 * an administrator, the test does as one: the namespace exists with the settings that put its pods
 * on the real node, the Secret `shop-db` holds the database password, and a host folder is
 * provisioned for billing's volume claim.
 */
import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { chownSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUILDER_IMAGE, type BuildRequest } from '../../src/cluster/build-job.js';
import { HttpRegistryClient } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { resolveApp } from '../../src/resolve/index.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { TestRepo } from '../support/git-repos.js';
import { type CliRun, runCli } from '../support/ops-repo.js';
import { SHOP_EXAMPLE } from '../support/golden.js';
import { http, pods } from './real-node-app.js';
import { eventually, freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireIngress, requireKubernetes, requireRealNode, requireRegistry, type TestNamespace, uniqueSuffix } from './testbed.js';

const ENVIRONMENT = 'staging';
/** The namespace the example gives staging (`<project>-<environment>`). */
const NAMESPACE = 'shop-staging';
const WEB_HOST = 'staging.shop.example.com';
const API_HOST = 'api.staging.shop.example.com';
const WEB_ORIGIN = `https://${WEB_HOST}`;
/** The example's registry; the bed's containerd pulls its names from the bed's registry. */
const EXAMPLE_REGISTRY = 'registry.example.com';

const password = `pw-${uniqueSuffix()}${uniqueSuffix()}`;
let work: string;
let namespace: TestNamespace;
let builds: TestNamespace;
let volume: string;
let applied: CliRun;
const seconds = { build: 0, apply: 0 };

/** buildkitd's config for the bed: public base images come from the bed's registry, over plain HTTP. */
function buildkitdToml(registry: string): string {
  return ['[worker.oci]', '  enabled = true', '[worker.containerd]', '  enabled = false', '[registry."docker.io"]', `  mirrors = ["${registry}"]`, `[registry."${registry}"]`, '  http = true', ''].join('\n');
}

/** A service repo folder of the copied example as a git repo on the bed's git server. */
function pushRepo(dir: string, name: string): { url: string; commit: string } {
  const repo = new TestRepo(dir);
  repo.git('init', '-q', '-b', 'main');
  repo.commit('the example as shipped', {});
  const url = freshGitRepoUrl(`shop-${name}`);
  repo.git('push', '-q', url, 'main');
  return { url, commit: repo.head() };
}

/** Where the bed holds an image of the example's registry: the same path in the bed's registry. */
function inBed(ref: string): string {
  if (!ref.startsWith(`${EXAMPLE_REGISTRY}/`)) throw new Error(`${ref} is not in the example's registry`);
  return `${requireRegistry().host}/${ref.slice(EXAMPLE_REGISTRY.length + 1)}`;
}

/**
 * The builds `diploid apply`'s images need, as the resolver describes them (context, Dockerfile or
 * the `spa` preset's generated one, build arguments), plus the billing stand-in.
 */
async function buildRequests(opsDir: string, repos: Record<string, { url: string; commit: string }>): Promise<BuildRequest[]> {
  const { sources } = await loadOpsDir(opsDir);
  const app = resolveApp(sources, { environment: ENVIRONMENT });
  const requests: BuildRequest[] = [];
  for (const service of app.services) {
    const { image } = service;
    if (image.kind === 'pull') {
      if (service.name !== 'billing') continue;
      expect(image.ref).toBe(`${EXAMPLE_REGISTRY}/vendor/billing:4.2`);
      const repo = repos['billing']!;
      requests.push({ repoUrl: repo.url, build: { service: 'billing', repo: 'billing', commit: repo.commit, context: 'vendor-image', dockerfile: 'Dockerfile', inlineDockerfile: false, args: {}, tag: '4.2', ref: inBed(image.ref) } });
      continue;
    }
    const repo = repos[image.repo]!;
    const tag = image.ref.slice(image.ref.lastIndexOf(':') + 1);
    requests.push({
      repoUrl: repo.url,
      build: { service: service.name, repo: image.repo, commit: repo.commit, context: image.context, dockerfile: image.dockerfile, inlineDockerfile: image.inlineDockerfile !== undefined, args: image.args, ...(image.target === undefined ? {} : { target: image.target }), tag, ref: inBed(image.ref) },
      ...(image.inlineDockerfile === undefined ? {} : { inlineDockerfile: image.inlineDockerfile }),
    });
  }
  return requests;
}

async function removeLeftoverNamespace(): Promise<void> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.deleteNamespace({ name: NAMESPACE }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  await eventually(`namespace ${NAMESPACE} gone`, async () => {
    try {
      await core.readNamespace({ name: NAMESPACE });
      return false;
    } catch (error) {
      return isNotFound(error);
    }
  }, 120_000, 1_000);
}

beforeAll(async () => {
  requireRealNode();
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  // The example, copied; only the Ingress class is the bed's.
  work = mkdtempSync(join(tmpdir(), 'diploid-shop-'));
  cpSync(SHOP_EXAMPLE, work, { recursive: true });
  const configFile = join(work, 'ops', '.diploid.conf.js');
  const config = readFileSync(configFile, 'utf8');
  const withClass = config.replace("className: 'nginx'", `className: '${requireIngress().className}'`);
  expect(withClass).not.toBe(config);
  writeFileSync(configFile, withClass);

  // The administrator's part: the namespace on the real node, the database password, a volume.
  await removeLeftoverNamespace();
  namespace = await freshNamespace('shop', { node: 'real', name: NAMESPACE });
  await core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: 'shop-db' }, stringData: { password } } });
  const folder = mkdtempSync(join(tmpdir(), 'shop-billing-'));
  chownSync(folder, 1000, 1000);
  volume = `pv-shop-billing-${uniqueSuffix()}`;
  await core.createPersistentVolume({
    body: { metadata: { name: volume }, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: folder }, claimRef: { namespace: NAMESPACE, name: 'billing-var-lib-billing' } } },
  });

  // The images, built by diploid's build Jobs from the service repos at their pushed commits.
  const repos = {
    backend: pushRepo(join(work, 'repos', 'backend'), 'backend'),
    web: pushRepo(join(work, 'repos', 'web'), 'web'),
    billing: pushRepo(join(work, 'repos', 'billing'), 'billing'),
  };
  builds = await freshNamespace('shop-builds', { node: 'real' });
  const registry = requireRegistry().host;
  await core.createNamespacedConfigMap({ namespace: builds.name, body: { metadata: { name: 'buildkitd' }, data: { 'buildkitd.toml': buildkitdToml(registry) } } });
  const builder = new JobImageBuilder(kubeConfig(), new HttpRegistryClient(), {
    namespace: builds.name,
    image: DEFAULT_BUILDER_IMAGE,
    buildkitdConfig: 'buildkitd',
    plainHttpRegistries: [registry],
    hostNetwork: true,
    activeDeadlineSeconds: 600,
    maxConcurrent: 2,
  }, 10 * 60_000);
  const requests = await buildRequests(join(work, 'ops'), repos);
  expect(requests.map((request) => request.build.service).sort()).toEqual(['api', 'billing', 'web', 'worker']);
  const buildStarted = Date.now();
  await Promise.all(requests.map(async (request) => {
    await builder.start(request);
    await builder.wait(request);
  }));
  seconds.build = (Date.now() - buildStarted) / 1000;

  const applyStarted = Date.now();
  applied = await runCli(['apply', join(work, 'ops'), '--env', ENVIRONMENT, '--kubeconfig', requireKubernetes().kubeconfig, '--timeout', '240']);
  seconds.apply = (Date.now() - applyStarted) / 1000;
  console.log(`shop example: images built in ${seconds.build.toFixed(0)}s, applied and rolled out in ${seconds.apply.toFixed(0)}s`);
}, 20 * 60_000);

afterAll(async () => {
  await namespace?.delete();
  await builds?.delete();
  if (volume !== undefined) await kubeConfig().makeApiClient(k8s.CoreV1Api).deletePersistentVolume({ name: volume }).catch(() => undefined);
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** A request through Traefik, as a browser on `host` would send it. */
function through(host: string, path = '/', options: { method?: string; headers?: Record<string, string> } = {}) {
  return http(`${requireIngress().url}${path}`, { ...options, headers: { host, ...options.headers } });
}

async function answered(host: string, path: string) {
  return eventually(`GET ${host}${path} through the ingress`, async () => {
    const response = await through(host, path);
    if (response.status !== 200) throw new Error(`${response.status}: ${response.body}`);
    return response;
  }, 60_000, 500);
}

describe('the shop example applied with `diploid apply` on a real node', () => {
  it('rolls out every service', () => {
    expect(applied.code, applied.stderr).toBe(0);
    for (const object of ['Deployment shop-staging/api', 'Deployment shop-staging/worker', 'Deployment shop-staging/web', 'Deployment shop-staging/cache', 'Deployment shop-staging/billing', 'DaemonSet shop-staging/log-agent']) {
      expect(applied.stdout).toMatch(new RegExp(`(created|configured) ${object.replace('/', '\\/')}`));
    }
  });

  it('serves web at its route: index.html, the fallback for unknown paths, fingerprinted assets cached for a year', async () => {
    const index = await answered(WEB_HOST, '/');
    expect(index.headers['cache-control']).toBe('no-cache');
    // The build step ran: index.html names the app script by its content's hash.
    const asset = /src="(\/assets\/app\.[0-9a-f]{10}\.js)"/.exec(index.body)?.[1];
    expect(asset, index.body).toBeDefined();
    const script = await through(WEB_HOST, asset!);
    expect(script.status).toBe(200);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.body).toBe(readFileSync(join(SHOP_EXAMPLE, 'repos', 'web', 'src', 'app.js'), 'utf8'));
    expect(asset).toBe(`/assets/app.${createHash('sha256').update(script.body).digest('hex').slice(0, 10)}.js`);

    const deep = await through(WEB_HOST, '/orders/42');
    expect(deep.status).toBe(200);
    expect(deep.body).toBe(index.body);
    expect(deep.headers['cache-control']).toBe('no-cache');
    expect((await through(WEB_HOST, '/assets/app.0000000000.js')).status).toBe(404);
  });

  it("serves web's runtime config, rendered at deploy time with the api's origin", async () => {
    const config = await answered(WEB_HOST, '/config.js');
    expect(config.body).toBe(`window.SHOP = { api: "https://${API_HOST}", currency: "EUR" };\n`);
    // Rendered at deploy time under a name without a hash: browsers must revalidate it.
    expect(config.headers['cache-control']).toBe('no-cache');
  });

  it('answers at the api route, counting visits in the cache (the Redis look-alike)', async () => {
    const first = JSON.parse((await answered(API_HOST, '/visits')).body) as { visits: number };
    const second = JSON.parse((await answered(API_HOST, '/visits')).body) as { visits: number };
    expect(first.visits).toBeGreaterThanOrEqual(1);
    expect(second.visits).toBe(first.visits + 1);
  });

  it("answers a CORS preflight from web's origin with the headers, and not from another origin", async () => {
    const preflight = (origin: string) => through(API_HOST, '/visits', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    const allowed = await eventually('the preflight answered', async () => {
      const response = await preflight(WEB_ORIGIN);
      return response.headers['access-control-allow-origin'] === undefined ? undefined : response;
    }, 60_000, 500);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(WEB_ORIGIN);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('GET');
    const other = await preflight('https://elsewhere.example.com');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('holds the api until the cache answers (`after`)', async () => {
    const [api] = await pods(NAMESPACE, 'api');
    const [cache] = await pods(NAMESPACE, 'cache');
    const wait = api?.status?.initContainerStatuses?.find((container) => container.name === 'wait-for-cache')?.state?.terminated;
    const cacheStarted = cache?.status?.containerStatuses?.find((container) => container.name === 'cache')?.state?.running?.startedAt;
    const apiStarted = api?.status?.containerStatuses?.find((container) => container.name === 'api')?.state?.running?.startedAt;
    expect(wait?.exitCode).toBe(0);
    const time = (value: unknown) => new Date(String(value)).getTime();
    // The wait ended once the cache ran (its port answering), and the api started after it.
    expect(time(wait?.finishedAt)).toBeGreaterThanOrEqual(time(cacheStarted));
    expect(time(apiStarted)).toBeGreaterThanOrEqual(time(wait?.finishedAt));
  });

  it('runs the worker: both replicas pass their health check, and its beats reach the cache', async () => {
    const ready = await eventually('two ready worker pods', async () => {
      const running = (await pods(NAMESPACE, 'worker')).filter((pod) => pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'));
      return running.length === 2 ? running : undefined;
    }, 60_000, 1_000);
    expect(ready.every((pod) => pod.spec?.nodeName === requireRealNode().nodeName)).toBe(true);
    const beats = async () => (JSON.parse((await answered(API_HOST, '/worker')).body) as { beats: number }).beats;
    const before = await beats();
    const after = await eventually('more worker beats', async () => {
      const now = await beats();
      return now > before ? now : undefined;
    }, 30_000, 1_000);
    expect(after).toBeGreaterThan(before);
  });

  it("fills billing's ini file with the right values and its secret inside the pod; the secret is in no object", async () => {
    const [pod] = (await pods(NAMESPACE, 'billing')).filter((candidate) => candidate.status?.podIP !== undefined && candidate.status.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'));
    expect(pod).toBeDefined();
    const seen = JSON.parse((await http(`http://${pod!.status!.podIP!}:9000/config`)).body) as { config: Record<string, Record<string, string>>; uid: number; started: string };
    expect(seen.config).toEqual({
      billing: { environment: 'staging', currency: 'EUR', api_url: 'http://api:8080', cache: 'cache:6379' },
      database: { host: 'db.internal.example.com', password: `sha256:${createHash('sha256').update(password).digest('hex')}` },
    });
    expect(seen.uid).toBe(1000);
    expect(seen.started).toMatch(/^\d{4}-/);

    const config = kubeConfig();
    const core = config.makeApiClient(k8s.CoreV1Api);
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const objects = [
      ...(await core.listNamespacedConfigMap({ namespace: NAMESPACE })).items,
      ...(await core.listNamespacedPod({ namespace: NAMESPACE })).items,
      ...(await core.listNamespacedEvent({ namespace: NAMESPACE })).items,
      ...(await apps.listNamespacedDeployment({ namespace: NAMESPACE })).items,
      ...(await apps.listNamespacedReplicaSet({ namespace: NAMESPACE })).items,
      ...(await apps.listNamespacedDaemonSet({ namespace: NAMESPACE })).items,
      ...(await apps.listNamespacedControllerRevision({ namespace: NAMESPACE })).items,
    ];
    expect(objects.length).toBeGreaterThan(10);
    expect(JSON.stringify(objects)).not.toContain(password);
    expect(applied.stdout + applied.stderr).not.toContain(password);
  });

  it('runs the log agent as a DaemonSet on the real node (the fluent-bit look-alike), with its rendered config', async () => {
    const apps = kubeConfig().makeApiClient(k8s.AppsV1Api);
    const daemonSet = await apps.readNamespacedDaemonSet({ name: 'log-agent', namespace: NAMESPACE });
    expect(daemonSet.status?.desiredNumberScheduled).toBe(1);
    expect(daemonSet.status?.numberReady).toBe(1);
    const [pod] = await pods(NAMESPACE, 'log-agent');
    expect(pod?.spec?.nodeName).toBe(requireRealNode().nodeName);
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const log = await eventually('cpu records in the log agent\'s log', async () => {
      const text = await core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: NAMESPACE, container: 'log-agent' });
      return text.includes('cpu.local') ? text : undefined;
    }, 30_000, 1_000);
    // The staging config's log level, from the rendered file.
    expect(log).toContain('log_level info');
  });
});
