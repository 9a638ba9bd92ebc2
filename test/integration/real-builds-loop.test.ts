/**
 * The gitops loop with real builds, on the bed's real node: a push event for the service repo ->
 * the reconciler (the controller's, run in the test process, not yet as a pod) -> a BuildKit Job
 * builds the pushed commit -> the Deployment on the real node -> the new content over HTTP through
 * Traefik's ingress; commit statuses pending -> building -> deployed. A broken Dockerfile fails
 * with its step and log tail while the previous version keeps serving.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUILDER_IMAGE } from '../../src/cluster/build-job.js';
import { HttpRegistryClient } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { KubeDeployer } from '../../src/controller/deployer.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import type { StatusReporter, StatusTarget } from '../../src/controller/reporter.js';
import { requestFromEvent } from '../../src/controller/requests.js';
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import type { HostEvent } from '../../src/hosts/event.js';
import type { CommitStatus } from '../../src/hosts/types.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { http } from './real-node-app.js';
import { eventually, freshGitRepoUrl, freshNamespace, kubeConfig, requireIngress, requireRegistry, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `loop${uniqueSuffix()}`;
let root: GitRoot;
let ops: TestRepo;
let app: TestRepo;
let api: TestRepo;
let opsUrl: string;
let appUrl: string;
let apiUrl: string;
let controllerNs: TestNamespace;
let production: TestNamespace;
const reports: Array<{ target: StatusTarget; status: CommitStatus }> = [];
const recorder: StatusReporter = { report: async (target, status) => void reports.push({ target, status }) };

const DOCKERFILE = 'FROM busybox:1.36\nCOPY index.html /www/index.html\nUSER 65534\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n';

beforeAll(async () => {
  controllerNs = await freshNamespace('loop-system', { node: 'real' });
  production = await freshNamespace('loop-prod', { node: 'real' });
  const registry = requireRegistry().host;
  await kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespacedConfigMap({
    namespace: controllerNs.name,
    body: { metadata: { name: 'diploid-buildkitd' }, data: { 'buildkitd.toml': `[worker.containerd]\n  enabled = false\n[registry."docker.io"]\n  mirrors = ["${registry}"]\n[registry."${registry}"]\n  http = true\n` } },
  });
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  appUrl = freshGitRepoUrl('app');
  apiUrl = freshGitRepoUrl('api');
  ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { app: { path: 'app' }, api: { path: 'api' } },
  registry: { url: '${registry}/${project}' },
  ingress: { domain: '${project}.test', className: 'traefik' },
  environments: { production: { namespace: '${production.name}' } },
  branches: [
    { branch: 'main', environment: 'production' },
    { branch: 'feature/*', preview: { mode: 'single', base: 'production' } },
  ],
});
`,
  });
  app = root.repo('app', {
    'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'app', build: {}, port: 8080, routes: ['@'] });\n`,
    Dockerfile: DOCKERFILE,
    'index.html': '<h1>v1</h1>\n',
  });
  api = root.repo('api', {
    'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'api', build: {}, port: 8080, routes: ['api'] });\n`,
    Dockerfile: DOCKERFILE,
    'index.html': 'api v1\n',
  });
  ops.git('push', '-q', opsUrl, 'main');
  app.git('push', '-q', appUrl, 'main');
  api.git('push', '-q', apiUrl, 'main');
});

afterAll(async () => {
  await production?.delete();
  await controllerNs?.delete();
  root?.dispose();
});

function reconciler(): Reconciler {
  const kube = kubeConfig();
  return new Reconciler({
    ops: opsUrl,
    locations: { urls: { app: appUrl, api: apiUrl } },
    cacheDir: root.cache,
    store: new ConfigMapStatusStore(kube, controllerNs.name),
    builder: new JobImageBuilder(kube, new HttpRegistryClient(), {
      namespace: controllerNs.name,
      image: DEFAULT_BUILDER_IMAGE,
      buildkitdConfig: 'diploid-buildkitd',
      plainHttpRegistries: [requireRegistry().host],
      hostNetwork: true,
    }, 8 * 60_000),
    deployer: new KubeDeployer(kube, 120_000),
    reporter: recorder,
  });
}

let delivery = 0;
function pushEvent(before: string, after: string, branch = 'main'): HostEvent {
  return { kind: 'push', host: 'bed', repo: 'app', provider: 'github', repoPath: 'app', deliveryId: `d${++delivery}`, branch, before, after, created: /^0+$/.test(before) };
}

/** GET / of a service through Traefik, by its Ingress's host. */
async function served(service = 'app', namespace = production.name): Promise<string> {
  const host = (await kubeConfig().makeApiClient(k8s.NetworkingV1Api).readNamespacedIngress({ name: service, namespace })).spec?.rules?.[0]?.host ?? '';
  const response = await http(`${requireIngress().url}/`, { headers: { host } });
  return response.status === 200 ? response.body : `${response.status}`;
}

