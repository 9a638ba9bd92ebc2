import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ConfigMapDeliveryLog } from '../src/controller/delivery-log.js';
import { EventQueue } from '../src/controller/event-queue.js';
import { ControllerLoop } from '../src/controller/loop.js';
import { readResyncRequests } from '../src/controller/resync.js';
import { createReconciler } from '../src/controller/runtime.js';
import { ConfigMapStatusStore } from '../src/controller/status-store.js';
import { condition } from '../src/controller/status.js';
import { startWebhookServer } from '../src/controller/webhook-server.js';
import { webhookPath, webhookRoutes } from '../src/hosts/routes.js';
import { githubSignature } from '../src/hosts/signature.js';
import { deriveWebhookSecret } from '../src/hosts/webhook-secret.js';
import { sandboxCounters } from '../src/sources/sandbox/sandbox.js';
import { up } from '../testbed/bed.js';
import { serviceName, writeOpsRepo, type AppShape } from './generate.js';
import { median } from './measure.js';

/** One size's figures: a first deploy, then pushes that each change one service's image. */
export interface PushResult {
  readonly services: number;
  readonly firstDeployMs: number;
  readonly pushMs: readonly number[];
  readonly p50Ms: number;
  /** Files evaluated in a sandbox per push (median): only the changed file when the cache works. */
  readonly evaluationsPerPush: number;
  /** The controller process's resident memory after the last push, and after the first. */
  readonly rssMiB: number;
  readonly rssAfterFirstPushMiB: number;
}

export interface PushOptions {
  readonly root: string;
  readonly work: string;
  readonly pushes: number;
  readonly stateDir: string;
}

const MASTER = 'bench-master-secret-0123456789abcdef0123';
const NAMESPACE = 'bench-production';
const PODS_PER_NODE = 250;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@example.com' } }).trim();
}

/** Enough kwok nodes for `pods` pods (the bed starts with one of 110). */
async function ensureNodes(kube: k8s.KubeConfig, pods: number): Promise<void> {
  const core = kube.makeApiClient(k8s.CoreV1Api);
  const wanted = Math.ceil(pods / PODS_PER_NODE);
  for (let i = 0; i < wanted; i++) {
    const name = `bench-node-${i}`;
    const capacity = { cpu: '1000', memory: '4Ti', pods: String(PODS_PER_NODE) };
    try {
      await core.createNode({ body: { metadata: { name, annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' }, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' } }, spec: {}, status: { allocatable: capacity, capacity } } });
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
    }
  }
}

