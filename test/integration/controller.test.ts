/**
 * The gitops loop against the test bed: a real ops repo and service repo on the bed's git
 * server, the real API server (kwok completes Jobs and rolls out Deployments; no container runs,
 * so a build Job "succeeds" without pushing anything), and the real registry.
 */
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJobName, DEFAULT_BUILDER_IMAGE, type BuildJobSettings } from '../../src/cluster/build-job.js';
import { HttpRegistryClient, parseImageRef } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { KubeDeployer } from '../../src/controller/deployer.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import type { StatusReporter, StatusTarget } from '../../src/controller/reporter.js';
import { requestFromEvent } from '../../src/controller/requests.js';
import { readResyncRequests } from '../../src/controller/resync.js';
import { condition, statusObjectName } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import type { HostEvent } from '../../src/hosts/event.js';
import type { CommitStatus } from '../../src/hosts/types.js';
import { planPush } from '../../src/sources/git/plan-push.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { runCli } from '../support/ops-repo.js';
import { eventually, freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireKubernetes, requireRegistry, uniqueSuffix, type TestNamespace } from './testbed.js';

const suffix = uniqueSuffix();
const project = `ctl${suffix}`;
const production = `${project}-production`;
let root: GitRoot;
let ops: TestRepo;
let app: TestRepo;
let opsUrl: string;
let appUrl: string;
let controllerNs: TestNamespace;
const reports: Array<{ target: StatusTarget; status: CommitStatus }> = [];
const recorder: StatusReporter = { report: async (target, status) => void reports.push({ target, status }) };

function config(registry: string): string {
  return `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { app: { path: 'app' } },
  registry: { url: '${registry}/${project}' },
  ingress: { domain: 'ctl.test' },
  environments: { production: {} },
  branches: [
    { branch: 'main', environment: 'production' },
    { branch: 'feature/*', preview: { mode: 'full', base: 'production' } },
  ],
});
`;
}

beforeAll(async () => {
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  appUrl = freshGitRepoUrl('app');
  ops = root.repo('ops', { '.diploid.conf.js': config(requireRegistry().host), 'README.md': '# ops\n' });
  app = root.repo('app', {
    'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'app', build: {}, port: 8080 });\n`,
    Dockerfile: 'FROM busybox\nCOPY index.html /www/\n',
    'index.html': '<h1>v1</h1>\n',
  });
  ops.git('push', '-q', opsUrl, 'main');
  app.git('push', '-q', appUrl, 'main');
  controllerNs = await freshNamespace('ctl-system');
});

afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of [production, `${project}-feature-x`]) await core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await controllerNs?.delete();
  root?.dispose();
});

function reconciler(settings: Partial<BuildJobSettings> = {}, cacheDir = root.cache): Reconciler {
  const kube = kubeConfig();
  return new Reconciler({
    ops: opsUrl,
    locations: { urls: { app: appUrl } },
    cacheDir,
    store: new ConfigMapStatusStore(kube, controllerNs.name),
    builder: new JobImageBuilder(kube, new HttpRegistryClient(), { namespace: controllerNs.name, image: DEFAULT_BUILDER_IMAGE, ...settings }, 60_000),
    deployer: new KubeDeployer(kube, 90_000),
    reporter: recorder,
  });
}

let delivery = 0;
function pushEvent(repo: string, branch: string, before: string, after: string): HostEvent {
  return { kind: 'push', host: 'bed', repo, provider: 'github', repoPath: repo, deliveryId: `d${++delivery}`, branch, before, after, created: /^0+$/.test(before) };
}

async function jobs(): Promise<k8s.V1Job[]> {
  return (await kubeConfig().makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: controllerNs.name, labelSelector: 'diploid.dev/build' })).items;
}

async function deployment(namespace: string): Promise<k8s.V1Deployment> {
  return kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'app', namespace });
}

async function status(environment: string) {
  const store = new ConfigMapStatusStore(kubeConfig(), controllerNs.name);
  return store.get(environment);
}

/** The image the next reconcile of `app@main` wants, as the planner computes it. */
async function plannedRef(from: string, to: string): Promise<string> {
  const { plan } = await planPush({ cacheDir: root.cache, ops: opsUrl, locations: { urls: { app: appUrl } }, push: { repo: 'app', branch: 'main', from, to } });
  const ref = plan.environments[0]?.builds[0]?.ref;
  if (ref === undefined) throw new Error(`the plan builds nothing: ${JSON.stringify(plan)}`);
  return ref;
}