describe('push -> real build -> serving, on the real node', { timeout: 600_000 }, () => {
  it('a push builds the commit with BuildKit, deploys it on the real node and serves it through the ingress; a new commit to one service rebuilds only it', async () => {
    const first = app.head();
    const result = await reconciler().reconcile(requestFromEvent(pushEvent('0'.repeat(40), first))!);
    expect(result.error).toBeUndefined();
    // Both services' images are missing: two builds.
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'deployed', jobsCreated: 2 }]);
    expect(await eventually('api v1 through the ingress', async () => ((await served('api')) === 'api v1\n' ? true : undefined), 60_000, 500)).toBe(true);
    const apiPods = async () => (await kubeConfig().makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: production.name, labelSelector: 'app.kubernetes.io/name=api' })).items.map((pod) => pod.metadata?.uid).sort();
    const apiBefore = await apiPods();
    expect(await eventually('v1 through the ingress', async () => ((await served()) === '<h1>v1</h1>\n' ? true : undefined), 60_000, 500)).toBe(true);
    expect(reports.filter((item) => item.target.sha === first).map((item) => item.status.phase)).toEqual(['pending', 'building', 'deployed']);

    const second = app.commit('v2', { 'index.html': '<h1>v2</h1>\n' });
    app.git('push', '-q', appUrl, 'main');
    const next = await reconciler().reconcile(requestFromEvent(pushEvent(first, second))!);
    expect(next.outcomes).toMatchObject([{ environment: 'production', result: 'deployed', jobsCreated: 1 }]);
    expect(await eventually('v2 through the ingress', async () => ((await served()) === '<h1>v2</h1>\n' ? true : undefined), 60_000, 500)).toBe(true);
    expect(reports.filter((item) => item.target.sha === second).map((item) => item.status.phase)).toEqual(['pending', 'building', 'deployed']);
    // Only app was rebuilt (one Job); api's pods are the same pods.
    expect(await apiPods()).toEqual(apiBefore);
    expect(await served('api')).toBe('api v1\n');
  });

  it('a broken Dockerfile fails with its step and log tail; the previous version keeps serving', async () => {
    const before = app.head();
    const broken = app.commit('broken', { Dockerfile: DOCKERFILE.replace('COPY', 'RUN echo compiling && exit 7\nCOPY'), 'index.html': '<h1>v3</h1>\n' });
    app.git('push', '-q', appUrl, 'main');
    const result = await reconciler().reconcile(requestFromEvent(pushEvent(before, broken))!);
    expect(result.outcomes[0]?.result).toBe('stalled');
    const status = await new ConfigMapStatusStore(kubeConfig(), controllerNs.name).get('production');
    const stalled = status === undefined ? undefined : condition(status, 'Stalled');
    expect(stalled?.reason).toBe('BuildFailed');
    expect(stalled?.message).toContain('at step [2/3] RUN echo compiling && exit 7');
    expect(stalled?.message).toContain('exit code: 7');
    expect(reports.filter((item) => item.target.sha === broken).map((item) => item.status.phase)).toEqual(['pending', 'building', 'failed']);
    expect(await served()).toBe('<h1>v2</h1>\n');
  });

  it('a feature branch gets a single-service preview serving its commit; deleting the branch removes it', async () => {
    // The preview's namespace is made beforehand only so its pods land on the real node.
    const previewNs = `${project}-feature-x`;
    await freshNamespace('unused', { node: 'real', name: previewNs });
    app.resetHard(app.head('HEAD~1'));
    app.branch('feature/x');
    const head = app.commit('preview', { 'index.html': '<h1>preview</h1>\n' });
    app.git('push', '-q', appUrl, 'feature/x');
    const created = await reconciler().reconcile(requestFromEvent(pushEvent('0'.repeat(40), head, 'feature/x'))!);
    expect(created.outcomes).toMatchObject([{ environment: 'feature-x', result: 'deployed', jobsCreated: 1 }]);
    expect(await eventually('the preview through the ingress', async () => ((await served('app', previewNs)) === '<h1>preview</h1>\n' ? true : undefined), 60_000, 500)).toBe(true);
    // Single-service: api is not deployed in the preview; production still serves v2.
    const deployments = await kubeConfig().makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace: previewNs });
    expect(deployments.items.map((item) => item.metadata?.name)).toEqual(['app']);
    expect(await served()).toBe('<h1>v2</h1>\n');

    app.git('push', '-q', appUrl, ':feature/x');
    const deleted: HostEvent = { kind: 'branch-deleted', host: 'bed', repo: 'app', provider: 'github', repoPath: 'app', deliveryId: `d${++delivery}`, branch: 'feature/x' };
    const result = await reconciler().reconcile(requestFromEvent(deleted)!);
    expect(result.outcomes).toMatchObject([{ environment: 'feature-x', result: 'deleted' }]);
    await eventually(`namespace ${previewNs} going`, async () => {
      try {
        const ns = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespace({ name: previewNs });
        return ns.metadata?.deletionTimestamp !== undefined;
      } catch (error) {
        return error instanceof k8s.ApiException && error.code === 404;
      }
    }, 30_000);
    expect(await served()).toBe('<h1>v2</h1>\n');
  });
});
