/**
 * All or nothing (`atomic: true`), through the reconciler on the bed, next to an environment
 * without it that gets the same commits: a failed build deploys nothing, and a failed rollout
 * puts every service back at the last deployed revision. Real build Jobs (one made to fail by
 * Kubernetes at its deadline), the real registry and API server; kwok rolls pods out.
 */
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUILDER_IMAGE, type BuildJobSettings } from '../../src/cluster/build-job.js';
import { HttpRegistryClient, parseImageRef } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { KubeDeployer } from '../../src/controller/deployer.js';
import { kubeSecretsHook } from '../../src/controller/ops-hooks.js';
import { formatKeyFile, generateKeyPair } from '../../src/secrets/age-keys.js';
import { sealSecretFile } from '../../src/secrets/secret-file.js';
import { newDataKey } from '../../src/secrets/sops-cipher.js';
import { SECRET_VERSIONS_ANNOTATION } from '../../src/secrets/versions.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { planPush } from '../../src/sources/git/plan-push.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireRegistry, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `at${uniqueSuffix()}`;
let root: GitRoot;
let system: TestNamespace;
/** The cluster's key pair: the private key in the system namespace, as `diploid init` keeps it. */
let key: Awaited<ReturnType<typeof generateKeyPair>>;
const namespaces: string[] = [];

function reconciler(ops: string, urls: Record<string, string>, settings: Partial<BuildJobSettings> = {}, log?: (line: string) => void): Reconciler {
  const kube = kubeConfig();
  return new Reconciler({
    ops,
    locations: { urls },
    cacheDir: root.cache,
    store: new ConfigMapStatusStore(kube, system.name),
    builder: new JobImageBuilder(kube, new HttpRegistryClient(), { namespace: system.name, image: DEFAULT_BUILDER_IMAGE, ...settings }, 60_000),
    // Short: a rollout that cannot finish fails after 15s.
    deployer: new KubeDeployer(kube, 15_000),
    reporter: { report: async () => {} },
    // The ops repo's Secrets, written as `diploid controller` writes them (key in the system namespace).
    ...(log === undefined ? {} : { secrets: kubeSecretsHook(kube, system.name, log), log }),
  });
}

const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);
const store = () => new ConfigMapStatusStore(kubeConfig(), system.name);

async function deployment(namespace: string, name: string): Promise<k8s.V1Deployment> {
  return apps().readNamespacedDeployment({ name, namespace });
}

function version(item: k8s.V1Deployment): string | undefined {
  return item.spec?.template.spec?.containers[0]?.env?.find((env) => env.name === 'VERSION')?.value;
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

beforeAll(async () => {
  root = new GitRoot();
  system = await freshNamespace('at-system');
  key = await generateKeyPair();
  await kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespacedSecret({ namespace: system.name, body: { metadata: { name: 'diploid-age-key' }, stringData: { 'age.key': formatKeyFile(key.identity, key.recipient, new Date()) } } });
});

const seal = (password: string) => sealSecretFile({ values: [['password', password]], dataKey: newDataKey(), recipients: [key.recipient], now: new Date() }, 'secrets/db.yaml');
const password = async (namespace: string) => Buffer.from((await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: 'db', namespace })).data?.['password'] ?? '', 'base64').toString();

