/**
 * The ops repo's add-ons in every cluster diploid deploys to: staging lives in the controller's
 * own cluster (the shared bed), production in a second bed started here (kwok only), reached with
 * a kubeconfig in a Secret of the controller's namespace. The reconciler is wired exactly as
 * `diploid controller` wires it (`createReconciler`); both API servers, their kwok nodes and the
 * git server are real.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyObjects } from '../../src/cluster/apply.js';
import { ClusterConnections } from '../../src/cluster/clusters.js';
import { clustersRbac } from '../../src/cluster/clusters-rbac.js';
import { readInventory } from '../../src/cluster/inventory.js';
import { kubeAddonsHook } from '../../src/controller/addons-hook.js';
import { controllerManifests } from '../../src/controller/manifests.js';
import { Workspace } from '../../src/sources/git/workspace.js';
import { createReconciler, readOpsConfig, type ControllerSettings } from '../../src/controller/runtime.js';
import type { Reconciler } from '../../src/controller/reconciler.js';
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { crdManifest } from '../support/addon-manifests.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { startSecondBed, type SecondBed } from './second-bed.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireKubernetes, uniqueSuffix, type TestNamespace } from './testbed.js';

const suffix = uniqueSuffix();
const project = `ac${suffix}`;
const staging = `${project}-staging`;
const production = `${project}-production`;
const group = `g${suffix}.example.com`;
/** A kind only the controller's own cluster knows (its CRD put there by hand, not an add-on). */
const homeOnlyGroup = `h${suffix}.example.com`;
const addonNs = `gadgets-${suffix}`;

let root: GitRoot;
let ops: TestRepo;
let opsUrl: string;
let system: TestNamespace;
let second: SecondBed;
let reconciler: Reconciler;
const logs: string[] = [];

const home = () => kubeConfig();
const coreOf = (kube: k8s.KubeConfig) => kube.makeApiClient(k8s.CoreV1Api);
const appsOf = (kube: k8s.KubeConfig) => kube.makeApiClient(k8s.AppsV1Api);

const config = (prodAddons: string) => `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  clusters: { prod: { kubeconfigSecret: 'cluster-prod'${prodAddons} } },
  environments: { staging: {}, production: { cluster: 'prod' } },
  branches: [{ branch: 'main', environment: 'staging' }, { branch: 'prod', environment: 'production' }],
});
`;
const NAMESPACE = `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${addonNs} }\n`;
const CONTROLLER = `apiVersion: apps/v1
kind: Deployment
metadata: { name: gadget-controller, namespace: ${addonNs} }
spec:
  replicas: 1
  selector: { matchLabels: { app: gadget-controller } }
  template:
    metadata: { labels: { app: gadget-controller } }
    spec: { containers: [{ name: controller, image: busybox:1.36 }] }
`;
const GADGET = `apiVersion: ${group}/v1\nkind: Gadget\nmetadata: { name: big, namespace: ${addonNs} }\nspec: { size: 3 }\n`;
const SERVICE = `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080 });\n`;

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

const gadget = (kube: k8s.KubeConfig) => () => k8s.KubernetesObjectApi.makeApiClient(kube).read({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'big', namespace: addonNs } });
const controllerOf = (kube: k8s.KubeConfig) => () => appsOf(kube).readNamespacedDeployment({ name: 'gadget-controller', namespace: addonNs });

/** Commits to the ops repo's main branch (where add-ons are read from) and pushes. */
function pushMain(message: string, files: Record<string, string | null>): void {
  ops.commit(message, files);
  ops.git('push', '-q', opsUrl, 'main');
}

