/**
 * One ops repo, two clusters: staging deploys to the shared bed (the controller's own cluster),
 * production to a second bed started here (kwok only, its own ports and folder), reached with a
 * kubeconfig the user put into a Secret of the controller's namespace. The reconciler is wired
 * exactly as `diploid controller` wires it (`createReconciler`); both API servers, their kwok
 * nodes and the git server are real.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOpsConfig, createReconciler, type ControllerSettings } from '../../src/controller/runtime.js';
import type { Reconciler } from '../../src/controller/reconciler.js';
import { condition, STATUS_LABEL } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { readInventory } from '../../src/cluster/environment-inventory.js';
import { formatKeyFile, generateKeyPair } from '../../src/secrets/age-keys.js';
import { sealSecretFile } from '../../src/secrets/secret-file.js';
import { newDataKey } from '../../src/secrets/sops-cipher.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { startSecondBed, type SecondBed } from './second-bed.js';
import { runCli } from '../support/ops-repo.js';
import { freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireKubernetes, uniqueSuffix, type TestNamespace } from './testbed.js';

const project = `mc${uniqueSuffix()}`;
const staging = `${project}-staging`;
const production = `${project}-production`;
const canary = `${project}-canary`;
/** Strings of the broken kubeconfig that must never show in a status or a log line. */
const MARKERS = ['leak-token-7f3a9c', 'leak-command-51be'];
const PASSWORD = `pw-${uniqueSuffix()}`;

let root: GitRoot;
let ops: TestRepo;
let opsUrl: string;
let system: TestNamespace;
let second: SecondBed;
let reconciler: Reconciler;
let recipient: string;
const logs: string[] = [];

function service(name: string, version: string): string {
  return `import { defineService, secret } from 'diploid';\nexport default defineService({ name: '${name}', image: 'busybox:1.36', port: 8080, env: { VERSION: '${version}', DB_PASSWORD: secret('db', 'password') } });\n`;
}

const home = () => kubeConfig();
const appsOf = (kube: k8s.KubeConfig) => kube.makeApiClient(k8s.AppsV1Api);
const coreOf = (kube: k8s.KubeConfig) => kube.makeApiClient(k8s.CoreV1Api);

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Waits until a namespace is deleted for good (its objects with it). */
async function namespaceGone(kube: k8s.KubeConfig, name: string): Promise<void> {
  for (const until = Date.now() + 120_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 500))) {
    if (!(await exists(() => coreOf(kube).readNamespace({ name })))) return;
  }
  throw new Error(`namespace ${name} still there after 120s`);
}

