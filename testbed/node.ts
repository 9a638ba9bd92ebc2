/**
 * The bed's real node: containerd (with Debian's runc and CNI plugins), a kubelet joined to the
 * bed's control plane, kube-proxy (iptables) and CoreDNS, all on the host. Pods get addresses on
 * a CNI bridge; the host reaches them directly. Its images are look-alikes pushed to the bed's
 * registry by images.sh, and containerd resolves public image names to them.
 *
 * Bridges, iptables and the kubelet's cgroups belong to the whole machine, so one real node runs
 * per machine: a second bed starts without one and says which bed holds it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binDir, imagesDir, testbedDir } from './config.js';
import { type ControlPlane, kubectl } from './control-plane.js';
import { freePorts, probe } from './net.js';
import {
  containerdConfig,
  cniConfList,
  corefile,
  kubeletConfig,
  mirroredRegistries,
  mirrorHostsToml,
  network,
  nodeKindLabel,
  realNodeName,
  registryHostsToml,
} from './node-config.js';
import { cleanUpNode } from './node-cleanup.js';
import { type ProcessRecord, isRunning, processStartTime, startDaemon, waitUntil } from './processes.js';
import type { Registry } from './registry.js';
import { readState } from './state.js';

const run = promisify(execFile);

/** What a running real node offers its users. */
export interface RealNode {
  readonly nodeName: string;
  /** Folder of the node's files (containerd, kubelet root, logs of pods). */
  readonly dir: string;
  readonly containerdSocket: string;
  /** CIDR of pod addresses, reachable from the host. */
  readonly podSubnet: string;
  /** Cluster DNS address (CoreDNS on the bridge's gateway). */
  readonly dnsServer: string;
  /** The kubelet's health endpoint, for `status`. */
  readonly kubeletHealthz: string;
}

/** Which bed holds the machine's real node. */
const lockFile = '/run/diploid-testbed-real-node.json';

interface MachineLock {
  readonly stateDir: string;
  /** The process that took it (pid and start time), alive while it starts the node. */
  readonly pid: number;
  readonly startTime: string;
}

/**
 * Takes the machine's real node for `stateDir`, or throws naming the bed that holds it. The lock
 * is held while the process that took it lives (it is still starting the node) or while the
 * holder's containerd runs; otherwise it is stale, and the dead bed's leftovers are cleaned up.
 * The file is created exclusively, so two beds starting at once cannot both take it.
 */
async function takeMachineLock(stateDir: string, log: (message: string) => void): Promise<void> {
  const mine: MachineLock = { stateDir, pid: process.pid, startTime: processStartTime(process.pid) ?? '' };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockFile, `${JSON.stringify(mine)}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: MachineLock;
    try {
      holder = JSON.parse(readFileSync(lockFile, 'utf8')) as MachineLock;
    } catch {
      continue; // Being written or removed right now: look again.
    }
    const starting = processStartTime(holder.pid) === holder.startTime;
    const state = holder.stateDir === stateDir ? undefined : readState(holder.stateDir);
    const running = state?.processes.some((p) => p.name === 'containerd' && isRunning(p)) ?? false;
    if (starting || running) throw new Error(`the machine's real node belongs to the bed in ${holder.stateDir}; one real node runs per machine`);
    log(`cleaning up after the real node of a bed that is gone (${holder.stateDir})`);
    await cleanUpNode({ dir: join(holder.stateDir, 'node'), log });
    rmSync(lockFile, { force: true });
  }
  throw new Error(`could not take ${lockFile}`);
}

/** Gives the machine's real node back (only if `stateDir` holds it). */
export function releaseMachineLock(stateDir: string): void {
  if (!existsSync(lockFile)) return;
  const holder = (JSON.parse(readFileSync(lockFile, 'utf8')) as MachineLock).stateDir;
  if (holder === stateDir) rmSync(lockFile, { force: true });
}