afterAll(async () => {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of namespaces) await core.deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

describe('an atomic environment', { timeout: 300_000 }, () => {
  it('deploys nothing when a build fails (its Secrets put back too), where a plain environment deploys the other changed services', async () => {
    const name = `${project}b`;
    const [atomic, plain] = [`${name}-production`, `${name}-staging`];
    namespaces.push(atomic, plain);
    const opsUrl = freshGitRepoUrl('ops');
    const ops = root.repo(`ops-${name}`, {
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${name}',
  repos: { web: { path: 'web' }, api: { path: 'api' } },
  registry: { url: '${requireRegistry().host}/${name}' },
  secrets: { recipients: { cluster: '${key.recipient}' } },
  environments: { production: { atomic: true }, staging: {} },
  branches: [{ branch: 'main', environment: 'production' }, { branch: 'staging', environment: 'staging' }],
});
`,
      'secrets/db.yaml': await seal(`v1-${name}`),
    });
    ops.git('branch', 'staging');
    ops.git('push', '-q', opsUrl, 'main', 'staging');
    const urls: Record<string, string> = {};
    const repos: Record<string, TestRepo> = {};
    for (const service of ['web', 'api']) {
      urls[service] = freshGitRepoUrl(service);
      repos[service] = root.repo(`${service}-${name}`, {
        'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: '${service}', build: {}, port: 8080 });\n`,
        Dockerfile: 'FROM busybox\nCOPY index.html /www/\n',
        'index.html': `<h1>${service} v1</h1>\n`,
      });
      repos[service]!.git('branch', 'staging');
      repos[service]!.git('push', '-q', urls[service]!, 'main', 'staging');
    }
    const logs: string[] = [];
    const building = reconciler(opsUrl, urls, {}, (line) => void logs.push(line));
    expect((await building.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    expect((await building.reconcile({ repo: 'ops', branch: 'staging', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    const before = { web: version(await deployment(atomic, 'web')), webImage: (await deployment(atomic, 'web')).spec?.template.spec?.containers[0]?.image, apiImage: (await deployment(atomic, 'api')).spec?.template.spec?.containers[0]?.image };
    const revisionBefore = (await store().get('production'))?.appliedRevision;

    // Both services change on both branches; web's image is in the registry already, api's build fails.
    const commits: Record<string, { from: string; to: string }> = {};
    for (const service of ['web', 'api']) {
      const repo = repos[service]!;
      const from = repo.head();
      const to = repo.commit('v2', { 'index.html': `<h1>${service} v2</h1>\n` });
      repo.git('branch', '-f', 'staging', to);
      repo.git('push', '-q', '-f', urls[service]!, 'main', 'staging');
      commits[service] = { from, to };
    }
    const { plan } = await planPush({ cacheDir: root.cache, ops: opsUrl, locations: { urls }, push: { repo: 'web', branch: 'main', ...commits['web']! } });
    const webRef = plan.environments[0]?.builds.find((build) => build.service === 'web')?.ref;
    expect(webRef).toBeDefined();
    expect(webRef).not.toBe(before.webImage);
    await pushTinyImage(webRef!);

    // No node matches, so the build pod never starts and Kubernetes fails the Job at its deadline.
    const failing = reconciler(opsUrl, urls, { nodeSelector: { 'diploid.dev/no-such-node': 'true' }, activeDeadlineSeconds: 2 }, (line) => void logs.push(line));
    // The ops repo changes a secret in the same push: written before the build, so the build's failure must undo it.
    const opsNext = ops.commit('new db password', { 'secrets/db.yaml': await seal(`v2-${name}`) });
    ops.git('branch', '-f', 'staging', opsNext);
    ops.git('push', '-q', '-f', opsUrl, 'main', 'staging');
    const plainResult = await failing.reconcile({ repo: 'api', branch: 'staging', ...commits['api']! });
    expect(plainResult.outcomes).toMatchObject([{ environment: 'staging', result: 'stalled', reason: 'BuildFailed' }]);
    expect((await deployment(plain, 'web')).spec?.template.spec?.containers[0]?.image).toBe(webRef);
    expect(await password(plain)).toBe(`v2-${name}`);

    const result = await failing.reconcile({ repo: 'api', branch: 'main', ...commits['api']! });
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'stalled', reason: 'BuildFailed' }]);
    expect(result.outcomes[0]?.message).toMatch(/^the build of api failed; atomic environment, so nothing was deployed \(every service keeps running revision [0-9a-f]+\)/);
    expect((await deployment(atomic, 'web')).spec?.template.spec?.containers[0]?.image).toBe(before.webImage);
    expect((await deployment(atomic, 'api')).spec?.template.spec?.containers[0]?.image).toBe(before.apiImage);
    const saved = await store().get('production');
    expect(condition(saved, 'Stalled')).toMatchObject({ status: 'True', reason: 'BuildFailed' });
    expect(saved?.appliedRevision).toBe(revisionBefore);
    expect(saved?.attemptedRevision).not.toBe(revisionBefore);
    expect(saved?.images).toEqual({ web: before.webImage, api: before.apiImage });
    expect(await password(atomic)).toBe(`v1-${name}`);
    const shown = JSON.stringify([logs, result, await store().list()]);
    for (const value of [`v1-${name}`, `v2-${name}`]) expect(shown).not.toContain(value);
  });

  it('puts every service back at the last deployed revision when a rollout fails, where a plain environment keeps the services that rolled out', async () => {
    const name = `${project}r`;
    const [atomic, plain] = [`${name}-production`, `${name}-staging`];
    namespaces.push(atomic, plain);
    const service = (svc: string, value: string, extra = '') => `import { defineService } from 'diploid';\nexport default defineService({ name: '${svc}', image: 'busybox:1.36', port: 8080, env: { VERSION: '${value}' }${extra} });\n`;
    const opsUrl = freshGitRepoUrl('ops');
    const ops = root.repo(`ops-${name}`, {
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${name}',
  environments: { production: { atomic: true }, staging: {} },
  branches: [{ branch: 'main', environment: 'production' }, { branch: 'staging', environment: 'staging' }],
});
`,
      'services/web.js': service('web', 'w1'),
      'services/api.js': service('api', 'a1'),
    });
    ops.git('branch', 'staging');
    ops.git('push', '-q', opsUrl, 'main', 'staging');
    const deploying = reconciler(opsUrl, {});
    expect((await deploying.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    expect((await deploying.reconcile({ repo: 'ops', branch: 'staging', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    const first = await store().get('production');

    // web's new version rolls out; api's never does (no node has 1000 CPUs).
    const next = ops.commit('w2, a2 too big', { 'services/web.js': service('web', 'w2'), 'services/api.js': service('api', 'a2', ", resources: { cpu: '1000..1000' }") });
    ops.git('branch', '-f', 'staging', next);
    ops.git('push', '-q', '-f', opsUrl, 'main', 'staging');

    const plainResult = await deploying.reconcile({ repo: 'ops', branch: 'staging', to: next });
    expect(plainResult.outcomes).toMatchObject([{ environment: 'staging', result: 'stalled', reason: 'RolloutFailed' }]);
    expect(version(await deployment(plain, 'web'))).toBe('w2');

    const result = await deploying.reconcile({ repo: 'ops', branch: 'main', to: next });
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'stalled', reason: 'RolloutFailed' }]);
    expect(result.outcomes[0]?.message).toMatch(/Deployment .*\/api: not ready after 15s/);
    expect(result.outcomes[0]?.message).toContain(`atomic environment, so every service was put back at revision ${first?.appliedRevision} (ops@${first?.commits?.['ops']?.slice(0, 12)})`);
    const web = await deployment(atomic, 'web');
    const api = await deployment(atomic, 'api');
    expect(version(web)).toBe('w1');
    expect(version(api)).toBe('a1');
    expect(api.spec?.template.spec?.containers[0]?.resources?.requests?.['cpu']).not.toBe('1000');
    for (const item of [web, api]) {
      expect(item.status?.availableReplicas).toBe(1);
      expect(item.status?.updatedReplicas).toBe(1);
    }
    const saved = await store().get('production');
    expect(condition(saved, 'Stalled')).toMatchObject({ status: 'True', reason: 'RolloutFailed' });
    expect(saved?.appliedRevision).toBe(first?.appliedRevision);
    expect(saved?.commits).toEqual(first?.commits);
  });

  it('puts the ops repo\'s Secrets back at the values of the revision it restores, where a plain environment keeps the new ones; no value in a log, a status or an annotation', async () => {
    const name = `${project}s`;
    const [atomic, plain] = [`${name}-production`, `${name}-staging`];
    namespaces.push(atomic, plain);
    const [v1, v2] = [`v1-${uniqueSuffix()}`, `v2-${uniqueSuffix()}`];
    const service = (svc: string, value: string, extra = '') => `import { defineService, secret } from 'diploid';\nexport default defineService({ name: '${svc}', image: 'busybox:1.36', port: 8080, env: { VERSION: '${value}', DB_PASSWORD: secret('db', 'password') }${extra} });\n`;
    const opsUrl = freshGitRepoUrl('ops');
    const ops = root.repo(`ops-${name}`, {
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${name}',
  secrets: { recipients: { cluster: '${key.recipient}' } },
  environments: { production: { atomic: true }, staging: {} },
  branches: [{ branch: 'main', environment: 'production' }, { branch: 'staging', environment: 'staging' }],
});
`,
      'services/web.js': service('web', 'w1'),
      'services/api.js': service('api', 'a1'),
      'secrets/db.yaml': await seal(v1),
    });
    ops.git('branch', 'staging');
    ops.git('push', '-q', opsUrl, 'main', 'staging');
    const logs: string[] = [];
    const deploying = reconciler(opsUrl, {}, {}, (line) => void logs.push(line));
    expect((await deploying.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    expect((await deploying.reconcile({ repo: 'ops', branch: 'staging', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
    const versions = async (namespace: string, svc: string) => (await deployment(namespace, svc)).spec?.template.metadata?.annotations?.[SECRET_VERSIONS_ANNOTATION];
    expect(await password(atomic)).toBe(v1);
    const webVersions = await versions(atomic, 'web');
    expect(webVersions).toBeDefined();

    // The secret changes, web rolls out with it, api never does (no node has 1000 CPUs).
    const next = ops.commit('new db password; w2, a2 too big', { 'secrets/db.yaml': await seal(v2), 'services/web.js': service('web', 'w2'), 'services/api.js': service('api', 'a2', ", resources: { cpu: '1000..1000' }") });
    ops.git('branch', '-f', 'staging', next);
    ops.git('push', '-q', '-f', opsUrl, 'main', 'staging');

    expect((await deploying.reconcile({ repo: 'ops', branch: 'staging', to: next })).outcomes).toMatchObject([{ environment: 'staging', result: 'stalled', reason: 'RolloutFailed' }]);
    expect(await password(plain)).toBe(v2);
    expect(version(await deployment(plain, 'web'))).toBe('w2');

    const result = await deploying.reconcile({ repo: 'ops', branch: 'main', to: next });
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'stalled', reason: 'RolloutFailed' }]);
    expect(result.outcomes[0]?.message).toContain('atomic environment, so every service was put back at revision');
    // The Secret holds the restored revision's value, and the restored pods are the ones that read it.
    expect(await password(atomic)).toBe(v1);
    const web = await deployment(atomic, 'web');
    expect(version(web)).toBe('w1');
    expect(web.spec?.template.metadata?.annotations?.[SECRET_VERSIONS_ANNOTATION]).toBe(webVersions);
    expect(web.status?.updatedReplicas).toBe(1);
    expect(web.status?.availableReplicas).toBe(1);
    // No value in clear anywhere diploid writes but the Secret: logs, statuses, the Secret's annotations, the objects.
    const secret = await core.readNamespacedSecret({ name: 'db', namespace: atomic });
    const shown = JSON.stringify([logs, result, await store().list(), secret.metadata, web, await deployment(atomic, 'api')]);
    for (const value of [v1, v2]) {
      expect(shown).not.toContain(value);
      expect(shown).not.toContain(Buffer.from(value).toString('base64'));
    }
    // Written for the failed commit, then again for the rollback.
    expect(logs.filter((line) => line.startsWith(`production: secret ${atomic}/db configured`))).toHaveLength(2);
  });
});
