/**
 * The ops repo is the whole truth: a cluster wiped to nothing (a fresh etcd) comes back from the
 * ops repo, the cluster's private key and the git tokens alone.
 *
 * A private control plane of its own (the bed's, started a second time in its own folder) is
 * set up with `diploid init`, the two Secrets `diploid plan --from-scratch` names, and one pass
 * of the controller (`diploid controller --once`, run in this process: kwok runs no containers,
 * so the controller's Deployment cannot run its image here). Every object is recorded; the
 * control plane is stopped and its folder, etcd's data with it, deleted; a new one starts
 * empty and the same steps run again. The same objects, images and Secret contents must come back.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../testbed/control-plane.js';
import { stopDaemon, type ProcessRecord } from '../../testbed/processes.js';
import { formatKeyFile, generateKeyPair } from '../../src/secrets/age-keys.js';
import { sealSecretFile } from '../../src/secrets/secret-file.js';
import { newDataKey } from '../../src/secrets/sops-cipher.js';
import { condition } from '../../src/controller/status.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { runCli } from '../support/ops-repo.js';
import { freshGitRepoUrl, requireKubernetes, uniqueSuffix } from './testbed.js';

const suffix = uniqueSuffix();
const project = `rb${suffix}`;
const group = `r${suffix}.example.com`;
const addonNs = `operators-${suffix}`;
const controllerNs = `${project}-system`;
let root: GitRoot;
let ops: TestRepo;
let opsUrl: string;
let cluster: { identity: string; recipient: string };
/** The key file as kept in the operator's safe: the same bytes go into both clusters. */
let safeCopy = '';

const CONFIG = (recipient: string) => `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  ingress: { domain: 'rebuild.test' },
  environments: { production: {}, staging: {} },
  branches: [{ branch: 'main', environment: 'production' }, { branch: 'develop', environment: 'staging' }],
  controller: { namespace: '${controllerNs}', image: 'diploid:test' },
  secrets: { recipients: { cluster: '${recipient}' } },
});
`;
const ADDONS = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: databases.${group} }
spec:
  group: ${group}
  names: { kind: Database, plural: databases }
  scope: Namespaced
  versions: [{ name: v1, served: true, storage: true, schema: { openAPIV3Schema: { type: object, properties: { spec: { type: object, x-kubernetes-preserve-unknown-fields: true } } } } }]
---
apiVersion: v1
kind: Namespace
metadata: { name: ${addonNs} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: db-operator, namespace: ${addonNs} }
spec:
  selector: { matchLabels: { app: db-operator } }
  template: { metadata: { labels: { app: db-operator } }, spec: { containers: [{ name: operator, image: 'busybox:1.36' }] } }