beforeAll(async () => {
  requireKubernetes();
  second = await startSecondBed();
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  ops = root.repo('ops', {
    '.diploid.conf.js': config(''),
    'services/web.js': SERVICE,
    'addons/namespace.yaml': NAMESPACE,
    'addons/crd.yaml': crdManifest(group, 'Gadget', 'gadgets'),
    'addons/controller.yaml': CONTROLLER,
    'addons/gadget.yaml': GADGET,
  });
  ops.git('branch', 'prod');
  ops.git('push', '-q', opsUrl, 'main', 'prod');
  system = await freshNamespace('ac-system');
  await coreOf(home()).createNamespacedSecret({ namespace: system.name, body: { metadata: { name: 'cluster-prod' }, stringData: { kubeconfig: second.kubeconfig } } });
  const settings: ControllerSettings = { ops: opsUrl, locations: { urls: {} }, cacheDir: root.cache, namespace: system.name, log: (line) => void logs.push(line) };
  reconciler = createReconciler(home(), await readOpsConfig(settings), settings, { report: async () => {} });
});

afterAll(async () => {
  for (const name of [staging, addonNs]) await coreOf(home()).deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  const crds = home().makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of [`gadgets.${group}`, `things.${homeOnlyGroup}`]) await crds.deleteCustomResourceDefinition({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  await second?.stop();
  root?.dispose();
});

describe('add-ons in every cluster an environment lives in', { timeout: 300_000 }, () => {
  it('applies the CRD, its controller and a custom resource in both clusters, in order, each with its own inventory at home', async () => {
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'prod', to: '' })).outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);

    for (const kube of [home(), second.kube]) {
      const definition = await kube.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `gadgets.${group}` });
      expect(definition.status?.conditions?.find((item) => item.type === 'Established')?.status).toBe('True');
      expect((await controllerOf(kube)()).status?.availableReplicas).toBe(1);
      expect(await exists(gadget(kube))).toBe(true);
    }
    expect((await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: production })).status?.availableReplicas).toBe(1);
    // Each cluster's inventory, both kept in the controller's namespace at home, none in the second cluster.
    const names = (entries: Awaited<ReturnType<typeof readInventory>>) => entries.map((entry) => `${entry.kind}/${entry.name}`).sort();
    const all = ['CustomResourceDefinition/gadgets.' + group, 'Deployment/gadget-controller', 'Gadget/big', `Namespace/${addonNs}`];
    expect(names(await readInventory(home(), system.name, 'diploid-addons'))).toEqual(all);
    expect(names(await readInventory(home(), system.name, 'diploid-addons-cluster-prod'))).toEqual(all);
    expect(logs.some((line) => /add-ons at ops@\w+ in cluster prod: 4 of 4 objects changed, 0 pruned/.test(line))).toBe(true);
  });

  it('prunes in each cluster by its own inventory: a removed add-on from both, an unselected one only from the cluster that left it out', async () => {
    pushMain('gadget gone; prod keeps only namespace and CRD', { 'addons/gadget.yaml': null, '.diploid.conf.js': config(", addons: ['addons/namespace.yaml', 'addons/crd.yaml']") });
    // Staging's objects do not change; the add-ons of both clusters are applied before it.
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'unchanged' }]);

    // Home: the custom resource pruned, its controller kept. Prod: both pruned, the CRD and namespace kept.
    expect(await exists(gadget(home()))).toBe(false);
    expect(await exists(controllerOf(home()))).toBe(true);
    expect(await exists(gadget(second.kube))).toBe(false);
    expect(await exists(controllerOf(second.kube))).toBe(false);
    expect(await exists(() => second.kube.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `gadgets.${group}` }))).toBe(true);
    expect((await readInventory(home(), system.name, 'diploid-addons-cluster-prod')).map((entry) => entry.kind).sort()).toEqual(['CustomResourceDefinition', 'Namespace']);
    expect((await readInventory(home(), system.name, 'diploid-addons')).map((entry) => entry.kind).sort()).toEqual(['CustomResourceDefinition', 'Deployment', 'Namespace']);
  });

  it('an add-on that fails in one cluster holds back only the environments of that cluster, with a reason naming it; fixed, they deploy', async () => {
    // A custom resource of a kind only the controller's own cluster knows: it applies at home, and is refused in prod.
    const homeOnly = parse(crdManifest(homeOnlyGroup, 'Thing', 'things')) as k8s.V1CustomResourceDefinition;
    await home().makeApiClient(k8s.ApiextensionsV1Api).createCustomResourceDefinition({ body: homeOnly });
    for (let until = Date.now() + 30_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 250))) {
      const read = await home().makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `things.${homeOnlyGroup}` });
      if (read.status?.conditions?.some((item) => item.type === 'Established' && item.status === 'True')) break;
    }
    pushMain('a thing everywhere; web w2', {
      'addons/thing.yaml': `apiVersion: ${homeOnlyGroup}/v1\nkind: Thing\nmetadata: { name: one, namespace: ${addonNs} }\nspec: { size: 1 }\n`,
      '.diploid.conf.js': config(''),
      'services/web.js': SERVICE.replace("port: 8080", "port: 8080, env: { VERSION: 'w2' }"),
    });
    ops.checkout('prod');
    ops.git('merge', '-q', '--ff-only', 'main');
    ops.git('push', '-q', opsUrl, 'prod');
    ops.checkout('main');

    const store = new ConfigMapStatusStore(home(), system.name);
    const blocked = await reconciler.reconcile({ repo: 'ops', branch: 'prod', to: '' });
    expect(blocked.error).toBeUndefined();
    expect(blocked.outcomes).toMatchObject([{ environment: 'production', result: 'retry', reason: 'AddonsFailed' }]);
    expect(blocked.outcomes[0]?.message).toContain('add-ons of cluster prod failed, so its environments wait for them');
    expect(blocked.outcomes[0]?.message).toContain(`Thing ${addonNs}/one`);
    const saved = await store.get('production');
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'False', reason: 'AddonsFailed' });
    expect(saved?.cluster?.name).toBe('prod');
    // Nothing of the new commit reached production's cluster.
    const web = await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: production });
    expect(web.spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')).toBeUndefined();
    // The controller's own cluster got the new add-on, and its environment deploys.
    expect(await exists(() => k8s.KubernetesObjectApi.makeApiClient(home()).read({ apiVersion: `${homeOnlyGroup}/v1`, kind: 'Thing', metadata: { name: 'one', namespace: addonNs } }))).toBe(true);
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    expect(logs.some((line) => line.includes('failed in cluster prod; only its environments wait, tried again'))).toBe(true);
    // Nothing of the kubeconfig in any status or log line.
    const shown = JSON.stringify([await store.list(), logs, blocked]);
    const token = second.state.kubernetes?.token ?? '';
    expect(token.length).toBeGreaterThan(8);
    expect(shown).not.toContain(token);

    // Fixed in git: prod leaves the thing out, and production deploys.
    pushMain('prod without the thing', { '.diploid.conf.js': config(", addons: ['addons/namespace.yaml', 'addons/crd.yaml', 'addons/controller.yaml']") });
    const fixed = await reconciler.reconcile({ repo: 'ops', branch: 'prod', to: '' });
    expect(fixed.outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    expect((await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: production })).spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')?.value).toBe('w2');
    expect((await controllerOf(second.kube)()).status?.availableReplicas).toBe(1);
    expect(condition(await store.get('production'), 'Ready')).toMatchObject({ status: 'True' });
  });

  it('a cluster that stops hosting an environment, then leaves clusters, keeps no add-on of diploid\'s: pruned there by its inventory, which goes', async () => {
    const leaveProject = `al${uniqueSuffix()}`;
    const leaveNs = `leave-${uniqueSuffix()}`;
    const hookLogs: string[] = [];
    const namespace = (await freshNamespace('ac-leave')).name;
    await coreOf(home()).createNamespacedSecret({ namespace, body: { metadata: { name: 'cluster-edge' }, stringData: { kubeconfig: second.kubeconfig } } });
    // The add-on's namespace is not an add-on here: a pruned namespace terminates for a while, and the test applies again at once.
    // Home gets every add-on too.
    for (const kube of [home(), second.kube]) await coreOf(kube).createNamespace({ body: { metadata: { name: leaveNs } } });
    const leaveConfig = (clusters: string, environments: string) => `export default { project: '${leaveProject}', clusters: { ${clusters} }, environments: { ${environments} } };\n`;
    const repo = root.repo(`ops-${leaveProject}`, {
      '.diploid.conf.js': leaveConfig("edge: { kubeconfigSecret: 'cluster-edge', addons: ['addons/edge'] }", 'production: {}'),
      'addons/edge/settings.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: edge-settings, namespace: ${leaveNs} }\ndata: { mode: edge }\n`,
    });
    const url = freshGitRepoUrl('ops-leave');
    const hook = kubeAddonsHook(home(), { controllerNamespace: namespace, project: leaveProject, cacheDir: root.cache, log: (line) => void hookLogs.push(line), clusters: new ClusterConnections(home(), namespace), timeoutMs: 60_000, freshMs: 0 });
    const run = async (message: string, files: Record<string, string | null>) => {
      if (message !== '') repo.commit(message, files);
      repo.git('push', '-q', '-f', url, 'main');
      const outcome = await hook(new Workspace({ cacheDir: root.cache, ops: url, locations: { urls: {} } }));
      expect([...outcome.blocked.keys()]).toEqual([]);
    };
    const settings = () => coreOf(second.kube).readNamespacedConfigMap({ name: 'edge-settings', namespace: leaveNs });
    const inventory = () => readInventory(home(), namespace, 'diploid-addons-cluster-edge');
    // An inventory written before they recorded their Secret, of a cluster no longer in clusters: named in the log, left alone.
    await coreOf(home()).createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'diploid-addons-cluster-ghost', labels: { 'app.kubernetes.io/managed-by': 'diploid', 'app.kubernetes.io/part-of': leaveProject } }, data: { 'inventory.json': '[{"apiVersion":"v1","kind":"ConfigMap","namespace":"x","name":"y"}]' } },
    });
    try {
      await run('', {});
      expect(hookLogs).toContain(`add-ons left in cluster ghost, which left clusters: its inventory (ConfigMap ${namespace}/diploid-addons-cluster-ghost) does not say which Secret reached it; remove them there by hand, then delete that ConfigMap`);
      expect(await exists(() => coreOf(home()).readNamespacedConfigMap({ name: 'diploid-addons-cluster-ghost', namespace }))).toBe(true);
      expect(await exists(settings)).toBe(true);
      expect((await inventory()).map((entry) => `${entry.kind}/${entry.name}`)).toEqual(['ConfigMap/edge-settings']);

      // Its selection emptied: what it got is pruned, the inventory kept, empty.
      await run('edge gets none', { '.diploid.conf.js': leaveConfig("edge: { kubeconfigSecret: 'cluster-edge', addons: [] }", 'production: {}') });
      expect(await exists(settings)).toBe(false);
      expect(await inventory()).toEqual([]);

      // It hosts an environment (every add-on by default), then no longer does: pruned as well.
      await run('production on edge', { '.diploid.conf.js': leaveConfig("edge: { kubeconfigSecret: 'cluster-edge' }", "production: { cluster: 'edge' }") });
      expect(await exists(settings)).toBe(true);
      await run('production back home', { '.diploid.conf.js': leaveConfig("edge: { kubeconfigSecret: 'cluster-edge' }", 'production: {}') });
      expect(await exists(settings)).toBe(false);

      // Back on edge, then edge leaves clusters altogether: removed there through the Secret its inventory recorded, and the inventory goes.
      await run('production on edge again', { '.diploid.conf.js': leaveConfig("edge: { kubeconfigSecret: 'cluster-edge' }", "production: { cluster: 'edge' }") });
      expect(await exists(settings)).toBe(true);
      const recorded = await coreOf(home()).readNamespacedConfigMap({ name: 'diploid-addons-cluster-edge', namespace });
      expect(recorded.metadata?.annotations).toMatchObject({ 'diploid.dev/kubeconfig-secret': 'cluster-edge', 'diploid.dev/kubeconfig-secret-key': 'kubeconfig' });
      await run('edge gone', { '.diploid.conf.js': leaveConfig('', 'production: {}') });
      expect(await exists(settings)).toBe(false);
      expect(await exists(() => coreOf(home()).readNamespacedConfigMap({ name: 'diploid-addons-cluster-edge', namespace }))).toBe(false);
      expect(hookLogs).toContain('add-ons removed from cluster edge, which left clusters');
    } finally {
      await coreOf(home()).deleteNamespace({ name: namespace }).catch(() => undefined);
      for (const kube of [home(), second.kube]) await coreOf(kube).deleteNamespace({ name: leaveNs }).catch(() => undefined);
    }
  });

  it('in the controller\'s cluster, the rights diploid init grants suffice for another cluster\'s add-ons (its Secret, its inventory); the rights there are the kubeconfig\'s', async () => {
    const rbacProject = `ar${uniqueSuffix()}`;
    const namespace = `ac-rbac-${uniqueSuffix()}`;
    const remoteNs = `remote-only-${uniqueSuffix()}`;
    const clusters = { prod: { kubeconfigSecret: 'cluster-prod' } };
    // What init applies for a config with clusters and no `addons` key: no cluster-admin at home.
    const objects = [
      ...controllerManifests({ namespace, image: 'diploid:test', opsUrl: 'http://git.invalid/ops.git', secretName: 'diploid', secretEnv: [], project: rbacProject }),
      ...clustersRbac({ project: rbacProject, clusters }, { namespace, serviceAccount: 'diploid-controller' }),
    ];
    const rbac = home().makeApiClient(k8s.RbacAuthorizationV1Api);
    try {
      await applyObjects(home(), objects.filter((object) => object.kind !== 'Deployment'));
      await coreOf(home()).createNamespacedSecret({ namespace, body: { metadata: { name: 'cluster-prod' }, stringData: { kubeconfig: second.kubeconfig } } });
      const token = (await coreOf(home()).createNamespacedServiceAccountToken({ name: 'diploid-controller', namespace, body: { spec: { audiences: [], expirationSeconds: 600 } } })).status?.token ?? '';
      const asController = new k8s.KubeConfig();
      asController.loadFromOptions({ clusters: [{ name: 'bed', server: requireKubernetes().server, skipTLSVerify: true }], users: [{ name: 'controller', token }], contexts: [{ name: 'bed', cluster: 'bed', user: 'controller' }], currentContext: 'bed' });
      const repo = root.repo(`ops-${rbacProject}`, {
        '.diploid.conf.js': `export default { project: '${rbacProject}', clusters: { prod: { kubeconfigSecret: 'cluster-prod', addons: ['addons/remote'] } }, environments: { production: { cluster: 'prod' } } };\n`,
        'addons/remote/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${remoteNs} }\n`,
        'addons/remote/crd.yaml': crdManifest(`r${suffix}.example.com`, 'Rocket', 'rockets'),
      });
      const url = freshGitRepoUrl('ops-rbac');
      repo.git('push', '-q', url, 'main');
      const hook = kubeAddonsHook(asController, { controllerNamespace: namespace, project: rbacProject, cacheDir: root.cache, log: () => {}, clusters: new ClusterConnections(asController, namespace), timeoutMs: 60_000 });
      const outcome = await hook(new Workspace({ cacheDir: root.cache, ops: url, locations: { urls: {} } }));
      // Home refuses the CRD to the controller (no cluster-admin without `addons`): only home's environments would wait.
      expect([...outcome.blocked.keys()]).toEqual(['']);
      expect(outcome.blocked.get('')?.message).toMatch(/^add-ons of the controller's own cluster failed/);
      // Prod got both, installed with its kubeconfig's rights; its inventory was written at home with the controller's.
      expect(await exists(() => second.kube.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: `rockets.r${suffix}.example.com` }))).toBe(true);
      expect(await exists(() => coreOf(second.kube).readNamespace({ name: remoteNs }))).toBe(true);
      expect((await readInventory(home(), namespace, 'diploid-addons-cluster-prod')).map((entry) => entry.kind).sort()).toEqual(['CustomResourceDefinition', 'Namespace']);
    } finally {
      await coreOf(home()).deleteNamespace({ name: namespace }).catch(() => undefined);
      await coreOf(home()).deleteNamespace({ name: remoteNs }).catch(() => undefined);
      for (const name of [`diploid-controller-${rbacProject}`]) {
        await rbac.deleteClusterRole({ name }).catch(() => undefined);
        await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
      }
    }
  });
});
