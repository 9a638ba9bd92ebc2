import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { CONTROLLER_RUNTIME_ENV } from '../src/controller/manifests.js';
import { up } from '../testbed/bed.js';
import { serviceName, writeOpsRepo, type AppShape } from './generate.js';
import { fileURLToPath } from 'node:url';

/** One size's figures: a first deploy, then pushes that each change one service's image. */
export interface PushResult {
  readonly services: number;
  /** From the controller process's start until it served webhooks, and its resident memory then. */
  readonly startMs: number;
  readonly startRssMiB: number;
  readonly firstDeployMs: number;
  /**
   * From the first deploy's status Ready until the cluster was at rest, when the timed pushes start
   * (`cluster-settle.mjs`: no API writes but heartbeats for 5 s, kube-controller-manager's queues
   * empty); the pushes made right after the first deploy fall inside it.
   */
  readonly settleMs: number;
  /** False when the cluster was still busy at the wait's timeout (the pushes then started anyway). */
  readonly atRest: boolean;
  /** Pushes started right after the first deploy, before the cluster was at rest (information). */
  readonly earlyPushMs: readonly number[];
  readonly earlyP50Ms?: number;
  readonly pushMs: readonly number[];
  readonly p50Ms: number;
  /** Files evaluated in a sandbox per push (median): only the changed file when the cache works. */
  readonly evaluationsPerPush: number;
  /** API requests the controller made per push (median), and git commands it ran. */
  readonly apiRequestsPerPush: number;
  readonly gitCommandsPerPush: number;
  /** The controller process's resident memory after the last push, and after the first. */
  readonly rssMiB: number;
  readonly rssAfterFirstPushMiB: number;
  /** After each push, to show whether memory stays flat. */
  readonly rss: readonly number[];
}

export interface PushOptions {
  readonly root: string;
  readonly work: string;
  readonly pushes: number;
  readonly stateDir: string;
}

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
    // Room for 110 bench pods (100m and 128Mi each), not more: tests on a bed shared with the
    // bench make pods no node can hold by asking 1000 CPUs.
    const capacity = { cpu: '64', memory: '256Gi', pods: String(PODS_PER_NODE) };
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

/** The service file with one replica (each pod is one kwok must play). */
function oneReplica(ops: string, index: number): string {
  return readFileSync(join(ops, 'services', `${serviceName(index)}.js`), 'utf8').replace('replicas: 2', 'replicas: 1');
}

/**
 * The ops config with a git host and the ops repo's path on it: `diploid controller` serves a
 * webhook route for each repo its config names (`/hooks/bed/ops` here). The host's token is never
 * set, so commit statuses are not sent anywhere (the controller logs that it could not).
 */
function withWebhookRoute(config: string): string {
  return config.replace('  branches:', "  git: { hosts: { bed: { provider: 'github', token: { env: 'DIPLOID_BENCH_NO_TOKEN' } } } },\n  ops: { path: 'bench/ops' },\n  branches:");
}

const child = fileURLToPath(new URL('./push-child.mjs', import.meta.url));

/**
 * Pushes to an ops repo of `services` services on the bed and times, from the signed webhook
 * delivery, until the environment's status is Ready at the pushed commit and the changed
 * Deployment's new ReplicaSet is available. The bed is started here (or reused when up); the
 * controller runs from the build as `diploid controller`, a process of its own started by
 * `push-child.mjs`, so its memory is its own.
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
  for (let i = 0; i < services; i++) writeFileSync(join(ops, 'services', `${serviceName(i)}.js`), oneReplica(ops, i));
  writeFileSync(join(ops, '.diploid.conf.js'), withWebhookRoute(readFileSync(join(ops, '.diploid.conf.js'), 'utf8')));
  git(ops, 'init', '-q', '-b', 'main');
  git(ops, 'add', '-A');
  git(ops, 'commit', '-q', '-m', 'services');
  const url = `${state.git.url}/bench-ops-${services}-${Date.now()}.git`;
  git(ops, 'push', '-q', url, 'main');
  const cacheDir = join(options.work, `push-cache-${services}`);
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  try {
    const out = execFileSync(process.execPath, [child, options.root, String(services), String(options.pushes), ops, url, state.kubernetes.kubeconfig, cacheDir, ...(state.kubernetes.controllerManagerMetrics === undefined ? [] : [state.kubernetes.controllerManagerMetrics])], {
      encoding: 'utf8',
      // The controller's Node runs as its Deployment runs it (`diploid init`); push-child.mjs starts it.
      env: { ...process.env, ...CONTROLLER_RUNTIME_ENV },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as PushResult;
  } finally {
    await deleteNamespace(kube, NAMESPACE).catch(() => undefined);
  }
}
