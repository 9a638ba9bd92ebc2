/**
 * Stops the real node and removes what it left on the machine: pods (through the CRI, so CNI
 * releases their addresses and network namespaces), containerd's shims, mounts under the node's
 * folder, kube-proxy's and the CNI plugins' iptables rules, and the bridge.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binDir } from './config.js';
import { network } from './node-config.js';
import { type ProcessRecord, isRunning, stopDaemon } from './processes.js';

const run = promisify(execFile);

export interface CleanUpOptions {
  /** The node's folder (`<state>/node`). */
  readonly dir: string;
  readonly log: (message: string) => void;
  /** The bed's recorded processes: the node's are stopped here, in the right order. */
  readonly processes?: readonly ProcessRecord[];
}

export async function cleanUpNode({ dir, log, processes = [] }: CleanUpOptions): Promise<void> {
  const bin = binDir();
  const socket = join(dir, 'containerd.sock');
  const record = (name: string): ProcessRecord | undefined => processes.find((p) => p.name === name);
  const stop = async (name: string): Promise<void> => {
    const daemon = record(name);
    if (daemon !== undefined) log(`${name} (pid ${daemon.pid}): ${await stopDaemon(daemon)}`);
  };

  // The kubelet first, so it doesn't start again what is being removed.
  await stop('kubelet');
  const containerd = record('containerd');
  if (containerd !== undefined && isRunning(containerd) && existsSync(socket)) {
    try {
      await run(join(bin, 'crictl'), [`--runtime-endpoint=unix://${socket}`, '--timeout=60s', 'rmp', '--all', '--force'], { timeout: 120_000 });
      log('removed every pod through the CRI');
    } catch (error) {
      log(`crictl rmp failed (continuing): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  await stop('containerd');
  killShims(socket, log);
  await unmountUnder(dir, log);

  await stop('kube-proxy');
  await stop('coredns');
  await run(join(bin, 'kube-proxy'), ['--cleanup', '--proxy-mode=iptables']).catch(() => undefined);
  await removeChains(log);
  await run('ip', ['route', 'del', 'unreachable', network.serviceCidr]).catch(() => undefined);
  await run('ip', ['link', 'del', network.bridge]).then(
    () => log(`deleted bridge ${network.bridge}`),
    () => undefined,
  );
}

/**
 * Shims of this containerd outlive it (they are their own sessions): kill them and the
 * containers they run (their descendants), which would otherwise be left to init.
 */
function killShims(socket: string, log: (message: string) => void): void {
  const shim = join(binDir(), 'containerd-shim-runc-v2');
  const parents = new Map<number, number>();
  const shims: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] === shim && argv.includes(socket)) shims.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  const doomed = new Set(shims);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!doomed.has(pid) && doomed.has(parent)) {
        doomed.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  if (doomed.size > 0) log(`killed ${shims.length} leftover shims and ${doomed.size - shims.length} processes they ran`);
}

/** Unmounts everything mounted under `dir`, deepest first (lazily, if busy). */
async function unmountUnder(dir: string, log: (message: string) => void): Promise<void> {
  const prefix = `${dir}/`;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((field) => field.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((path) => path.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const mount of new Set(mounts)) {
    await run('umount', [mount]).catch(() => run('umount', ['-l', mount])).catch(() => undefined);
  }
  if (mounts.length > 0) log(`unmounted ${new Set(mounts).size} mounts under ${dir}`);
}

/**
 * Removes the iptables chains the node's parts made (KUBE-* by kube-proxy and the kubelet,
 * CNI-* by the bridge and portmap plugins) and the rules that jump to them. They are the real
 * node's: one runs per machine.
 */
async function removeChains(log: (message: string) => void): Promise<void> {
  const ours = /^(KUBE-|CNI-)/;
  let removed = 0;
  for (const table of ['nat', 'filter', 'mangle']) {
    let rules: string;
    try {
      rules = (await run('iptables', ['-w', '-t', table, '-S'])).stdout;
    } catch {
      continue;
    }
    const lines = rules.split('\n');
    for (const line of lines) {
      const match = /^-A (\S+) .*-j (\S+)/.exec(line);
      if (match === null || ours.test(match[1] ?? '') || !ours.test(match[2] ?? '')) continue;
      const args = line.slice(3).match(/"[^"]*"|\S+/g)?.map((arg) => arg.replace(/^"|"$/g, '')) ?? [];
      await run('iptables', ['-w', '-t', table, '-D', ...args]).then(() => removed++, () => undefined);
    }
    const chains = lines.map((line) => /^-N (\S+)/.exec(line)?.[1]).filter((chain): chain is string => chain !== undefined && ours.test(chain));
    for (const chain of chains) await run('iptables', ['-w', '-t', table, '-F', chain]).catch(() => undefined);
    for (const chain of chains) await run('iptables', ['-w', '-t', table, '-X', chain]).then(() => removed++, () => undefined);
  }
  if (removed > 0) log(`removed ${removed} iptables chains and jumps of the node`);
}
