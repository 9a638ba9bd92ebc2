/**
 * Two replicas of `diploid controller`, each its own process (the real CLI, from the sources),
 * against the bed's API server and git server: one holds the Lease and reconciles, both serve
 * webhooks. The leader is killed with SIGKILL in the middle of deploying a push that the other
 * replica accepted; the other takes over and converges, applying the change once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOX_NAME } from '../../src/controller/inbox.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { condition } from '../../src/controller/status.js';
import { webhookPath } from '../../src/hosts/routes.js';
import { githubSignature } from '../../src/hosts/signature.js';
import { deriveWebhookSecret } from '../../src/hosts/webhook-secret.js';
import { GitRoot, type TestRepo } from '../support/git-repos.js';
import { eventually, freshGitRepoUrl, freshNamespace, isNotFound, kubeConfig, requireKubernetes, uniqueSuffix, type TestNamespace } from './testbed.js';

const MASTER = 'replicas-master-secret-0123456789abcdef';
const project = `rep${uniqueSuffix()}`;
const production = `${project}-production`;
const CLI = fileURLToPath(new URL('../support/cli-process.ts', import.meta.url));
let root: GitRoot;
let app: TestRepo;
let appUrl: string;
let opsUrl: string;
let ops: TestRepo;
let system: TestNamespace;

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logs: string[];
  url?: string;
}
const replicas: Replica[] = [];

function service(version: string): Record<string, string> {
  return { 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'web', image: 'busybox:1.36', port: 8080, env: { VERSION: '${version}' } });\n` };
}

function startReplica(name: string, extra: readonly string[] = []): Replica {
  const args = [
    '--import', 'tsx', CLI, 'controller',
    `--ops=${opsUrl}`, `--repo-url=app=${appUrl}`, `--kubeconfig=${requireKubernetes().kubeconfig}`, `--namespace=${system.name}`,
    '--port=0', '--host=127.0.0.1', '--secret-env=DIPLOID_TEST_WEBHOOK_SECRET', '--resync=1h', `--cache=${root.cache}-${name}`, '--lease-duration=3s',
    ...extra,
  ];
  const child = spawn(process.execPath, args, { env: { ...process.env, DIPLOID_TEST_WEBHOOK_SECRET: MASTER, DIPLOID_TEST_GH_TOKEN: 'unused' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const replica: Replica = { name, child, logs: [] };
  let partial = '';
  const take = (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      replica.logs.push(line);
      const listening = /webhooks: listening on (http:\/\/\S+)/.exec(line);
      if (listening) replica.url = listening[1];
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  replicas.push(replica);
  return replica;
}

async function waitForLine(replica: Replica, pattern: RegExp, from = 0, timeoutMs = 90_000): Promise<string> {
  return eventually(`${replica.name} to log ${pattern}`, async () => replica.logs.slice(from).find((line) => pattern.test(line)), timeoutMs, 100).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- ${replica.name}:\n${replica.logs.join('\n')}`);
  });
}

function deliver(replica: Replica, delivery: string, body: { ref: string; before: string; after: string }, repo = 'app'): Promise<number> {
  const payload = Buffer.from(JSON.stringify({ ...body, repository: { full_name: `team/${repo}` } }));
  const headers = {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': githubSignature(payload, deriveWebhookSecret(MASTER, 'hub', `team/${repo}`)),
    'content-length': String(payload.length),
  };
  return new Promise((resolve, reject) => {
    const req = request(`${replica.url}${webhookPath('hub', repo)}`, { method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function live(): Promise<{ version: string | undefined; generation: number | undefined }> {
  const deployment = await kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: 'web', namespace: production });
  return { version: deployment.spec?.template.spec?.containers[0]?.env?.find((item) => item.name === 'VERSION')?.value, generation: deployment.metadata?.generation };
}

beforeAll(async () => {
  root = new GitRoot();
  opsUrl = freshGitRepoUrl('ops');
  appUrl = freshGitRepoUrl('app');
  ops = root.repo('ops', {
    // A GitHub host whose API is out of reach (port 9 refuses): commit statuses fail and are logged, deploys go on.
    '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: '${project}',
  git: { hosts: { hub: { provider: 'github', apiUrl: 'http://127.0.0.1:9', token: { env: 'DIPLOID_TEST_GH_TOKEN' } } } },
  repos: { app: { path: 'team/app', services: ['web'] } },
  environments: { production: {} },
  branches: [{ branch: 'main', environment: 'production' }],
});
`,
  });
  app = root.repo('app', service('v1'));
  ops.git('push', '-q', opsUrl, 'main');
  app.git('push', '-q', appUrl, 'main');
  system = await freshNamespace('rep-system');
});

afterAll(async () => {
  for (const replica of replicas) if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill('SIGKILL');
  await kubeConfig().makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: production }).catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
  await system?.delete();
  root?.dispose();
});

describe('two controller replicas', { timeout: 240_000 }, () => {
  it('the leader is killed in the middle of a deploy; the other replica takes over and deploys it, once', async () => {
    const a = startReplica('a');
    const b = startReplica('b');
    await waitForLine(a, /webhooks: listening on/);
    await waitForLine(b, /webhooks: listening on/);
    // Exactly one leads, and it deploys what git holds.
    const first = await Promise.race([waitForLine(a, / leads$/).then(() => a), waitForLine(b, / leads$/).then(() => b)]);
    const leader = first;
    const follower = leader === a ? b : a;
    await waitForLine(leader, /production: deployed/);
    expect((await live()).version).toBe('v1');
    expect(follower.logs.some((line) => / leads$/.test(line))).toBe(false);

    const before = await live();
    const previous = app.head();
    const next = app.commit('v2', service('v2'));
    app.git('push', '-q', appUrl, 'main');
    // The follower accepts the delivery and hands it over through the cluster.
    expect(await deliver(follower, 'd-v2', { ref: 'refs/heads/main', before: previous, after: next })).toBe(202);
    // Killed in the middle of the deploy: once its status says it is reconciling the new commit.
    const store = new ConfigMapStatusStore(kubeConfig(), system.name);
    await eventually('the leader reconciling v2', async () => {
      const status = await store.get('production');
      return status?.commit === next && condition(status, 'Reconciling')?.status === 'True';
    }, 60_000, 25);
    leader.child.kill('SIGKILL');
    const mark = follower.logs.length;

    await waitForLine(follower, / leads$/, mark);
    await eventually('v2 deployed by the new leader', async () => (await live()).version === 'v2', 90_000);
    const saved = await new ConfigMapStatusStore(kubeConfig(), system.name).get('production');
    await eventually('production Ready at v2', async () => {
      const status = await new ConfigMapStatusStore(kubeConfig(), system.name).get('production');
      return status?.commit === next && condition(status, 'Ready')?.status === 'True';
    }, 60_000);
    expect(saved).toBeDefined();
    // Applied once: one new generation, whether the old leader got to apply it or not.
    expect((await live()).generation).toBe((before.generation ?? 0) + 1);
    // Nothing left waiting in the inbox.
    await eventually('the inbox empty', async () => {
      try {
        const map = await kubeConfig().makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name: INBOX_NAME, namespace: system.name });
        return Object.keys(map.data ?? {}).length === 0;
      } catch (error) {
        return isNotFound(error);
      }
    }, 30_000);
    follower.child.kill('SIGTERM');
    await new Promise((resolve) => follower.child.once('exit', resolve));
  });

  it('a status write carries the resourceVersion it read: a stale writer cannot overwrite a newer status', async () => {
    const kube = kubeConfig();
    const stale = new ConfigMapStatusStore(kube, system.name);
    const current = new ConfigMapStatusStore(kube, system.name);
    const environment = `fence-${uniqueSuffix()}`;
    const status = { environment, namespace: 'x', updatedAt: new Date(0).toISOString(), conditions: [] };
    await current.put({ ...status, commit: 'a'.repeat(40) });
    expect((await stale.get(environment))?.commit).toBe('a'.repeat(40));
    await current.put({ ...status, commit: 'b'.repeat(40) });
    // The stale writer read before the last write: refused, and the newer status stays.
    await expect(stale.put({ ...status, commit: 'c'.repeat(40) })).rejects.toThrow(/changed by someone else since it was read/);
    expect((await new ConfigMapStatusStore(kube, system.name).get(environment))?.commit).toBe('b'.repeat(40));
    // Having read again, it may write.
    await stale.get(environment);
    await stale.put({ ...status, commit: 'c'.repeat(40) });
    expect((await current.get(environment))?.commit).toBe('c'.repeat(40));
  });

  it('a repo added to the ops config gets its webhook route without a restart', async () => {
    const otherUrl = freshGitRepoUrl('other');
    const other = root.repo('other', { 'diploid.service.js': `import { defineService } from 'diploid';\nexport default defineService({ name: 'other', image: 'busybox:1.36', port: 8080 });\n` });
    other.git('push', '-q', otherUrl, 'main');
    const replica = startReplica('c', [`--repo-url=other=${otherUrl}`, '--resync=2s']);
    await waitForLine(replica, /webhooks: listening on/);
    const push = { ref: 'refs/heads/main', before: '0'.repeat(40), after: other.head() };
    expect(await deliver(replica, 'o-1', push, 'other')).toBe(404);
    const config = readFileSync(join(ops.dir, '.diploid.conf.js'), 'utf8').replace("repos: { app: { path: 'team/app', services: ['web'] } }", "repos: { app: { path: 'team/app', services: ['web'] }, other: { path: 'team/other' } }");
    ops.commit('add the other repo', { '.diploid.conf.js': config });
    ops.git('push', '-q', opsUrl, 'main');
    await eventually('the route of the new repo', async () => (await deliver(replica, `o-${uniqueSuffix()}`, push, 'other')) === 202, 60_000, 500);
    replica.child.kill('SIGTERM');
    await new Promise((resolve) => replica.child.once('exit', resolve));
  });
});
