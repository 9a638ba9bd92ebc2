/**
 * A failed image build fails only the services that need it, through the reconciler on the bed:
 * real build Jobs (kwok completes them; one is made to fail for real, by Kubernetes, at its
 * deadline), the real registry and the real API server.
 */
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUILDER_IMAGE, type BuildJobSettings } from '../../src/cluster/build-job.js';
import { HttpRegistryClient, parseImageRef } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { KubeDeployer } from '../../src/controller/deployer.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { planPush } from '../../src/sources/git/plan-push.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireRegistry, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `pb${uniqueSuffix()}`;
const production = `${project}-production`;
let root: GitRoot;
let opsUrl: string;
const urls: Record<string, string> = {};
const repos: Record<string, TestRepo> = {};
let system: TestNamespace;

function service(name: string, page: string): Record<string, string> {
  return {
    'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: '${name}', build: {}, port: 8080 });\n`,
    Dockerfile: 'FROM busybox\nCOPY index.html /www/\n',
    'index.html': page,
  };
}

beforeAll(async () => {
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  const ops = root.repo('ops', {
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  repos: { web: { path: 'web' }, api: { path: 'api' } },
  registry: { url: '${requireRegistry().host}/${project}' },
  environments: { production: {} },
  branches: [{ branch: 'main', environment: 'production' }],
});
`,
  });
  ops.git('push', '-q', opsUrl, 'main');
  for (const name of ['web', 'api']) {
    urls[name] = freshGitRepoUrl(name);
    repos[name] = root.repo(name, service(name, `<h1>${name} v1</h1>\n`));
    repos[name]!.git('push', '-q', urls[name]!, 'main');
  }
  system = await freshNamespace('pb-system');
});

afterAll(async () => {
  await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: production }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

function reconciler(settings: Partial<BuildJobSettings> = {}): Reconciler {
  const kube = kubeConfig();
  return new Reconciler({
    ops: opsUrl,
    locations: { urls },
    cacheDir: root.cache,
    store: new ConfigMapStatusStore(kube, system.name),
    builder: new JobImageBuilder(kube, new HttpRegistryClient(), { namespace: system.name, image: DEFAULT_BUILDER_IMAGE, ...settings }, 60_000),
    deployer: new KubeDeployer(kube, 90_000),
    reporter: { report: async () => {} },
  });
}

async function image(name: string): Promise<string | undefined> {
  return (await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name, namespace: production })).spec?.template.spec?.containers[0]?.image;
}

/** Puts a tiny image (an empty config blob and a manifest) at `ref` in the real registry. */
async function pushTinyImage(ref: string): Promise<void> {
  const { url } = requireRegistry();
  const target = parseImageRef(ref);
  const blob = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const start = await fetch(`${url}/v2/${target.name}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location') ?? '', url);
  location.searchParams.set('digest', digest);
  expect((await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: blob.length }, layers: [] });
  expect((await fetch(`${url}/v2/${target.name}/manifests/${target.tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(201);
}

describe('a failed image build', { timeout: 240_000 }, () => {
  it('fails only the service that needs it: the other changed service deploys, the failed one keeps running its image', async () => {
    const first = await reconciler().reconcile({ repo: 'ops', branch: 'main', to: '' });
    expect(first.outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    const apiBefore = await image('api');
    const webBefore = await image('web');

    const commits: Record<string, { from: string; to: string }> = {};
    for (const name of ['web', 'api']) {
      const from = repos[name]!.head();
      const to = repos[name]!.commit('v2', { 'index.html': `<h1>${name} v2</h1>\n` });
      repos[name]!.git('push', '-q', urls[name]!, 'main');
      commits[name] = { from, to };
    }
    // web's new image is in the registry already (built elsewhere); api's must be built, and its build fails.
    const { plan } = await planPush({ cacheDir: root.cache, ops: opsUrl, locations: { urls }, push: { repo: 'web', branch: 'main', ...commits['web']! } });
    const webRef = plan.environments[0]?.builds.find((build) => build.service === 'web')?.ref;
    expect(webRef).toBeDefined();
    await pushTinyImage(webRef!);

    // No node matches, so the build pod never starts and Kubernetes fails the Job at its deadline.
    const failing = reconciler({ nodeSelector: { 'diploid.dev/no-such-node': 'true' }, activeDeadlineSeconds: 2 });
    const result = await failing.reconcile({ repo: 'api', branch: 'main', ...commits['api']! });
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'stalled', reason: 'BuildFailed', jobsCreated: 1 }]);
    expect(result.outcomes[0]?.message).toMatch(/the build of api failed; deployed web/);
    expect(result.outcomes[0]?.message).toContain(`keeps running ${apiBefore}`);

    expect(await image('web')).toBe(webRef);
    expect(webRef).not.toBe(webBefore);
    expect(await image('api')).toBe(apiBefore);
    const saved = await new ConfigMapStatusStore(kubeConfig(), system.name).get('production');
    expect(condition(saved, 'Stalled')).toMatchObject({ status: 'True', reason: 'BuildFailed' });
    expect(saved?.images).toEqual({ api: apiBefore, web: webRef });
  });
});