---
apiVersion: ${group}/v1
kind: Database
metadata: { name: main, namespace: ${addonNs} }
spec: { engine: postgres }
`;

/** One control plane in a folder of its own; `wipe` stops it and deletes the folder, etcd's data included. */
async function controlPlane(): Promise<{ plane: ControlPlane; wipe: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'diploid-rebuild-'));
  mkdirSync(join(dir, 'logs'));
  const records: ProcessRecord[] = [];
  const plane = await startControlPlane(dir, (record) => records.push(record), () => {});
  return {
    plane,
    wipe: async () => {
      for (const record of records.reverse()) await stopDaemon(record);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the user does on an empty cluster: init, the key and token Secret, then the controller runs. */
async function rebuild(kubeconfig: string): Promise<{ seconds: number; controller: string }> {
  const started = Date.now();
  const init = await runCli(['init', ops.dir, '--kubeconfig', kubeconfig, '--ops-url', opsUrl, '--no-webhooks']);
  expect(init.stderr).toContain(`kubectl -n ${controllerNs} create secret generic diploid-age-key --from-file=age.key=cluster.key`);
  expect(init.code).toBe(0);
  const kube = new k8s.KubeConfig();
  kube.loadFromFile(kubeconfig);
  const core = kube.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedSecret({ namespace: controllerNs, body: { metadata: { name: 'diploid-age-key' }, stringData: { 'age.key': safeCopy } } });
  await core.createNamespacedSecret({ namespace: controllerNs, body: { metadata: { name: 'diploid' }, stringData: { DIPLOID_WEBHOOK_SECRET: 'regenerated' } } });
  const cache = mkdtempSync(join(tmpdir(), 'diploid-rebuild-cache-'));
  const run = await runCli(['controller', '--once', '--ops', opsUrl, '--kubeconfig', kubeconfig, '--no-webhooks', '--cache', cache]);
  rmSync(cache, { recursive: true, force: true });
  // On failure, the whole output shows in the diff.
  expect({ code: run.code, stdout: run.stdout, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stdout: run.stdout, stderr: '' });
  const statuses = await new ConfigMapStatusStore(kube, controllerNs).list();
  expect(statuses.map((status) => [status.environment, condition(status, 'Ready')?.status])).toEqual([['production', 'True'], ['staging', 'True']]);
  return { seconds: (Date.now() - started) / 1000, controller: run.stdout };
}

/** Every object diploid and the add-ons made, with images and a hash of Secret data. */
async function record(kubeconfig: string): Promise<string[]> {
  const kube = new k8s.KubeConfig();
  kube.loadFromFile(kubeconfig);
  const client = k8s.KubernetesObjectApi.makeApiClient(kube);
  const lines: string[] = [];
  const kinds: Array<[string, string]> = [['v1', 'Service'], ['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'ServiceAccount'], ['apps/v1', 'Deployment'], ['rbac.authorization.k8s.io/v1', 'Role'], ['rbac.authorization.k8s.io/v1', 'RoleBinding'], [`${group}/v1`, 'Database']];
  for (const namespace of [`${project}-production`, `${project}-staging`, addonNs, controllerNs]) {
    for (const [apiVersion, kind] of kinds) {
      for (const item of (await client.list(apiVersion, kind, namespace)).items as Array<k8s.KubernetesObject & { data?: Record<string, string>; spec?: { template?: { spec?: { containers?: Array<{ image?: string }> } } } }>) {
        const name = item.metadata?.name ?? '';
        if (name === 'kube-root-ca.crt' || name === 'default' || name.startsWith('diploid-status-')) continue;
        const images = item.spec?.template?.spec?.containers?.map((container) => container.image).join(',');
        const data = kind === 'Secret' ? createHash('sha256').update(JSON.stringify(item.data ?? {})).digest('hex').slice(0, 16) : undefined;
        lines.push(`${kind} ${namespace}/${name}${images === undefined ? '' : ` images=${images}`}${data === undefined ? '' : ` data=${data}`}`);
      }
    }
  }
  for (const [apiVersion, kind, name] of [['apiextensions.k8s.io/v1', 'CustomResourceDefinition', `databases.${group}`], ['rbac.authorization.k8s.io/v1', 'ClusterRole', `diploid-secrets-${project}`]] as const) {
    const found = await client.read({ apiVersion, kind, metadata: { name } }).then(() => true, () => false);
    lines.push(`${kind} ${name} ${found ? 'present' : 'absent'}`);
  }
  return lines.sort();
}

beforeAll(async () => {
  requireKubernetes();
  cluster = await generateKeyPair();
  safeCopy = formatKeyFile(cluster.identity, cluster.recipient, new Date());
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  const secret = await sealSecretFile({ values: [['password', `pw-${suffix}`]], dataKey: newDataKey(), recipients: [cluster.recipient], now: new Date() }, 'secrets/db.yaml');
  ops = root.repo('ops', {
    '.diploid.conf.js': CONFIG(cluster.recipient),
    'services/api.js': `import { defineService, secret } from 'diploid';\nexport default defineService({ name: 'api', image: 'busybox:1.36', port: 8080, env: { DB_PASSWORD: secret('db', 'password') } });\n`,
    'services/web.js': `import { defineService, ref } from 'diploid';\nexport default defineService({ name: 'web', image: 'nginx:1.27', port: 80, env: { API: ref('api').url } });\n`,
    'secrets/db.yaml': secret,
    'addons/database.yaml': ADDONS,
  });
  ops.git('remote', 'add', 'origin', opsUrl);
  ops.git('push', '-q', opsUrl, 'main');
  ops.git('push', '-q', opsUrl, 'main:develop');
});

afterAll(() => {
  root?.dispose();
});

describe('a cluster wiped to nothing comes back from the ops repo, its key and its tokens', { timeout: 600_000 }, () => {
  it('plan --from-scratch names the key and nothing else from outside git; a rebuild brings back every object', async () => {
    const needs = await runCli(['plan', '--from-scratch', ops.dir, '-o', 'json']);
    const plan = JSON.parse(needs.stdout) as { outsideGit: Array<{ kind: string; where: string }> };
    expect(plan.outsideGit).toEqual([expect.objectContaining({ kind: 'key', where: `Secret ${controllerNs}/diploid-age-key, key age.key` })]);

    const first = await controlPlane();
    let before: string[];
    let firstSeconds: number;
    try {
      firstSeconds = (await rebuild(first.plane.kubeconfig)).seconds;
      before = await record(first.plane.kubeconfig);
    } finally {
      await first.wipe();
    }
    expect(before).toContain(`Deployment ${project}-production/api images=busybox:1.36`);
    expect(before).toContain(`Deployment ${addonNs}/db-operator images=busybox:1.36`);
    expect(before).toContain(`Database ${addonNs}/main`);
    expect(before.some((line) => line.startsWith(`Secret ${project}-production/db data=`))).toBe(true);
    expect(before).toContain(`CustomResourceDefinition databases.${group} present`);

    const second = await controlPlane();
    try {
      const kube = new k8s.KubeConfig();
      kube.loadFromFile(second.plane.kubeconfig);
      // Nothing of the first cluster is left: a fresh etcd.
      await expect(kube.makeApiClient(k8s.CoreV1Api).readNamespace({ name: controllerNs })).rejects.toMatchObject({ code: 404 });
      const { seconds } = await rebuild(second.plane.kubeconfig);
      const after = await record(second.plane.kubeconfig);
      expect(after).toEqual(before);
      process.stderr.write(`[rebuild] init to every environment Ready: first install ${firstSeconds.toFixed(1)} s, after the wipe ${seconds.toFixed(1)} s (${after.length} objects)\n`);
    } finally {
      await second.wipe();
    }
  });
});