/** Puts a tiny image (an empty config blob and a manifest) at `ref` in the real registry over the v2 API. */
async function pushTinyImage(ref: string): Promise<void> {
  const { url } = requireRegistry();
  const image = parseImageRef(ref);
  const blob = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const start = await fetch(`${url}/v2/${image.name}/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location') ?? '', url);
  location.searchParams.set('digest', digest);
  expect((await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: blob.length }, layers: [] });
  const put = await fetch(`${url}/v2/${image.name}/manifests/${image.tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  expect(put.status).toBe(201);
}

describe('the reconciler on the test bed', { timeout: 240_000 }, () => {
  let first = '';
  let deployedImage = '';

  it('a push builds the image in a Job, deploys the environment and writes Ready', async () => {
    first = app.head();
    const request = requestFromEvent(pushEvent('app', 'main', '0'.repeat(40), first));
    expect(request).toBeDefined();
    const result = await reconciler().reconcile(request!);
    expect(result.error).toBeUndefined();
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'deployed', reason: 'Succeeded', jobsCreated: 1 }]);

    const built = await jobs();
    expect(built).toHaveLength(1);
    const job = built[0]!;
    expect(job.status?.conditions?.find((item) => item.type === 'Complete')?.status).toBe('True');
    const args = job.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args).toContain(`--opt=context=${appUrl}#${first}`);
    expect(args.some((arg) => arg.startsWith(`--output=type=image,name=${requireRegistry().host}/${project}/app:`))).toBe(true);
    expect(job.metadata?.labels?.['diploid.dev/environment']).toBe('production');

    const live = await deployment(production);
    deployedImage = live.spec?.template.spec?.containers[0]?.image ?? '';
    expect(deployedImage).toBe(job.metadata?.annotations?.['diploid.dev/image']);
    expect(live.status?.conditions?.find((item) => item.type === 'Available')?.status).toBe('True');

    const saved = await status('production');
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(saved, 'Stalled')?.status).toBe('False');
    expect(condition(saved, 'Reconciling')?.status).toBe('False');
    expect(saved?.commit).toBe(first);
    const map = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name: statusObjectName('production'), namespace: controllerNs.name });
    expect(map.metadata?.annotations?.['diploid.dev/ready']).toBe('True');
    expect(reports.filter((item) => item.target.sha === first).map((item) => item.status.phase)).toEqual(['pending', 'building', 'deployed']);
  });

  it('the same event again, to a restarted controller (new instance, empty cache), does nothing', async () => {
    const before = await deployment(production);
    const restarted = reconciler({}, `${root.cache}-restarted`);
    const result = await restarted.reconcile(requestFromEvent(pushEvent('app', 'main', '0'.repeat(40), first))!);
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'unchanged', jobsCreated: 0 }]);
    expect(await jobs()).toHaveLength(1);
    expect((await deployment(production)).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('a resync re-applies from branch heads without building again or changing anything', async () => {
    const before = await deployment(production);
    const requests = await readResyncRequests({ ops: opsUrl, locations: { urls: { app: appUrl } }, cacheDir: root.cache, store: new ConfigMapStatusStore(kubeConfig(), controllerNs.name) });
    expect(requests).toEqual([
      { repo: 'ops', branch: 'main', to: ops.head(), resync: true },
      { repo: 'app', branch: 'main', to: first, resync: true },
    ]);
    const done = new Set<string>();
    const rec = reconciler();
    for (const request of requests) for (const outcome of (await rec.reconcile(request, done)).outcomes) done.add(outcome.environment);
    expect(done).toEqual(new Set(['production']));
    expect(await jobs()).toHaveLength(1);
    expect((await deployment(production)).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('an image the registry already has is not built', async () => {
    const previous = app.head();
    const next = app.commit('v2', { 'index.html': '<h1>v2</h1>\n' });
    app.git('push', '-q', appUrl, 'main');
    const ref = await plannedRef(previous, next);
    expect(await new HttpRegistryClient().hasManifest(ref)).toBe(false);
    await pushTinyImage(ref);
    expect(await new HttpRegistryClient().hasManifest(ref)).toBe(true);

    const result = await reconciler().reconcile(requestFromEvent(pushEvent('app', 'main', previous, next))!);
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'deployed', jobsCreated: 0 }]);
    expect((await jobs()).map((job) => job.metadata?.name)).not.toContain(buildJobName({ service: 'app', ref }));
    expect(await jobs()).toHaveLength(1);
    await eventually('the new image rolled out', async () => {
      const live = await deployment(production);
      return live.spec?.template.spec?.containers[0]?.image === ref && live.status?.updatedReplicas === 1 && live.status.availableReplicas === 1;
    }, 60_000);
    deployedImage = ref;
  });

  it('a failed build stalls the environment with the reason; the previous Deployment keeps serving', async () => {
    const previous = app.head();
    const next = app.commit('v3', { 'index.html': '<h1>v3</h1>\n' });
    app.git('push', '-q', appUrl, 'main');
    // No node matches the selector, so the build pod never starts and Kubernetes fails the Job at its deadline.
    const failing = reconciler({ nodeSelector: { 'diploid.dev/no-such-node': 'true' }, activeDeadlineSeconds: 2 });
    const result = await failing.reconcile(requestFromEvent(pushEvent('app', 'main', previous, next))!);
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'stalled', reason: 'BuildFailed', jobsCreated: 1 }]);
    expect(result.outcomes[0]?.message).toMatch(/DeadlineExceeded/);

    const saved = await status('production');
    expect(condition(saved, 'Stalled')).toMatchObject({ status: 'True', reason: 'BuildFailed' });
    expect(condition(saved, 'Ready')?.status).toBe('False');
    expect(condition(saved, 'Ready')?.message).toMatch(/DeadlineExceeded/);
    expect(reports.filter((item) => item.target.sha === next).map((item) => item.status.phase)).toEqual(['pending', 'building', 'failed']);

    const live = await deployment(production);
    expect(live.spec?.template.spec?.containers[0]?.image).toBe(deployedImage);
    expect(live.status?.conditions?.find((item) => item.type === 'Available')?.status).toBe('True');

    // Terminal for that commit: the same event again starts nothing.
    const again = await failing.reconcile(requestFromEvent(pushEvent('app', 'main', previous, next))!);
    expect(again.outcomes).toMatchObject([{ environment: 'production', result: 'stalled', jobsCreated: 0 }]);
  });

  it('a feature branch gets a preview, and deleting the branch tears its namespace down', async () => {
    app.branch('feature/x');
    const head = app.commit('feature', { 'feature.txt': 'x\n' });
    app.git('push', '-q', appUrl, 'feature/x');
    const previewNs = `${project}-feature-x`;
    const created = await reconciler().reconcile(requestFromEvent(pushEvent('app', 'feature/x', '0'.repeat(40), head))!);
    expect(created.outcomes).toMatchObject([{ environment: 'feature-x', result: 'deployed' }]);
    expect((await deployment(previewNs)).status?.conditions?.find((item) => item.type === 'Available')?.status).toBe('True');
    expect((await status('feature-x'))?.preview).toMatchObject({ mode: 'full', base: 'production' });
    expect(reports.find((item) => item.target.sha === head && item.status.phase === 'deployed')?.status.targetUrl).toBe('https://feature-x.ctl.test');

    app.git('push', '-q', appUrl, ':feature/x');
    const deleted: HostEvent = { kind: 'branch-deleted', host: 'bed', repo: 'app', provider: 'github', repoPath: 'app', deliveryId: `d${++delivery}`, branch: 'feature/x' };
    const result = await reconciler().reconcile(requestFromEvent(deleted)!);
    expect(result.outcomes).toMatchObject([{ environment: 'feature-x', result: 'deleted' }]);
    expect(await status('feature-x')).toBeUndefined();
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    await eventually(`namespace ${previewNs} going`, async () => {
      try {
        const ns = await core.readNamespace({ name: previewNs });
        return ns.metadata?.deletionTimestamp !== undefined;
      } catch (error) {
        return isNotFound(error);
      }
    }, 30_000);
    // Production is untouched.
    expect((await deployment(production)).spec?.template.spec?.containers[0]?.image).toBe(deployedImage);
  });
});

