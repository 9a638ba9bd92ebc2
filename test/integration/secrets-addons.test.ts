/**
 * Secrets and add-ons from the ops repo, through the real reconciler, on the test bed: a real
 * git server, the real API server (kwok rolls Deployments out), encrypted files decrypted with a
 * key kept in a Secret, a real CRD with a custom resource, and a remote manifest served over HTTP.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderAddons, parseManifest } from '../../src/addons/order.js';
import { applyAddons } from '../../src/cluster/addons-apply.js';
import { applyObjects } from '../../src/cluster/apply.js';
import { writeEnvironmentSecrets } from '../../src/cluster/secrets-sync.js';
import { controllerManifests } from '../../src/controller/manifests.js';
import { secretsRbac } from '../../src/secrets/rbac.js';
import { DEFAULT_BUILDER_IMAGE } from '../../src/cluster/build-job.js';
import { HttpRegistryClient } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { KubeDeployer } from '../../src/controller/deployer.js';
import { kubeAddonsHook, kubeSecretsHook } from '../../src/controller/ops-hooks.js';
import { Reconciler, type ReconcileRequest } from '../../src/controller/reconciler.js';
import { noopStatusReporter } from '../../src/controller/reporter.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { formatKeyFile, generateKeyPair } from '../../src/secrets/age-keys.js';
import { sealSecretFile } from '../../src/secrets/secret-file.js';
import { DirectoryTree } from '../../src/sources/trees.js';
import { newDataKey } from '../../src/secrets/sops-cipher.js';
import { crdManifest } from '../support/addon-manifests.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { runCli, writeOpsRepo } from '../support/ops-repo.js';
import { writeOpsRepo as writeFolder } from '../support/ops-repo.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireKubernetes, uniqueSuffix, type TestNamespace } from './testbed.js';

const suffix = uniqueSuffix();
const project = `sec${suffix}`;
const production = `${project}-production`;
const group = `w${suffix}.example.com`;
const addonNs = `widgets-${suffix}`;
const PASSWORD = `pw-${suffix}-Zq9!`;
let root: GitRoot;
let ops: TestRepo;
let opsUrl: string;
let controllerNs: TestNamespace;
let cluster: { identity: string; recipient: string };
let server: Server;
let remoteUrl = '';
const REMOTE = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: remote-settings, namespace: ${addonNs} }\ndata: { level: info }\n`;
const logs: string[] = [];

const config = (recipient: string, remote: string) => `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  ingress: { domain: 'sec.test' },
  environments: { production: {} },
  branches: [{ branch: 'main', environment: 'production' }],
  secrets: { recipients: { cluster: '${recipient}' } },
  addons: { remote: [{ url: '${remote}', sha256: '${createHash('sha256').update(REMOTE).digest('hex')}' }] },
});
`;
const API = `import { defineService, secret } from 'diploid';
export default defineService({ name: 'api', image: 'busybox:1.36', port: 8080, env: { DB_PASSWORD: secret('db', 'password') } });
`;
const CRD = crdManifest(group, 'Widget', 'widgets');
const CONTROLLER = `apiVersion: v1
kind: Namespace
metadata: { name: ${addonNs} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: widget-controller, namespace: ${addonNs} }
spec:
  replicas: 1
  selector: { matchLabels: { app: widget-controller } }
  template:
    metadata: { labels: { app: widget-controller } }
    spec: { containers: [{ name: controller, image: busybox:1.36 }] }
`;
const WIDGET = `apiVersion: ${group}/v1\nkind: Widget\nmetadata: { name: big, namespace: ${addonNs} }\nspec: { size: 3 }\n`;

async function sealed(values: Array<[string, string]>, recipient = cluster.recipient): Promise<string> {
  return sealSecretFile({ values, dataKey: newDataKey(), recipients: [recipient], now: new Date() }, 'secrets/db.yaml');
}

function reconciler(): Reconciler {
  const kube = kubeConfig();
  const log = (line: string) => void logs.push(line);
  return new Reconciler({
    ops: opsUrl,
    locations: { urls: {} },
    cacheDir: root.cache,
    store: new ConfigMapStatusStore(kube, controllerNs.name),
    builder: new JobImageBuilder(kube, new HttpRegistryClient(), { namespace: controllerNs.name, image: DEFAULT_BUILDER_IMAGE }, 60_000),
    deployer: new KubeDeployer(kube, 90_000),
    reporter: noopStatusReporter,
    log,
    secrets: kubeSecretsHook(kube, controllerNs.name, log),
    addons: kubeAddonsHook(kube, { controllerNamespace: controllerNs.name, project, cacheDir: root.cache, log, freshMs: 0, timeoutMs: 90_000 }),
  });
}

/** Commits files to the ops repo, pushes, and returns the reconcile request of that push. */
function push(message: string, files: Record<string, string | null>): ReconcileRequest {
  const from = ops.head();
  const to = ops.commit(message, files);
  ops.git('push', '-q', opsUrl, 'main');
  return { repo: 'ops', branch: 'main', from, to };
}