export async function startRealNode(
  stateDir: string,
  plane: ControlPlane,
  registry: Registry,
  started: (record: ProcessRecord) => void,
  log: (message: string) => void,
): Promise<RealNode> {
  await takeMachineLock(stateDir, log);
  const bin = binDir();
  const dir = join(stateDir, 'node');
  const dirs = {
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdSocket: join(dir, 'containerd.sock'),
    certsDir: join(dir, 'certs.d'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniDataDir: join(dir, 'cni', 'ipam'),
  };
  for (const folder of [dirs.containerdRoot, dirs.containerdState, dirs.certsDir, dirs.cniConfDir, dirs.cniDataDir]) mkdirSync(folder, { recursive: true });

  // Images first: the look-alikes of public images, pushed under their public paths.
  const pushStarted = Date.now();
  await run('bash', [join(testbedDir, 'images.sh'), 'push', imagesDir(), registry.host], {
    env: { ...process.env, CRANE: join(bin, 'crane') },
    maxBuffer: 16 * 1024 * 1024,
  });
  log(`images pushed to ${registry.host} in ${((Date.now() - pushStarted) / 1000).toFixed(1)}s`);

  // The host routes pod traffic; the bridge exists before CoreDNS binds to its address.
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
  await ensureBridge();
  // A Service address kube-proxy has no rule for yet must fail like in a cluster, not leave by
  // the default route (where a proxy of this machine's network may accept any connection, and a
  // `nc -z` waiting for a dependency would pass). Pods' packets are translated before routing.
  await run('ip', ['route', 'replace', 'unreachable', network.serviceCidr]);

  writeFileSync(join(dir, 'containerd.toml'), containerdConfig(dirs));
  for (const upstream of mirroredRegistries) {
    mkdirSync(join(dirs.certsDir, upstream), { recursive: true });
    writeFileSync(join(dirs.certsDir, upstream, 'hosts.toml'), mirrorHostsToml(registry.host, upstream === 'docker.io' ? 'registry-1.docker.io' : upstream));
  }
  mkdirSync(join(dirs.certsDir, registry.host), { recursive: true });
  writeFileSync(join(dirs.certsDir, registry.host, 'hosts.toml'), registryHostsToml(registry.host));
  writeFileSync(join(dirs.cniConfDir, '10-diploid-testbed.conflist'), cniConfList(dirs.cniDataDir));

  const env = { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` };
  const containerd = await startDaemon('containerd', join(bin, 'containerd'), ['--config', join(dir, 'containerd.toml'), '--log-level', 'warn'], { stateDir, env });
  started(containerd);
  await waitUntil('containerd', async () => {
    await run(join(bin, 'ctr'), ['--address', dirs.containerdSocket, 'version']);
    return true;
  }, { timeoutMs: 60_000, process: containerd, intervalMs: 250 });
  log('containerd ready');

  const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics, dnsHealth, dnsReady] = (await freePorts(6)) as [number, number, number, number, number, number];
  writeFileSync(join(dir, 'kubelet.json'), kubeletConfig({
    containerdSocket: dirs.containerdSocket,
    port: kubeletPort,
    healthzPort: kubeletHealthz,
    podLogsDir: join(dir, 'pod-logs'),
    volumePluginDir: join(dir, 'volume-plugins'),
  }));
  await guardKubeletPort(kubeletPort);
  const kubelet = await startDaemon('kubelet', join(bin, 'kubelet'), [
    `--config=${join(dir, 'kubelet.json')}`,
    `--kubeconfig=${plane.kubeconfig}`,
    `--root-dir=${join(dir, 'kubelet')}`,
    `--cert-dir=${join(dir, 'kubelet-pki')}`,
    `--hostname-override=${realNodeName}`,
    // The API server reaches the kubelet for logs and exec at this address (on the host; the
    // kubelet refuses a loopback node address).
    `--node-ip=${network.gateway}`,
    `--node-labels=${nodeKindLabel}=real`,
    '--v=1',
  ], { stateDir, env });
  started(kubelet);

  const proxy = await startDaemon('kube-proxy', join(bin, 'kube-proxy'), [
    `--kubeconfig=${plane.kubeconfig}`,
    `--hostname-override=${realNodeName}`,
    '--proxy-mode=iptables',
    `--cluster-cidr=${network.subnet}`,
    // Pods on one bridge reach each other's Service addresses only if replies come back through
    // the host: masquerading every Service connection makes that so.
    '--masquerade-all',
    '--conntrack-max-per-core=0',
    '--bind-address=127.0.0.1',
    `--healthz-bind-address=127.0.0.1:${proxyHealthz}`,
    `--metrics-bind-address=127.0.0.1:${proxyMetrics}`,
  ], { stateDir, env });
  started(proxy);

  writeFileSync(join(dir, 'Corefile'), corefile({ kubeconfig: plane.kubeconfig, healthPort: dnsHealth, readyPort: dnsReady }));
  const coredns = await startDaemon('coredns', join(bin, 'coredns'), ['-conf', join(dir, 'Corefile')], { stateDir, env });
  started(coredns);

  await waitUntil(`node ${realNodeName} Ready`, async () => {
    const { stdout } = await kubectl(plane.kubeconfig, [
      'get', 'node', realNodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    return stdout.trim() === 'True';
  }, { timeoutMs: 120_000, process: kubelet, intervalMs: 500 });
  await waitUntil('kube-proxy /healthz', async () => (await probe(`http://127.0.0.1:${proxyHealthz}/healthz`)).status === 200, {
    timeoutMs: 60_000,
    process: proxy,
  });
  await waitUntil('CoreDNS /ready', async () => (await probe(`http://127.0.0.1:${dnsReady}/ready`)).status === 200, {
    timeoutMs: 60_000,
    process: coredns,
  });
  log(`node ${realNodeName} Ready (kubelet, containerd, kube-proxy, CoreDNS on ${network.gateway})`);
  return {
    nodeName: realNodeName,
    dir,
    containerdSocket: dirs.containerdSocket,
    podSubnet: network.subnet,
    dnsServer: network.gateway,
    kubeletHealthz: `http://127.0.0.1:${kubeletHealthz}/healthz`,
  };
}

/** The chain keeping pods away from the kubelet's port (removed with the node's other chains). */
const guardChain = 'KUBE-TESTBED-KUBELET-GUARD';

/**
 * The kubelet answers anonymous requests, for the API server's sake: drop connections to its
 * port that come from pods.
 */
async function guardKubeletPort(port: number): Promise<void> {
  await run('iptables', ['-w', '-N', guardChain]).catch(() => run('iptables', ['-w', '-F', guardChain]));
  await run('iptables', ['-w', '-A', guardChain, '-i', network.bridge, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
  await run('iptables', ['-w', '-I', 'INPUT', '-j', guardChain]);
}

/** Creates the CNI bridge with its gateway address (the bridge plugin adopts it as is). */
async function ensureBridge(): Promise<void> {
  const exists = await run('ip', ['link', 'show', network.bridge]).then(() => true, () => false);
  if (!exists) await run('ip', ['link', 'add', network.bridge, 'type', 'bridge']);
  const { stdout } = await run('ip', ['-4', 'addr', 'show', 'dev', network.bridge]);
  if (!stdout.includes(`${network.gateway}/`)) await run('ip', ['addr', 'add', `${network.gateway}/${network.prefixLength}`, 'dev', network.bridge]);
  await run('ip', ['link', 'set', network.bridge, 'up']);
}