describe('diploid init on the test bed', { timeout: 120_000 }, () => {
  it('server-side applies the controller objects (kwok runs no code, so only the objects are checked)', async () => {
    const namespace = `${project}-system`;
    const opsDir = root.repo('init-ops', { '.diploid.conf.js': config(requireRegistry().host).replace("environments: { production: {} },", `environments: { production: {} },\n  controller: { namespace: '${namespace}' },`) }).dir;
    const kube = kubeConfig();
    try {
      const run = await runCli(['init', opsDir, '--kubeconfig', requireKubernetes().kubeconfig, '--ops-url', opsUrl]);
      expect(run.stderr).toContain(`kubectl -n ${namespace} create secret generic diploid`);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`created Deployment ${namespace}/diploid-controller`);
      expect(run.stderr).toContain('webhooks.publicUrl is not set');
      const deployment = await kube.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'diploid-controller', namespace });
      expect(deployment.spec?.template.spec?.containers[0]?.args).toContain(`--ops=${opsUrl}`);
      expect(deployment.spec?.template.spec?.serviceAccountName).toBe('diploid-controller');
      const role = await kube.makeApiClient(k8s.RbacAuthorizationV1Api).readClusterRole({ name: `diploid-controller-${project}` });
      expect(role.rules?.some((rule) => rule.resources?.includes('deployments'))).toBe(true);
      const service = await kube.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name: 'diploid-controller', namespace });
      expect(service.spec?.ports?.[0]?.port).toBe(80);
      // Running it again changes nothing.
      const again = await runCli(['init', opsDir, '--kubeconfig', requireKubernetes().kubeconfig, '--ops-url', opsUrl]);
      expect(again.code).toBe(0);
      expect(again.stdout.trim().split('\n').every((line) => line.startsWith('unchanged '))).toBe(true);
    } finally {
      const rbac = kube.makeApiClient(k8s.RbacAuthorizationV1Api);
      const ignore = (error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error));
      await rbac.deleteClusterRoleBinding({ name: `diploid-controller-${project}` }).catch(ignore);
      await rbac.deleteClusterRole({ name: `diploid-controller-${project}` }).catch(ignore);
      await kube.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace }).catch(ignore);
    }
  });
});
