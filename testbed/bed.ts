/**
 * The test bed as a whole: `up` starts a control plane, a registry and a git server on loopback
 * and records them in a state folder; `down` stops exactly what `up` started and removes the
 * folder; `status` checks each part.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { binDir } from './config.js';
import { ensureBinaries } from './build.js';
import { startControlPlane } from './control-plane.js';
import { ensureDaemonSetPlacement } from './daemonset-placement.js';
import { startGitServer } from './git.js';
import { startIngress } from './ingress.js';
import { probe } from './net.js';
import { releaseMachineLock, startRealNode } from './node.js';
import { gatewayProcessName, startPodGateway } from './pod-gateway.js';
import { cleanUpNode } from './node-cleanup.js';
import { isRunning, processStartTime, type ProcessRecord, stopDaemon } from './processes.js';
import { startRegistry } from './registry.js';
import { type Part, parts, readState, stateFile, type TestbedState, writeState } from './state.js';

export type Log = (message: string) => void;

export interface UpOptions {
  readonly stateDir: string;
  readonly log: Log;
  /** Record the current process as the bed's owner (see `reapOrphans`). */
  readonly owned?: boolean;
  /** Start the real node too (default: yes, unless DIPLOID_TESTBED_REAL_NODE=0). */
  readonly realNode?: boolean;
}

/**
 * Starts the bed, or returns the running one if the state folder already holds a bed whose every
 * part answers (one that is partly dead or had a part fail is stopped and started afresh).
 * A part that cannot start is recorded in `problems` with its reason; the others still start.
 */