async function deleteNamespace(kube: k8s.KubeConfig, name: string): Promise<void> {
  const core = kube.makeApiClient(k8s.CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return;
    throw error;
  }
  for (;;) {
    try {
      await core.readNamespace({ name });
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The service file with one replica (pods are what kwok must play) and the given image tag. */
function serviceText(ops: string, index: number, tag: string): string {
  const file = join(ops, 'services', `${serviceName(index)}.js`);
  return readFileSync(file, 'utf8').replace(/image: '([^:']+):[^']*'/, `image: '$1:${tag}'`);
}

/**
 * Pushes to an ops repo of `services` services on the bed and times, from the signed webhook
 * delivery, until the environment's status is Ready at the pushed commit and the changed
 * Deployment's new ReplicaSet is available. The controller runs in this process, wired as
 * `diploid controller` wires it (webhook server, delivery log, queue, loop, reconciler).
 */
export async function benchPush(services: number, options: PushOptions): Promise<PushResult> {
  const { state } = await up({ stateDir: options.stateDir, log: (line) => process.stderr.write(`[testbed] ${line}\n`) });
  if (state.kubernetes === undefined || state.git === undefined) throw new Error(`the bed did not start: ${JSON.stringify(state.problems)}`);
  const kube = new k8s.KubeConfig();
  kube.loadFromFile(state.kubernetes.kubeconfig);
  const system = `bench-system-${services}`;
  await deleteNamespace(kube, NAMESPACE);
  await deleteNamespace(kube, system);
  await kube.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: system } } });
  await ensureNodes(kube, services + 50);

  const shape: AppShape = { services, environments: 1 };
  const ops = join(options.work, `push-ops-${services}`);
  writeOpsRepo(ops, shape);
  for (let i = 0; i < services; i++) writeFileSync(join(ops, 'services', `${serviceName(i)}.js`), serviceText(ops, i, '1.0').replace('replicas: 2', 'replicas: 1'));
  git(ops, 'init', '-q', '-b', 'main');
  git(ops, 'add', '-A');
  git(ops, 'commit', '-q', '-m', 'services');
  const url = `${state.git.url}/bench-ops-${services}-${Date.now()}.git`;
  git(ops, 'push', '-q', url, 'main');

  const cacheDir = join(options.work, `push-cache-${services}`);
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const log = (line: string) => {
    if (process.env.DIPLOID_BENCH_VERBOSE !== undefined) process.stderr.write(`${line}\n`);
  };
  const locations = { urls: { ops: url } };
  const config = { project: 'bench' } as Parameters<typeof createReconciler>[1];
  const reconciler = createReconciler(kube, config, { ops: url, locations, cacheDir, namespace: system, log });
  const store = new ConfigMapStatusStore(kube, system);
  const queue = new EventQueue();
  const target = { hostName: 'bed', host: { provider: 'github' as const, token: { env: 'UNUSED' } }, repo: { name: 'ops', path: 'bench/ops' } };
  const server = await startWebhookServer({ routes: webhookRoutes([target], MASTER), queue, deliveries: new ConfigMapDeliveryLog(kube, system), port: 0, log });
  const loop = new ControllerLoop({ queue, reconciler, resync: () => readResyncRequests({ ops: url, locations, cacheDir, store }), resyncMs: 3_600_000, log });
  const apps = kube.makeApiClient(k8s.AppsV1Api);

  const deliver = async (before: string, after: string, id: string): Promise<void> => {
    const payload = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', before, after, created: false, deleted: false, repository: { full_name: 'bench/ops' } }));
    const response = await fetch(`${server.url}${webhookPath('bed', 'ops')}`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': githubSignature(payload, deriveWebhookSecret(MASTER, 'bed', 'bench/ops')) },
    });
    if (response.status >= 300) throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
  };
  const readyAt = async (commit: string, changed: string | undefined, image: string | undefined, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await store.get('production');
      if (status?.commit === commit && condition(status, 'Ready')?.status === 'True') {
        if (changed === undefined) return;
        const live = await apps.readNamespacedDeployment({ name: changed, namespace: NAMESPACE });
        const s = live.status;
        const done = live.spec?.template.spec?.containers[0]?.image === image && (s?.observedGeneration ?? 0) >= (live.metadata?.generation ?? 1) && s?.updatedReplicas === 1 && s?.availableReplicas === 1 && (s?.replicas ?? 0) === 1;
        if (done) return;
      }
      if (Date.now() > deadline) throw new Error(`not Ready at ${commit} in ${timeoutMs / 1000}s: ${JSON.stringify(status?.conditions)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  loop.start();
  try {
    let before = '0'.repeat(40);
    let head = git(ops, 'rev-parse', 'HEAD');
    let started = performance.now();
    await deliver(before, head, `first-${services}`);
    await readyAt(head, undefined, undefined, 1_800_000);
    const firstDeployMs = performance.now() - started;
    const times: number[] = [];
    const evaluations: number[] = [];
    let rssAfterFirstPushMiB = 0;
    for (let push = 1; push <= options.pushes; push++) {
      const index = (push * 37) % services;
      const name = serviceName(index);
      const tag = `1.${push}`;
      writeFileSync(join(ops, 'services', `${name}.js`), serviceText(ops, index, tag));
      git(ops, 'commit', '-q', '-am', `${name} ${tag}`);
      before = head;
      head = git(ops, 'rev-parse', 'HEAD');
      git(ops, 'push', '-q', url, 'main');
      const image = /image: '([^']+)'/.exec(readFileSync(join(ops, 'services', `${name}.js`), 'utf8'))![1];
      const evaluated = sandboxCounters.files;
      started = performance.now();
      await deliver(before, head, `push-${services}-${push}`);
      await readyAt(head, name, image, 600_000);
      times.push(performance.now() - started);
      evaluations.push(sandboxCounters.files - evaluated);
      if (push === 1) rssAfterFirstPushMiB = process.memoryUsage().rss / 1048576;
      process.stderr.write(`  ${services} services, push ${push}: ${times.at(-1)!.toFixed(0)} ms, ${evaluations.at(-1)} files evaluated\n`);
    }
    global.gc?.();
    return { services, firstDeployMs, pushMs: times, p50Ms: median(times), evaluationsPerPush: median(evaluations), rssMiB: process.memoryUsage().rss / 1048576, rssAfterFirstPushMiB };
  } finally {
    await server.close();
    await loop.stop();
    await deleteNamespace(kube, NAMESPACE).catch(() => undefined);
  }
}