async function putClusterSecret(name: string, kubeconfig: string): Promise<void> {
  const core = coreOf(home());
  const body = { metadata: { name, namespace: system.name }, stringData: { kubeconfig } };
  await core.deleteNamespacedSecret({ name, namespace: system.name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await core.createNamespacedSecret({ namespace: system.name, body });
}

/** The ops config; `stagingCluster` goes inside staging's entry (a move names a cluster there). */
function opsConfig(recipient: string, stagingCluster = ''): string {
  return `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  clusters: { prod: { kubeconfigSecret: 'cluster-prod' }, broken: { kubeconfigSecret: 'cluster-broken' } },
  secrets: { recipients: { cluster: '${recipient}' } },
  environments: { staging: {${stagingCluster}}, production: { cluster: 'prod' }, canary: { cluster: 'broken' } },
  branches: [
    { branch: 'main', environment: 'staging' },
    { branch: 'prod', environment: 'production' },
    { branch: 'canary', environment: 'canary' },
    { branch: 'feature/*', preview: { mode: 'full', base: 'production' } },
    { branch: 'stage/*', preview: { mode: 'full', base: 'staging' } },
  ],
});
`;
}

beforeAll(async () => {
  second = await startSecondBed();
  const key = await generateKeyPair();
  recipient = key.recipient;
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  ops = root.repo('ops', {
    '.diploid.conf.js': opsConfig(key.recipient),
    'services/web.js': service('web', 'w1'),
    'services/api.js': service('api', 'a1'),
    'secrets/db.yaml': await sealSecretFile({ values: [['password', PASSWORD]], dataKey: newDataKey(), recipients: [key.recipient], now: new Date() }, 'secrets/db.yaml'),
  });
  for (const branch of ['prod', 'canary']) ops.git('branch', branch);
  ops.git('push', '-q', opsUrl, 'main', 'prod', 'canary');
  system = await freshNamespace('mc-system');
  await putClusterSecret('cluster-prod', second.kubeconfig);
  // The key that decrypts the ops repo's secrets stays home, with the controller.
  await coreOf(home()).createNamespacedSecret({ namespace: system.name, body: { metadata: { name: 'diploid-age-key' }, stringData: { 'age.key': formatKeyFile(key.identity, key.recipient, new Date()) } } });
  const settings: ControllerSettings = { ops: opsUrl, locations: { urls: {} }, cacheDir: root.cache, namespace: system.name, log: (line) => void logs.push(line) };
  reconciler = createReconciler(home(), await readOpsConfig(settings), settings, { report: async () => {} });
});

afterAll(async () => {
  for (const name of [staging, production, canary, `${project}-stage-x`]) {
    await coreOf(home()).deleteNamespace({ name }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  }
  await system?.delete();
  await second?.stop();
  root?.dispose();
});

describe('an ops repo driving two clusters', { timeout: 300_000 }, () => {
  it('deploys staging to the controller\'s cluster and production to the second, each only there; the status stays home and names the cluster', async () => {
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' })).outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'prod', to: '' })).outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);

    // Staging: home only.
    expect((await appsOf(home()).readNamespacedDeployment({ name: 'web', namespace: staging })).status?.availableReplicas).toBe(1);
    expect(await exists(() => coreOf(second.kube).readNamespace({ name: staging }))).toBe(false);
    // Production: the second cluster only, rolled out there by its own kwok node, with its inventory there.
    for (const name of ['web', 'api']) {
      const deployment = await appsOf(second.kube).readNamespacedDeployment({ name, namespace: production });
      expect(deployment.status?.availableReplicas).toBe(1);
      expect(deployment.status?.updatedReplicas).toBe(1);
    }
    expect(await exists(() => coreOf(second.kube).readNamespacedConfigMap({ name: 'diploid-inventory', namespace: production }))).toBe(true);
    expect(await exists(() => coreOf(home()).readNamespace({ name: production }))).toBe(false);
    // The ops repo's Secret, decrypted at home, is written where the environment runs.
    const db = await coreOf(second.kube).readNamespacedSecret({ name: 'db', namespace: production });
    expect(Buffer.from(db.data?.['password'] ?? '', 'base64').toString()).toBe(PASSWORD);
    expect(await exists(() => coreOf(home()).readNamespacedSecret({ name: 'db', namespace: staging }))).toBe(true);

    // Statuses live in the controller's cluster, and production's names its cluster.
    const store = new ConfigMapStatusStore(home(), system.name);
    const saved = await store.get('production');
    expect(saved?.cluster).toEqual({ name: 'prod', secret: 'cluster-prod', key: 'kubeconfig' });
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    // The inventory of what was applied is the namespace's own, in the cluster it went to.
    expect((await readInventory(second.kube, production)).some((entry) => entry.kind === 'Deployment' && entry.name === 'api' && entry.namespace === production)).toBe(true);
    expect((await store.get('staging'))?.cluster).toBeUndefined();
    const remoteStatuses = await coreOf(second.kube).listConfigMapForAllNamespaces({ labelSelector: `${STATUS_LABEL}=true` });
    expect(remoteStatuses.items).toEqual([]);
  });

  it('applies a change, waits for its rollout and prunes by inventory in the second cluster', async () => {
    ops.checkout('prod');
    ops.commit('web w2, api gone', { 'services/web.js': service('web', 'w2'), 'services/api.js': null });
    ops.git('push', '-q', opsUrl, 'prod');
    ops.checkout('main');
    const result = await reconciler.reconcile({ repo: 'ops', branch: 'prod', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'production', result: 'deployed' }]);
    expect(result.outcomes[0]?.message).toMatch(/, [1-9]\d* pruned/);

    const web = await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: production });
    expect(web.spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')?.value).toBe('w2');
    expect(web.status?.updatedReplicas).toBe(1);
    expect(web.status?.availableReplicas).toBe(1);
    expect(await exists(() => appsOf(second.kube).readNamespacedDeployment({ name: 'api', namespace: production }))).toBe(false);
    // Staging, at home, still runs both.
    expect(await exists(() => appsOf(home()).readNamespacedDeployment({ name: 'api', namespace: staging }))).toBe(true);
  });

  it('puts a preview of production in production\'s cluster, and tears it down there', async () => {
    const preview = `${project}-feature-x`;
    ops.git('branch', 'feature/x', 'main');
    ops.git('push', '-q', opsUrl, 'feature/x');
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'feature/x', to: '' })).outcomes).toMatchObject([{ environment: 'feature-x', result: 'deployed' }]);
    expect((await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: preview })).status?.availableReplicas).toBe(1);
    expect(await exists(() => coreOf(home()).readNamespace({ name: preview }))).toBe(false);
    expect((await new ConfigMapStatusStore(home(), system.name).get('feature-x'))?.cluster?.name).toBe('prod');

    const closed = await reconciler.reconcile({ repo: 'ops', branch: 'feature/x', closed: true });
    expect(closed.outcomes).toMatchObject([{ environment: 'feature-x', result: 'deleted', reason: 'TornDown' }]);
    expect(closed.outcomes[0]?.message).toContain(`namespace ${preview} deleted`);
    const gone = await coreOf(second.kube).readNamespace({ name: preview }).then((item) => item.metadata?.deletionTimestamp !== undefined, (error: unknown) => (isNotFound(error) ? true : Promise.reject(error)));
    expect(gone).toBe(true);
    expect(await new ConfigMapStatusStore(home(), system.name).get('feature-x')).toBeUndefined();
  });

  it('a missing or broken cluster Secret fails only its environment, with a clear reason, and never shows the kubeconfig', async () => {
    const store = new ConfigMapStatusStore(home(), system.name);
    let result = await reconciler.reconcile({ repo: 'ops', branch: 'canary', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'canary', result: 'retry', reason: 'ClusterSecretMissing' }]);
    expect(result.outcomes[0]?.message).toContain(`Secret ${system.name}/cluster-broken does not exist`);
    expect(condition(await store.get('canary'), 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterSecretMissing' });

    // A kubeconfig that would run a command in the controller's pod, and send a token.
    await putClusterSecret('cluster-broken', `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: ${MARKERS[0]}, exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: ['-c', 'echo ${MARKERS[1]}'] } } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
    result = await reconciler.reconcile({ repo: 'ops', branch: 'canary', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'canary', result: 'retry', reason: 'ClusterSecretInvalid' }]);
    expect(result.outcomes[0]?.message).toMatch(/cluster broken: Secret .*\/cluster-broken key "kubeconfig": uses users\[0\]\.user\.exec/);
    const canaryStatus = await store.get('canary');
    expect(condition(canaryStatus, 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterSecretInvalid' });

    // Not a YAML document at all: the parser's message (which quotes the text) is not passed on.
    await putClusterSecret('cluster-broken', `clusters: [ { server: "${MARKERS[0]}" ]\n  : ${MARKERS[1]}\n`);
    result = await reconciler.reconcile({ repo: 'ops', branch: 'canary', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'canary', result: 'retry', reason: 'ClusterSecretInvalid' }]);
    expect(result.outcomes[0]?.message).toContain('is not a kubeconfig');

    const shown = JSON.stringify([await store.list(), logs, result]);
    for (const marker of MARKERS) expect(shown).not.toContain(marker);
    // Nothing of canary anywhere; the other environments are untouched and Ready.
    expect(await exists(() => coreOf(home()).readNamespace({ name: canary }))).toBe(false);
    expect(await exists(() => coreOf(second.kube).readNamespace({ name: canary }))).toBe(false);
    for (const environment of ['staging', 'production']) expect(condition(await store.get(environment), 'Ready')).toMatchObject({ status: 'True' });

    // Fixed in the cluster, not in git: the next try deploys, without a restart.
    await putClusterSecret('cluster-broken', second.kubeconfig);
    result = await reconciler.reconcile({ repo: 'ops', branch: 'canary', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'canary', result: 'deployed' }]);
    expect((await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: canary })).status?.availableReplicas).toBe(1);
    expect((await store.get('canary'))?.cluster?.name).toBe('broken');
  });

  it('diploid apply, status and logs reach an environment where the controller does: through its Secret, or --cluster-kubeconfig', async () => {
    const homeArgs = ['--kubeconfig', requireKubernetes().kubeconfig];
    // main renders production with api again: apply re-creates it, in the second cluster only.
    const applied = await runCli(['apply', ops.dir, '--env', 'production', ...homeArgs, '--controller-namespace', system.name, '--timeout', '90']);
    expect(applied.stderr).toContain(`environment production is in cluster prod: kubeconfig from Secret ${system.name}/cluster-prod`);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`created Deployment ${production}/api`);
    expect((await appsOf(second.kube).readNamespacedDeployment({ name: 'api', namespace: production })).status?.availableReplicas).toBe(1);
    expect(await exists(() => coreOf(home()).readNamespace({ name: production }))).toBe(false);

    const file = join(root.cache, 'second.kubeconfig');
    writeFileSync(file, second.kubeconfig, { mode: 0o600 });
    const direct = await runCli(['apply', ops.dir, '--env', 'production', '--kubeconfig', '/nonexistent', '--cluster-kubeconfig', file, '--timeout', '90']);
    expect(direct.stderr).toContain(`using --cluster-kubeconfig ${file}`);
    expect(direct.code).toBe(0);
    const wrong = await runCli(['apply', ops.dir, '--env', 'staging', ...homeArgs, '--cluster-kubeconfig', file]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('environment staging names no cluster');

    const status = await runCli(['status', '-e', 'production', ...homeArgs, '--namespace', system.name]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^cluster: +prod$/m);
    expect(status.stdout).toMatch(/^ {2}api +Deployment +1\/1/m);
    const list = await runCli(['status', ...homeArgs, '--namespace', system.name]);
    expect(list.stdout).toMatch(/^production .*cluster prod/m);

    // Without the Secret: status still reads, saying why the services cannot be; apply and logs refuse, saying what to do.
    await coreOf(home()).deleteNamespacedSecret({ name: 'cluster-broken', namespace: system.name });
    const unreadable = await runCli(['status', '-e', 'canary', ...homeArgs, '--namespace', system.name]);
    expect(unreadable.code).toBe(0);
    expect(unreadable.stdout).toContain(`not readable: cluster broken: Secret ${system.name}/cluster-broken does not exist`);
    const refused = await runCli(['apply', ops.dir, '--env', 'canary', ...homeArgs, '--controller-namespace', system.name]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Secret ${system.name}/cluster-broken does not exist`);
    expect(refused.stderr).toContain('--cluster-kubeconfig');
    const logsRefused = await runCli(['logs', 'web', '-e', 'canary', ...homeArgs, '--namespace', system.name]);
    expect(logsRefused.code).toBe(1);
    expect(logsRefused.stderr).toContain(`Secret ${system.name}/cluster-broken does not exist`);
  });

  it('moves staging (and, with its branch, a preview of it) to the second cluster and back: deployed there first, then the old copy removed by inventory; an unreachable old cluster is named in the status and cleaned up once reachable', async () => {
    const store = new ConfigMapStatusStore(home(), system.name);
    expect(condition(await store.get('staging'), 'Ready')).toMatchObject({ status: 'True' });
    expect(await exists(() => appsOf(home()).readNamespacedDeployment({ name: 'web', namespace: staging }))).toBe(true);
    // A preview of staging, from an ops branch made before the move: at home too.
    const preview = `${project}-stage-x`;
    ops.git('branch', 'stage/x', 'main');
    ops.git('push', '-q', opsUrl, 'stage/x');
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'stage/x', to: '' })).outcomes).toMatchObject([{ environment: 'stage-x', result: 'deployed' }]);
    expect((await appsOf(home()).readNamespacedDeployment({ name: 'web', namespace: preview })).status?.availableReplicas).toBe(1);

    // 1. Home -> prod: deployed and Ready in prod, then the home copy goes (by inventory, and its namespace).
    ops.commit('staging moves to prod', { '.diploid.conf.js': opsConfig(recipient, " cluster: 'prod' ") });
    ops.git('push', '-q', opsUrl, 'main');
    let result = await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    for (const name of ['web', 'api']) expect((await appsOf(second.kube).readNamespacedDeployment({ name, namespace: staging })).status?.availableReplicas).toBe(1);
    expect(Buffer.from((await coreOf(second.kube).readNamespacedSecret({ name: 'db', namespace: staging })).data?.['password'] ?? '', 'base64').toString()).toBe(PASSWORD);
    await namespaceGone(home(), staging);
    let saved = await store.get('staging');
    expect(saved?.cluster?.name).toBe('prod');
    expect(saved?.leftBehind).toBeUndefined();
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(saved, 'Ready')?.message).toMatch(new RegExp(`moved: [1-9]\\d* objects removed from namespace ${staging} of the controller's own cluster, namespace deleted`));
    expect(logs.some((line) => line.startsWith(`staging: moved: `))).toBe(true);
    // The preview renders its own branch, which still says home: untouched by staging's move.
    expect((await appsOf(home()).readNamespacedDeployment({ name: 'web', namespace: preview })).status?.availableReplicas).toBe(1);
    // Its branch takes the move: it is deployed in prod, and its home copy removed, the same way.
    ops.git('branch', '-f', 'stage/x', 'main');
    ops.git('push', '-q', '-f', opsUrl, 'stage/x');
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'stage/x', to: '' })).outcomes).toMatchObject([{ environment: 'stage-x', result: 'deployed' }]);
    expect((await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: preview })).status?.availableReplicas).toBe(1);
    await namespaceGone(home(), preview);
    expect((await store.get('stage-x'))?.leftBehind).toBeUndefined();
    expect((await store.get('stage-x'))?.cluster?.name).toBe('prod');
    expect((await reconciler.reconcile({ repo: 'ops', branch: 'stage/x', closed: true })).outcomes).toMatchObject([{ environment: 'stage-x', result: 'deleted' }]);
    await namespaceGone(second.kube, preview);

    // 2. Back home while prod's Secret is gone: home is deployed, the prod copy is left, and the status says where, what and why.
    await coreOf(home()).deleteNamespacedSecret({ name: 'cluster-prod', namespace: system.name });
    ops.commit('staging back home', { '.diploid.conf.js': opsConfig(recipient) });
    ops.git('push', '-q', opsUrl, 'main');
    result = await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'staging', result: 'deployed' }]);
    for (const name of ['web', 'api']) expect((await appsOf(home()).readNamespacedDeployment({ name, namespace: staging })).status?.availableReplicas).toBe(1);
    expect(await exists(() => appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: staging }))).toBe(true);
    saved = await store.get('staging');
    expect(saved?.cluster).toBeUndefined();
    expect(saved?.leftBehind).toMatchObject([{ cluster: { name: 'prod' }, namespace: staging, reason: 'ClusterSecretMissing' }]);
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'LeftBehind' });
    expect(condition(saved, 'Ready')?.message).toContain(`left behind: namespace ${staging} in cluster prod`);
    expect(condition(saved, 'Ready')?.message).toContain(`Secret ${system.name}/cluster-prod does not exist`);
    const listed = await runCli(['status', '--kubeconfig', requireKubernetes().kubeconfig, '--namespace', system.name]);
    expect(listed.stdout).toMatch(new RegExp(`^staging .*left behind: prod/${staging}`, 'm'));

    // 3. The cluster down (its server refuses connections): still tracked, the reason says so.
    await putClusterSecret('cluster-prod', second.kubeconfig.replace(/server: .*/, 'server: https://127.0.0.1:1'));
    result = await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'staging', result: 'unchanged' }]);
    saved = await store.get('staging');
    expect(saved?.leftBehind).toMatchObject([{ cluster: { name: 'prod' }, namespace: staging, reason: 'ClusterUnreachable' }]);
    expect(saved?.leftBehind?.[0]?.message).toContain('127.0.0.1:1');
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'LeftBehind' });
    expect(await exists(() => appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: staging }))).toBe(true);

    // 4. Reachable again: the next reconcile (here one that finds nothing new to deploy) removes the prod copy.
    await putClusterSecret('cluster-prod', second.kubeconfig);
    result = await reconciler.reconcile({ repo: 'ops', branch: 'main', to: '' });
    expect(result.outcomes).toMatchObject([{ environment: 'staging', result: 'unchanged' }]);
    await namespaceGone(second.kube, staging);
    saved = await store.get('staging');
    expect(saved?.leftBehind).toBeUndefined();
    expect(condition(saved, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(condition(saved, 'Ready')?.message).toContain(`objects removed from namespace ${staging} of cluster prod, namespace deleted`);
    expect((await appsOf(home()).readNamespacedDeployment({ name: 'web', namespace: staging })).status?.availableReplicas).toBe(1);
    // Production, in prod all along, is untouched by staging's moves.
    expect((await appsOf(second.kube).readNamespacedDeployment({ name: 'web', namespace: production })).status?.availableReplicas).toBe(1);
    expect(JSON.stringify([await store.list(), logs])).not.toContain(PASSWORD);
  });
});
