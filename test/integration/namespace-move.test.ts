/**
 * An environment whose namespace changes in the same cluster: deployed to the new namespace
 * first, the old one removed once the new one is Ready (as a move to another cluster is, see
 * multi-cluster.test.ts). Also what an operator and a teardown do with copies left behind: a
 * cluster gone for good is forgotten with `diploid forget-left-behind`, a copy in a namespace
 * diploid did not create is emptied and left when the environment is deleted, and a first deploy
 * that never became Ready is removed when the environment moves. The reconciler is
 * wired as `diploid controller` wires it; the API server, kwok's node and the git server are the
 * shared bed's.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKubernetes } from '../../src/backends/kubernetes/index.js';
import { deployEnvironment } from '../../src/cluster/deploy.js';
import { INVENTORY_NAME, readInventory } from '../../src/cluster/environment-inventory.js';
import { ClusterConnections } from '../../src/cluster/clusters.js';
import { DEFAULT_BUILDER_IMAGE } from '../../src/cluster/build-job.js';
import { HttpRegistryClient } from '../../src/cluster/registry.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { KubeDeployer } from '../../src/controller/deployer.js';
import { kubeLeftBehindCleaner } from '../../src/controller/left-behind.js';
import { kubeSecretsHook } from '../../src/controller/ops-hooks.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { readOpsConfig, createReconciler, type ControllerSettings } from '../../src/controller/runtime.js';
import { condition, type EnvironmentStatus } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { resolveApp } from '../../src/resolve/index.js';
import { formatKeyFile, generateKeyPair } from '../../src/secrets/age-keys.js';
import { sealSecretFile } from '../../src/secrets/secret-file.js';
import { newDataKey } from '../../src/secrets/sops-cipher.js';
import { loadOpsDir } from '../../src/sources/load-dir.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { runCli, writeOpsRepo } from '../support/ops-repo.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireKubernetes, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `nm${uniqueSuffix()}`;
const staging = `${project}-staging`;
const moved = `${project}-moved`;
const PASSWORD = `pw-${uniqueSuffix()}`;

let root: GitRoot;
let ops: TestRepo;
let opsUrl: string;
let system: TestNamespace;
let reconciler: Reconciler;
let store: ConfigMapStatusStore;
const logs: string[] = [];
/** Namespaces a test makes through diploid, deleted after. */
const cleanup: string[] = [];
const core = () => kubeConfig().makeApiClient(k8s.CoreV1Api);
const apps = () => kubeConfig().makeApiClient(k8s.AppsV1Api);

const service = (name: string) => `import { defineService, secret } from 'diploid';\nexport default defineService({ name: '${name}', image: 'busybox:1.36', port: 8080, env: { DB_PASSWORD: secret('db', 'password') } });\n`;
let recipient = '';
const config = (stagingNamespace: string | undefined) => `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  secrets: { recipients: { cluster: '${recipient}' } },
  environments: { staging: {${stagingNamespace === undefined ? '' : ` namespace: '${stagingNamespace}' `}} },
  branches: [
    { branch: 'main', environment: 'staging' },
    { branch: 'stage/*', preview: { mode: 'full', base: 'staging' } },
  ],
});
`;

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  return read().then(() => true, (error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
}

async function namespaceGone(name: string): Promise<void> {
  for (const until = Date.now() + 120_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 500))) {
    if (!(await exists(() => core().readNamespace({ name })))) return;
  }
  throw new Error(`namespace ${name} still there after 120s`);
}

/**
 * Reconciles main while watching staging's status: each status seen with a copy left behind, and
 * whether the old namespace's Secret was still there at that moment (it serves the old copy).
 */