export async function up({ stateDir, log, owned = false, realNode = process.env['DIPLOID_TESTBED_REAL_NODE'] !== '0' }: UpOptions): Promise<{ state: TestbedState; alreadyUp: boolean }> {
  const existing = await status(stateDir);
  if (existing.state !== undefined) {
    if (existing.state.complete && existing.parts.every((p) => p.ok)) {
      await completeRunning(existing.state, log);
      return { state: existing.state, alreadyUp: true };
    }
    const broken = existing.parts.filter((p) => !p.ok).map((p) => `${p.part}: ${p.detail}`);
    log(`restarting the bed in ${stateDir}, which is not healthy (${broken.join('; ') || 'incomplete'})`);
    await down({ stateDir, log });
  }
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(join(stateDir, 'logs'), { recursive: true });

  const state: TestbedState = {
    stateDir,
    startedAt: new Date().toISOString(),
    processes: [],
    problems: {},
    complete: false,
    ...(owned && { owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' } }),
  };
  writeState(state);
  const started = (record: ProcessRecord): void => {
    state.processes.push(record);
    writeState(state);
  };
  const attempt = async (part: Part, start: () => Promise<void>): Promise<void> => {
    try {
      await start();
    } catch (error) {
      state.problems[part] = error instanceof Error ? error.message : String(error);
      log(`${part} FAILED to start: ${state.problems[part]}`);
    }
    writeState(state);
  };

  // The registry and git server start first: they are quick and don't depend on the build.
  await attempt('registry', async () => {
    state.registry = await startRegistry(stateDir, started, log);
  });
  await attempt('git', async () => {
    state.git = await startGitServer(stateDir, started, log);
  });
  await attempt('kubernetes', async () => {
    await ensureBinaries(log);
    state.kubernetes = await startControlPlane(stateDir, started, log);
  });
  if (realNode) {
    await attempt('node', async () => {
      if (state.kubernetes === undefined || state.registry === undefined) throw new Error('it needs the control plane and the registry, and one of them did not start');
      state.node = await startRealNode(stateDir, state.kubernetes, state.registry, started, log);
      await ensureDaemonSetPlacement(state.kubernetes.kubeconfig, log);
      if (state.git === undefined) throw new Error('the pod gateway needs the git server, which did not start');
      state.gateway = await startPodGateway(stateDir, { kubernetes: state.kubernetes, registry: state.registry, git: state.git }, started, log);
    });
    await attempt('ingress', async () => {
      if (state.node === undefined || state.kubernetes === undefined) throw new Error('it needs the real node, which did not start');
      state.ingress = await startIngress(stateDir, state.kubernetes, started, log);
    });
  } else {
    state.skipped = ['node', 'ingress'];
  }
  state.complete = true;
  writeState(state);
  return { state, alreadyUp: false };
}

/**
 * Adds to a healthy running bed what a bed started by older code lacks (each step is idempotent):
 * the DaemonSet placement policy of its real node.
 */
export async function completeRunning(state: TestbedState, log: Log): Promise<void> {
  if (state.node !== undefined && state.kubernetes !== undefined) await ensureDaemonSetPlacement(state.kubernetes.kubeconfig, log);
}

/**
 * Stops every recorded process, newest first, and removes the state folder (or, with
 * `keepFiles`, keeps it for its logs, minus the state file).
 */
export async function down({ stateDir, log, keepFiles = false }: Omit<UpOptions, 'owned'> & { keepFiles?: boolean }): Promise<void> {
  const state = readState(stateDir);
  if (state === undefined) {
    log(`no bed in ${stateDir}`);
  } else {
    if (state.processes.some((p) => nodeProcesses.has(p.name))) {
      // The node's parts stop in an order of their own, with the machine-wide clean-up between.
      await cleanUpNode({ dir: join(stateDir, 'node'), log, processes: state.processes });
    }
    releaseMachineLock(stateDir);
    for (const record of [...state.processes].reverse()) {
      const outcome = await stopDaemon(record);
      log(`${record.name} (pid ${record.pid}): ${outcome}`);
    }
  }
  if (keepFiles) {
    rmSync(stateFile(stateDir), { force: true });
    log(`kept ${stateDir} (logs in ${join(stateDir, 'logs')})`);
  } else {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export interface PartStatus {
  readonly part: Part;
  readonly ok: boolean;
  readonly detail: string;
}

/** Checks each part: its processes run and its endpoint answers. */
export async function status(stateDir: string): Promise<{ state: TestbedState | undefined; parts: PartStatus[] }> {
  const state = readState(stateDir);
  if (state === undefined) return { state, parts: [] };
  const result: PartStatus[] = [];
  for (const part of parts) {
    if (state.skipped?.includes(part) === true) {
      result.push({ part, ok: true, detail: 'not started (DIPLOID_TESTBED_REAL_NODE=0)' });
      continue;
    }
    const problem = state.problems[part];
    if (problem !== undefined) {
      result.push({ part, ok: false, detail: `could not start: ${problem}` });
      continue;
    }
    const dead = state.processes.filter((p) => partOf(p.name) === part && !isRunning(p)).map((p) => `${p.name} (pid ${p.pid})`);
    if (dead.length > 0) {
      result.push({ part, ok: false, detail: `not running: ${dead.join(', ')}` });
      continue;
    }
    result.push(await checkEndpoint(part, state));
  }
  return { state, parts: result };
}

/** Processes of the real node. */
const nodeProcesses = new Set(['containerd', 'kubelet', 'kube-proxy', 'coredns']);

function partOf(processName: string): Part {
  if (nodeProcesses.has(processName)) return 'node';
  if (processName === gatewayProcessName) return 'node';
  if (processName === 'traefik') return 'ingress';
  if (processName === 'registry') return 'registry';
  if (processName === 'git') return 'git';
  return 'kubernetes';
}

async function checkEndpoint(part: Part, state: TestbedState): Promise<PartStatus> {
  try {
    if (part === 'kubernetes') {
      if (state.kubernetes === undefined) return { part, ok: false, detail: 'not started (yet)' };
      const { status } = await probe(`${state.kubernetes.server}/readyz`, { Authorization: `Bearer ${state.kubernetes.token}` });
      return { part, ok: status === 200, detail: `${state.kubernetes.server} /readyz: ${status}; KUBECONFIG=${state.kubernetes.kubeconfig}` };
    }
    if (part === 'ingress') {
      if (state.ingress === undefined) return { part, ok: false, detail: 'not started (yet)' };
      const { status } = await probe(state.ingress.ping);
      return { part, ok: status === 200, detail: `traefik at ${state.ingress.url} (class ${state.ingress.className}): ping ${status}` };
    }
    if (part === 'node') {
      if (state.node === undefined) return { part, ok: false, detail: 'not started (yet)' };
      const { status } = await probe(state.node.kubeletHealthz);
      return { part, ok: status === 200, detail: `${state.node.nodeName}: kubelet ${status}; pods on ${state.node.podSubnet}, DNS ${state.node.dnsServer}` };
    }
    if (part === 'registry') {
      if (state.registry === undefined) return { part, ok: false, detail: 'not started (yet)' };
      const { status } = await probe(`${state.registry.url}/v2/`);
      return { part, ok: status === 200, detail: `${state.registry.url}/v2/: ${status}` };
    }
    if (state.git === undefined) return { part, ok: false, detail: 'not started (yet)' };
    const { status } = await probe(`${state.git.url}/healthz`);
    return { part, ok: status === 200, detail: `${state.git.url}: ${status}` };
  } catch (error) {
    return { part, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Shell lines that point tools at the bed (`eval "$(scripts/testbed env)"`). */
export function envLines(state: TestbedState): string[] {
  const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
  const lines = [`export DIPLOID_TESTBED_DIR=${quote(state.stateDir)}`];
  if (state.kubernetes !== undefined) {
    lines.push(`export KUBECONFIG=${quote(state.kubernetes.kubeconfig)}`);
    lines.push(`export PATH=${quote(binDir())}:"$PATH"`);
  }
  if (state.registry !== undefined) {
    lines.push(`export DIPLOID_TESTBED_REGISTRY=${quote(state.registry.host)}`);
  }
  if (state.git !== undefined) {
    lines.push(`export DIPLOID_TESTBED_GIT_URL=${quote(state.git.url)}`);
  }
  if (state.ingress !== undefined) {
    lines.push(`export DIPLOID_TESTBED_INGRESS_URL=${quote(state.ingress.url)}`);
  }
  if (state.gateway !== undefined) {
    // The same registry and git server at the address pods reach (an in-cluster controller's view).
    lines.push(`export DIPLOID_TESTBED_POD_REGISTRY=${quote(state.gateway.registry)}`);
    lines.push(`export DIPLOID_TESTBED_POD_GIT_URL=${quote(state.gateway.gitUrl)}`);
  }
  for (const [part, problem] of Object.entries(state.problems)) {
    lines.push(`# ${part} is NOT available: ${problem.split('\n')[0]}`);
  }
  return lines;
}

/**
 * Stops beds under `parent` whose owner process is gone: a test run killed before its teardown
 * leaves its daemons running, and the next run cleans them up. Beds without an owner (started
 * by `scripts/testbed up`) are left alone.
 */
export async function reapOrphans(parent: string, prefix: string, log: Log): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(parent).filter((name) => name.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of entries) {
    const stateDir = join(parent, name);
    let state: TestbedState | undefined;
    try {
      state = readState(stateDir);
    } catch {
      continue;
    }
    const owner = state?.owner;
    if (owner === undefined) continue;
    if (processStartTime(owner.pid) === owner.startTime) continue;
    log(`stopping an orphaned bed in ${stateDir} (its test run, pid ${owner.pid}, is gone)`);
    await down({ stateDir, log });
  }
}