const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
const readSecret = (name: string, namespace = production) => core().readNamespacedSecret({ name, namespace });

beforeAll(async () => {
  requireKubernetes();
  cluster = await generateKeyPair();
  server = createServer((_, response) => response.end(REMOTE));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  remoteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/settings.yaml`;
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  ops = root.repo('ops', {
    '.diploid.conf.js': config(cluster.recipient, remoteUrl),
    'services/api.js': API,
    'secrets/db.yaml': await sealed([['password', PASSWORD], ['user', 'shop']]),
    'addons/crd.yaml': CRD,
    'addons/controller.yaml': CONTROLLER,
    'addons/widget.yaml': WIDGET,
  });
  ops.git('push', '-q', opsUrl, 'main');
  controllerNs = await freshNamespace('sec-system');
});

afterAll(async () => {
  server?.close();
  const kube = kubeConfig();
  for (const name of [production, addonNs]) await core().deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await kube.makeApiClient(k8s.ApiextensionsV1Api).deleteCustomResourceDefinition({ name: `widgets.${group}` }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await controllerNs?.delete();
  root?.dispose();
});

describe('secrets and add-ons from the ops repo, on the test bed', { timeout: 240_000 }, () => {
  it('without the cluster key the environment waits (retried), naming the Secret to create', async () => {
    const result = await reconciler().reconcile({ repo: 'ops', branch: 'main', to: ops.head() });
    expect(result.error).toBeUndefined();
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'retry', reason: 'RetryScheduled' }]);
    expect(result.outcomes[0]?.message).toContain(`create Secret ${controllerNs.name}/diploid-age-key with key age.key`);
  });

  it('with the key, add-ons come first in order, then the decrypted Secret, then the environment; no value in logs or status', async () => {
    await core().createNamespacedSecret({ namespace: controllerNs.name, body: { metadata: { name: 'diploid-age-key' }, stringData: { 'age.key': formatKeyFile(cluster.identity, cluster.recipient, new Date()) } } });
    logs.length = 0;
    const result = await reconciler().reconcile({ repo: 'ops', branch: 'main', to: ops.head() });
    expect(result.error).toBeUndefined();
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'deployed', reason: 'Succeeded' }]);

    const secret = await readSecret('db');
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe(PASSWORD);
    expect(Buffer.from(secret.data?.user ?? '', 'base64').toString()).toBe('shop');
    expect(secret.metadata?.annotations?.['diploid.dev/source']).toBe('secrets/db.yaml');
    const api = await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'api', namespace: production });
    expect(api.spec?.template.spec?.containers[0]?.env).toContainEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } });

    // The add-ons: CRD Established, controller Available, the custom resource and the remote manifest there.
    const crd = await kubeConfig().makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `widgets.${group}` });
    expect(crd.status?.conditions?.find((item) => item.type === 'Established')?.status).toBe('True');
    const controller = await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'widget-controller', namespace: addonNs });
    expect(controller.status?.conditions?.find((item) => item.type === 'Available')?.status).toBe('True');
    const widget = (await kubeConfig().makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({ group, version: 'v1', namespace: addonNs, plural: 'widgets', name: 'big' })) as { spec: { size: number } };
    expect(widget.spec.size).toBe(3);
    expect((await core().readNamespacedConfigMap({ name: 'remote-settings', namespace: addonNs })).data).toEqual({ level: 'info' });

    // Values never in logs, the status ConfigMap or events.
    expect(logs.join('\n')).toContain(`secret ${production}/db created (keys password, user)`);
    expect(logs.join('\n')).not.toContain(PASSWORD);
    const maps = await core().listNamespacedConfigMap({ namespace: controllerNs.name });
    expect(JSON.stringify(maps.items)).not.toContain(PASSWORD);
    expect(JSON.stringify(maps.items)).not.toContain(Buffer.from(PASSWORD).toString('base64'));
    const events = await core().listNamespacedEvent({ namespace: production });
    expect(JSON.stringify(events.items)).not.toContain(PASSWORD);
  });

  it('render shows no value; the ops repo holds none in clear', async () => {
    const dir = writeOpsRepo({ '.diploid.conf.js': config(cluster.recipient, remoteUrl), 'services/api.js': API, 'secrets/db.yaml': await sealed([['password', PASSWORD]]) });
    const render = await runCli(['render', dir, '--env', 'production']);
    expect(render.code).toBe(0);
    expect(render.stdout).toContain('secretKeyRef');
    expect(render.stdout).not.toContain(PASSWORD);
    expect(ops.git('log', '-p', '--all')).not.toContain(PASSWORD);
  });

  it('a changed value reaches the Secret; a removed file prunes it, leaving a hand-made Secret alone', async () => {
    await core().createNamespacedSecret({ namespace: production, body: { metadata: { name: 'manual' }, stringData: { k: 'v' } } });
    const versions = async () => (await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'api', namespace: production })).spec?.template.metadata?.annotations?.['diploid.dev/secret-versions'];
    const before = await versions();
    expect(before).toMatch(/^[0-9a-f]{16}$/);
    // A push that changes only the encrypted file is planned, and rolls the pods that use it.
    const changed = await reconciler().reconcile(push('new password', { 'secrets/db.yaml': await sealed([['password', 'second-value']]) }));
    expect(changed.outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    expect(await versions()).toMatch(/^[0-9a-f]{16}$/);
    expect(await versions()).not.toBe(before);
    const secret = await readSecret('db');
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe('second-value');
    expect(secret.data?.user).toBeUndefined();

    const removed = await reconciler().reconcile(push('no more secrets', { 'secrets/db.yaml': null, 'services/api.js': API.replace("env: { DB_PASSWORD: secret('db', 'password') } ", '') }));
    expect(removed.outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    await expect(readSecret('db')).rejects.toSatisfy(isNotFound);
    expect((await readSecret('manual')).data?.k).toBe(Buffer.from('v').toString('base64'));
  });

  it('a file not encrypted to the cluster is retried (its key Secret may be replaced), naming the file', async () => {
    const other = await generateKeyPair();
    const result = await reconciler().reconcile(push('wrong key', { 'secrets/db.yaml': await sealed([['password', 'x']], other.recipient), 'services/api.js': API }));
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'retry', reason: 'RetryScheduled' }]);
    expect(result.outcomes[0]?.message).toContain(`secrets/db.yaml: is not encrypted to any of the given keys (it is encrypted to ${other.recipient})`);
  });

  it('a tampered file stalls the environment until a new commit, naming the file and key', async () => {
    const text = await sealed([['password', 'x'], ['user', 'y']]);
    // Give `user` the encrypted value of `password`: each value is bound to its key.
    const password = /^password: (.*)$/m.exec(text)?.[1] ?? '';
    const tampered = text.replace(/^user: .*$/m, `user: ${password}`);
    const result = await reconciler().reconcile(push('tampered', { 'secrets/db.yaml': tampered }));
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'stalled', reason: 'InvalidInput' }]);
    expect(result.outcomes[0]?.message).toBe('secrets/db.yaml user: authentication failed: wrong data key, or the value or its key was changed');
  });

  it('add-ons removed from the ops repo are pruned by inventory: the custom resource and the remote manifest go, the CRD stays', async () => {
    const result = await reconciler().reconcile(
      push('fewer add-ons', { 'addons/widget.yaml': null, '.diploid.conf.js': config(cluster.recipient, remoteUrl).replace(/  addons: .*\n/, ''), 'secrets/db.yaml': null }),
    );
    expect(result.error).toBeUndefined();
    await expect(kubeConfig().makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({ group, version: 'v1', namespace: addonNs, plural: 'widgets', name: 'big' })).rejects.toSatisfy(isNotFound);
    await expect(core().readNamespacedConfigMap({ name: 'remote-settings', namespace: addonNs })).rejects.toSatisfy(isNotFound);
    expect((await kubeConfig().makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `widgets.${group}` })).metadata?.name).toBe(`widgets.${group}`);
    expect(logs.some((line) => /add-ons at ops@\w+: .* 2 pruned/.test(line))).toBe(true);
  });

  it('the rights init grants the controller suffice to write and prune Secrets, and do not let it list them', async () => {
    const kube = kubeConfig();
    const system = `sec-rbac-${uniqueSuffix()}`;
    const target = `sec-rbac-env-${uniqueSuffix()}`;
    const rbacProject = `rb${uniqueSuffix()}`;
    const objects = [...controllerManifests({ namespace: system, image: 'diploid:test', opsUrl: 'http://git.invalid/ops.git', secretName: 'diploid', secretEnv: [], project: rbacProject }), ...secretsRbac({ namespace: system, project: rbacProject, serviceAccount: 'diploid-controller' })];
    try {
      await applyObjects(kube, objects.filter((object) => object.kind !== 'Deployment'));
      await core().createNamespacedSecret({ namespace: system, body: { metadata: { name: 'diploid-age-key' }, stringData: { 'age.key': formatKeyFile(cluster.identity, cluster.recipient, new Date()) } } });
      // A token of the controller's ServiceAccount, as its pod would have.
      const token = (await core().createNamespacedServiceAccountToken({ name: 'diploid-controller', namespace: system, body: { spec: { audiences: [], expirationSeconds: 600 } } })).status?.token ?? '';
      const asController = new k8s.KubeConfig();
      asController.loadFromOptions({ clusters: [{ name: 'bed', server: requireKubernetes().server, skipTLSVerify: true }], users: [{ name: 'controller', token }], contexts: [{ name: 'bed', cluster: 'bed', user: 'controller' }], currentContext: 'bed' });
      const opsDir = writeFolder({ 'secrets/db.yaml': await sealed([['password', PASSWORD]]) });
      const input = { tree: new DirectoryTree(opsDir, ''), config: { secrets: { recipients: { cluster: cluster.recipient } } }, project: rbacProject, environment: 'production', namespace: target, controllerNamespace: system, namespaceObject: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target, labels: { 'app.kubernetes.io/managed-by': 'diploid' } } } };
      expect((await writeEnvironmentSecrets(asController, input)).written).toEqual([{ secret: `${target}/db`, keys: ['password'], outcome: 'created' }]);
      expect(Buffer.from((await readSecret('db', target)).data?.password ?? '', 'base64').toString()).toBe(PASSWORD);
      // Prune, with the same rights.
      const emptied = writeFolder({ 'README.md': 'no secrets\n' });
      expect((await writeEnvironmentSecrets(asController, { ...input, tree: new DirectoryTree(emptied, '') })).pruned).toEqual([`${target}/db`]);
      await expect(asController.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: target })).rejects.toMatchObject({ code: 403 });
    } finally {
      for (const name of [system, target]) await core().deleteNamespace({ name }).catch(() => undefined);
      const rbac = kube.makeApiClient(k8s.RbacAuthorizationV1Api);
      for (const name of [`diploid-controller-${rbacProject}`, `diploid-secrets-${rbacProject}`]) {
        await rbac.deleteClusterRole({ name }).catch(() => undefined);
        await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
      }
    }
  });

  it("a preview gets its base environment's files, under its own inventory", async () => {
    const kube = kubeConfig();
    const preview = await freshNamespace('sec-preview');
    const pull = JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('robot:token').toString('base64') } } });
    const opsDir = writeFolder({
      'secrets/db.yaml': await sealed([['password', 'common']]),
      'secrets/production/db.yaml': await sealed([['password', 'production-only']]),
      'secrets/pull.yaml': await sealed([['.dockerconfigjson', pull]]),
    });
    const result = await writeEnvironmentSecrets(kube, { tree: new DirectoryTree(opsDir, ''), config: {}, project, environment: 'feature-x', filesOf: 'production', namespace: preview.name, controllerNamespace: controllerNs.name });
    expect(result.written).toEqual([
      { secret: `${preview.name}/db`, keys: ['password'], outcome: 'created' },
      { secret: `${preview.name}/pull`, keys: ['.dockerconfigjson'], outcome: 'created' },
    ]);
    // A file whose only key is .dockerconfigjson is an image pull Secret.
    expect((await readSecret('pull', preview.name)).type).toBe('kubernetes.io/dockerconfigjson');
    expect(Buffer.from((await readSecret('db', preview.name)).data?.password ?? '', 'base64').toString()).toBe('production-only');
    expect((await core().readNamespacedConfigMap({ name: 'diploid-secrets-feature-x', namespace: controllerNs.name })).data?.['inventory.json']).toContain(`"namespace": "${preview.name}"`);
  });

  it('each phase starts only once the previous one is ready: CRD Established before the controller, controller Available before custom resources', async () => {
    const kube = kubeConfig();
    const g = `v${uniqueSuffix()}.example.com`;
    const ns = `gadgets-${uniqueSuffix()}`;
    const text = [CONTROLLER, CRD, WIDGET].join('---\n').replaceAll(group, g).replaceAll(addonNs, ns).replaceAll('Widget', 'Gadget').replaceAll('widget', 'gadget');
    const seen: Array<{ phase: string; crdEstablished?: string; controllerAvailable?: string }> = [];
    const inventoryNs = await freshNamespace('addons-order');
    // At the start of each phase, read what the previous phase waited for, live from the API server.
    const crdEstablished = async () => (await kube.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `gadgets.${g}` }).catch(() => undefined))?.status?.conditions?.find((item) => item.type === 'Established')?.status ?? 'absent';
    const controllerAvailable = async () => (await kube.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'gadget-controller', namespace: ns }).catch(() => undefined))?.status?.conditions?.find((item) => item.type === 'Available')?.status ?? 'absent';
    try {
      await applyAddons(kube, orderAddons(parseManifest(text, 'addons/all.yaml')), {
        inventoryNamespace: inventoryNs.name,
        project,
        timeoutMs: 90_000,
        onPhase: async (phase) => void seen.push({ phase, crdEstablished: await crdEstablished(), controllerAvailable: await controllerAvailable() }),
      });
      expect(seen).toEqual([
        { phase: 'definitions', crdEstablished: 'absent', controllerAvailable: 'absent' },
        { phase: 'controllers', crdEstablished: 'True', controllerAvailable: 'absent' },
        { phase: 'resources', crdEstablished: 'True', controllerAvailable: 'True' },
        { phase: 'pruned', crdEstablished: 'True', controllerAvailable: 'True' },
      ]);
      // The custom resource was created after the controller's Deployment became Available.
      const gadget = (await kube.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({ group: g, version: 'v1', namespace: ns, plural: 'gadgets', name: 'big' })) as { metadata: { creationTimestamp: string } };
      const deployment = await kube.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'gadget-controller', namespace: ns });
      const availableAt = deployment.status?.conditions?.find((item) => item.type === 'Available')?.lastTransitionTime;
      expect(availableAt).toBeDefined();
      expect(new Date(gadget.metadata.creationTimestamp).getTime()).toBeGreaterThanOrEqual(new Date(availableAt!).getTime());
    } finally {
      await core().deleteNamespace({ name: ns }).catch(() => undefined);
      await kube.makeApiClient(k8s.ApiextensionsV1Api).deleteCustomResourceDefinition({ name: `gadgets.${g}` }).catch(() => undefined);
      await inventoryNs.delete();
    }
  });
});