async function reconcileWatching(old: string): Promise<{ outcomes: unknown; seen: Array<{ status: EnvironmentStatus; oldSecret: boolean }> }> {
  const watcher = new ConfigMapStatusStore(kubeConfig(), system.name);
  const seen: Array<{ status: EnvironmentStatus; oldSecret: boolean }> = [];
  let done = false;
  const watching = (async () => {
    while (!done) {
      const status = await watcher.get('staging');
      if (status?.leftBehind !== undefined) seen.push({ status, oldSecret: await exists(() => core().readNamespacedSecret({ name: 'db', namespace: old })) });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const result = await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' });
    return { outcomes: result.outcomes, seen };
  } finally {
    done = true;
    await watching;
  }
}

beforeAll(async () => {
  const key = await generateKeyPair();
  recipient = key.recipient;
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  ops = root.repo('ops', {
    '.diploid.conf.js': config(undefined),
    'services/web.js': service('web'),
    'services/api.js': service('api'),
    'secrets/db.yaml': await sealSecretFile({ values: [['password', PASSWORD]], dataKey: newDataKey(), recipients: [key.recipient], now: new Date() }, 'secrets/db.yaml'),
  });
  ops.git('push', '-q', opsUrl, 'main');
  system = await freshNamespace('nm-system');
  await core().createNamespacedSecret({ namespace: system.name, body: { metadata: { name: 'diploid-age-key' }, stringData: { 'age.key': formatKeyFile(key.identity, key.recipient, new Date()) } } });
  const settings: ControllerSettings = { ops: opsUrl, locations: { urls: {} }, cacheDir: root.cache, namespace: system.name, log: (line) => void logs.push(line) };
  reconciler = createReconciler(kubeConfig(), await readOpsConfig(settings), settings, { report: async () => {} });
  store = new ConfigMapStatusStore(kubeConfig(), system.name);
});

afterAll(async () => {
  for (const name of [staging, moved, `${project}-stage-y`, ...cleanup]) await core().deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

describe('an environment whose namespace changes in the same cluster', { timeout: 300_000 }, () => {
  it('is deployed to the new namespace first, then the old one is removed; the status records the old one meanwhile; and back', async () => {
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    expect((await apps().readNamespacedDeployment({ name: 'web', namespace: staging })).status?.availableReplicas).toBe(1);

    // To a new namespace: Ready there (Secret included), then the old namespace goes.
    ops.commit('staging in its own namespace', { '.diploid.conf.js': config(moved) });
    ops.git('push', '-q', opsUrl, 'main');
    const away = await reconcileWatching(staging);
    expect(away.outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    for (const name of ['web', 'api']) expect((await apps().readNamespacedDeployment({ name, namespace: moved })).status?.availableReplicas).toBe(1);
    expect(Buffer.from((await core().readNamespacedSecret({ name: 'db', namespace: moved })).data?.['password'] ?? '', 'base64').toString()).toBe(PASSWORD);
    await namespaceGone(staging);
    // Meanwhile (while the new namespace rolled out) the status named the old one, whose Secret still served it.
    const meanwhile = away.seen.filter((item) => condition(item.status, 'Ready')?.status !== 'True');
    expect(meanwhile.length).toBeGreaterThan(0);
    for (const item of meanwhile) {
      expect(item.status.leftBehind).toMatchObject([{ namespace: staging }]);
      expect(item.status.namespace).toBe(moved);
      expect(item.oldSecret).toBe(true);
    }
    let saved = await store.get('staging');
    expect(saved?.namespace).toBe(moved);
    expect(saved?.leftBehind).toBeUndefined();
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(saved, 'Ready')?.message).toMatch(new RegExp(`; moved: [1-9]\\d* objects removed from namespace ${staging} of the controller's own cluster, namespace deleted`));
    expect(logs.some((line) => line.startsWith('staging: moved: '))).toBe(true);

    // And back: the default namespace again, the one it used meanwhile removed.
    ops.commit('staging back in its default namespace', { '.diploid.conf.js': config(undefined) });
    ops.git('push', '-q', opsUrl, 'main');
    const back = await reconcileWatching(moved);
    expect(back.outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    for (const name of ['web', 'api']) expect((await apps().readNamespacedDeployment({ name, namespace: staging })).status?.availableReplicas).toBe(1);
    expect(await exists(() => core().readNamespacedSecret({ name: 'db', namespace: staging }))).toBe(true);
    await namespaceGone(moved);
    for (const item of back.seen.filter((seen) => condition(seen.status, 'Ready')?.status !== 'True')) expect(item.oldSecret).toBe(true);
    saved = await store.get('staging');
    expect(saved?.namespace).toBe(staging);
    expect(saved?.leftBehind).toBeUndefined();
    expect(condition(saved, 'Ready')?.message).toContain(`moved: `);
    expect(condition(saved, 'Ready')?.message).toContain(`from namespace ${moved} of the controller's own cluster, namespace deleted`);
  });

  it('diploid forget-left-behind drops a copy in a cluster gone for good, which the controller otherwise retries forever', async () => {
    const gone = { name: 'gone', secret: 'cluster-gone', key: 'kubeconfig' };
    const before = await store.get('staging');
    if (before === undefined) throw new Error('staging has no status');
    await store.put({ ...before, leftBehind: [{ cluster: gone, namespace: staging, since: new Date().toISOString() }] });
    // The controller tries, and keeps the record: the cluster's Secret is gone for good.
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'unchanged' }]);
    let saved = await store.get('staging');
    expect(saved?.leftBehind).toMatchObject([{ cluster: { name: 'gone' }, namespace: staging, reason: 'ClusterSecretMissing' }]);
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'LeftBehind' });

    const cli = ['--kubeconfig', requireKubernetes().kubeconfig, '--namespace', system.name];
    const wrong = await runCli(['forget-left-behind', '-e', 'staging', '--cluster', 'prod', ...cli]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`cannot forget: staging has no copy left behind in cluster prod; it has: gone/${staging}`);
    const missing = await runCli(['forget-left-behind', '-e', 'nosuch', '--cluster', 'gone', ...cli]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`no environment "nosuch" in namespace ${system.name}`);

    const forgot = await runCli(['forget-left-behind', '-e', 'staging', '--cluster', 'gone', ...cli]);
    expect(forgot.stderr).toBe('');
    expect(forgot.code).toBe(0);
    expect(forgot.stdout).toBe(`staging: forgot gone/${staging}; the controller no longer tries to remove it. Anything still running there is yours to delete.\n`);
    saved = await store.get('staging');
    expect(saved?.leftBehind).toBeUndefined();
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(saved, 'Ready')?.message).toContain(`forgotten by an operator, not removed: namespace ${staging} in cluster gone`);
    // The next reconcile leaves it forgotten, and staging runs on untouched.
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'unchanged' }]);
    expect((await store.get('staging'))?.leftBehind).toBeUndefined();
    expect((await apps().readNamespacedDeployment({ name: 'web', namespace: staging })).status?.availableReplicas).toBe(1);
  });

  it('deleting an environment whose left-behind copy is in a namespace diploid did not create empties it of diploid\'s objects and finishes', async () => {
    // A preview, deployed for real; its record names a copy left in a namespace someone else made (an `existingNamespace`).
    ops.git('branch', 'stage/y', 'main');
    ops.git('push', '-q', opsUrl, 'stage/y');
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'stage/y', to: '' })).outcomes).toMatchObject([{ environment: 'stage-y', result: 'deployed' }]);
    const theirs = await freshNamespace('nm-theirs');
    const loaded = await loadOpsDir(writeOpsRepo({
      '.diploid.conf.js': `import { defineConfig } from 'diploid';\nexport default defineConfig({ project: '${project}', environments: { shared: { namespace: '${theirs.name}', existingNamespace: true } } });\n`,
      'services/web.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080 });\n`,
    }));
    const app = resolveApp(loaded.sources, { environment: 'shared' });
    await deployEnvironment(kubeConfig(), compileKubernetes(app).objects, { project, environment: 'shared', namespace: theirs.name, prune: true, wait: false, timeoutMs: 60_000 });
    await core().createNamespacedConfigMap({ namespace: theirs.name, body: { metadata: { name: 'hand-made' }, data: { a: 'b' } } });
    expect(await exists(() => apps().readNamespacedDeployment({ name: 'web', namespace: theirs.name }))).toBe(true);
    const status = await store.get('stage-y');
    if (status === undefined) throw new Error('stage-y has no status');
    await store.put({ ...status, leftBehind: [{ namespace: theirs.name, since: new Date().toISOString() }] });

    const result = await reconciler.reconcile({ repo: 'ops', branch: 'stage/y', closed: true });
    expect(result.outcomes).toMatchObject([{ environment: 'stage-y', result: 'deleted', reason: 'TornDown' }]);
    const message = (result.outcomes[0] as { message: string }).message;
    expect(message).toContain(`namespace ${theirs.name} in the controller's own cluster emptied of diploid's objects (`);
    expect(message).toContain('and left: diploid did not create it');
    await namespaceGone(`${project}-stage-y`);
    expect(await store.get('stage-y')).toBeUndefined();
    // Their namespace and what they made stay; diploid's objects and inventory are gone.
    expect(await exists(() => core().readNamespace({ name: theirs.name }))).toBe(true);
    expect(await exists(() => core().readNamespacedConfigMap({ name: 'hand-made', namespace: theirs.name }))).toBe(true);
    expect(await exists(() => apps().readNamespacedDeployment({ name: 'web', namespace: theirs.name }))).toBe(false);
    expect(await exists(() => core().readNamespacedConfigMap({ name: INVENTORY_NAME, namespace: theirs.name }))).toBe(false);
  });

  it('a first deploy that never became Ready leaves what it applied; a namespace change removes it once the new one is Ready', async () => {
    const kube = kubeConfig();
    const log = (line: string) => void logs.push(line);
    // As `diploid controller` wires it, but a rollout that cannot finish fails after 15 s instead of 5 min.
    // Its own ops repo (project `<project>q`, environment qa on main), so staging's pushes never deploy it first.
    const qaProject = `${project}q`;
    const qaConfig = (namespace?: string) => `import { defineConfig } from 'diploid';\nexport default defineConfig({ project: '${qaProject}', environments: { qa: {${namespace === undefined ? '' : ` namespace: '${namespace}' `}} }, branches: [{ branch: 'main', environment: 'qa' }] });\n`;
    const web = (extra: string) => `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080${extra} });\n`;
    const qaUrl = freshGitRepoUrl('opsqa');
    // web never rolls out (no node has 1000 CPUs): the first deploy stalls, never Ready, with its objects applied.
    const qaOps = root.repo('opsqa', { '.diploid.conf.js': qaConfig(), 'services/web.js': web(", resources: { cpu: '1000..1000' }") });
    qaOps.git('push', '-q', qaUrl, 'main');
    const qaStore = new ConfigMapStatusStore(kube, system.name);
    const quick = new Reconciler({
      ops: qaUrl,
      locations: { urls: {} },
      cacheDir: root.cache,
      store: qaStore,
      builder: new JobImageBuilder(kube, new HttpRegistryClient(), { namespace: system.name, image: DEFAULT_BUILDER_IMAGE }, 60_000),
      deployer: new KubeDeployer(kube, 15_000),
      reporter: { report: async () => {} },
      secrets: kubeSecretsHook(kube, system.name, log),
      leftBehind: kubeLeftBehindCleaner(kube, system.name, new ClusterConnections(kube, system.name)),
      log,
    });
    const qa = `${qaProject}-qa`;
    const qa2 = `${qaProject}-qa2`;
    cleanup.push(qa, qa2);
    expect((await quick.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'qa', result: 'stalled', reason: 'RolloutFailed' }]);
    expect(await exists(() => apps().readNamespacedDeployment({ name: 'web', namespace: qa }))).toBe(true);
    const failed = await qaStore.get('qa');
    expect(failed?.appliedRevision).toBeUndefined();
    // What the failed apply put there is recorded in the namespace's inventory all the same.
    expect((await readInventory(kube, qa)).filter((entry) => entry.kind === 'Deployment').map((entry) => entry.name)).toEqual(['web']);

    // Moved to another namespace (and fixed): Ready there, and what the failed first deploy applied goes.
    qaOps.commit('qa: own namespace, web fits', { '.diploid.conf.js': qaConfig(qa2), 'services/web.js': web('') });
    qaOps.git('push', '-q', qaUrl, 'main');
    expect((await quick.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'qa', result: 'deployed' }]);
    expect((await apps().readNamespacedDeployment({ name: 'web', namespace: qa2 })).status?.availableReplicas).toBe(1);
    await namespaceGone(qa);
    const saved = await qaStore.get('qa');
    expect(saved?.leftBehind).toBeUndefined();
    expect(condition(saved, 'Ready')?.message).toContain(`from namespace ${qa} of the controller's own cluster, namespace deleted`);
  });
});
