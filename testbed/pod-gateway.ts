/**
 * Makes the bed's loopback services reachable from pods, as a cluster's API server, registry
 * and git host are: a TCP forwarder (tcp-forward.ts) listens on the bridge's gateway address
 * (10.244.0.1, a host address that pods and the host both reach) on the same ports as the API
 * server, the registry and the git server, and the `kubernetes` Service gets an EndpointSlice
 * pointing there, so in-cluster clients (diploid's controller as a pod) reach the API server by
 * the service account's usual address. The registry under that address is plain HTTP for the
 * node's containerd (hosts.toml), so one image name serves pods, builds and the kubelet.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { testbedDir } from './config.js';
import { type ControlPlane, kubectl } from './control-plane.js';
import type { GitServer } from './git.js';
import { network, registryHostsToml } from './node-config.js';
import { isRunning, type ProcessRecord, startDaemon, waitUntil } from './processes.js';
import type { Registry } from './registry.js';
import { readState, writeState } from './state.js';

/** The bed's services at the address pods reach. */
export interface PodGateway {
  /** The bridge's gateway address, 10.244.0.1. */
  readonly address: string;
  /** `10.244.0.1:<port>`: the registry, for image references that pods, builds and the kubelet share. */
  readonly registry: string;
  /** `http://10.244.0.1:<port>`: the git server; repositories are `${gitUrl}/<name>.git`. */
  readonly gitUrl: string;
  /** `https://10.244.0.1:<port>`: the API server (pods use the `kubernetes` Service instead). */
  readonly apiServer: string;
}

/** Name of the forwarder's process record, and of the EndpointSlice it adds. */
export const gatewayProcessName = 'pod-gateway';
const sliceName = 'kubernetes-testbed-gateway';

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Starts the forwarder, adds the `kubernetes` EndpointSlice and the registry's hosts.toml. */
export async function startPodGateway(
  stateDir: string,
  parts: { kubernetes: ControlPlane; registry: Registry; git: GitServer },
  started: (record: ProcessRecord) => void,
  log: (message: string) => void,
): Promise<PodGateway> {
  const address = network.gateway;
  const apiPort = portOf(parts.kubernetes.server);
  const registryPort = Number(parts.registry.host.split(':')[1]);
  const gitPort = portOf(parts.git.url);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const forward = (port: number) => `${address}:${port}=127.0.0.1:${port}`;
  const record = await startDaemon(gatewayProcessName, process.execPath, [
    '--import', tsx,
    join(testbedDir, 'tcp-forward.ts'),
    forward(apiPort),
    forward(registryPort),
    forward(gitPort),
  ], { stateDir });
  started(record);
  for (const port of [apiPort, registryPort, gitPort]) {
    await waitUntil(`pod gateway on ${address}:${port}`, () => connects(address, port), { timeoutMs: 30_000, process: record, intervalMs: 200 });
  }
  // The API server's own endpoint reconciler is off (loopback cannot be an endpoint): this slice is the Service's.
  await kubectl(parts.kubernetes.kubeconfig, ['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'diploid-testbed' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'https', port: apiPort, protocol: 'TCP' }],
  }));
  const registry = `${address}:${registryPort}`;
  const certsDir = join(stateDir, 'node', 'certs.d', registry);
  mkdirSync(certsDir, { recursive: true });
  writeFileSync(join(certsDir, 'hosts.toml'), registryHostsToml(registry));
  log(`pod gateway on ${address}: API server :${apiPort} (Service kubernetes), registry :${registryPort}, git :${gitPort}`);
  return { address, registry, gitUrl: `http://${address}:${gitPort}`, apiServer: `https://${address}:${apiPort}` };
}

/**
 * The gateway of a running bed, started now if that bed predates it (or its forwarder died):
 * records the forwarder in the bed's state, so `down` stops it with the rest.
 */
export async function ensurePodGateway(stateDir: string, log: (message: string) => void): Promise<PodGateway> {
  const state = readState(stateDir);
  if (state === undefined) throw new Error(`no bed in ${stateDir}`);
  const running = state.processes.find((p) => p.name === gatewayProcessName && isRunning(p));
  if (state.gateway !== undefined && running !== undefined) return state.gateway;
  if (state.kubernetes === undefined || state.registry === undefined || state.git === undefined || state.node === undefined) {
    throw new Error('the pod gateway needs the control plane, the registry, the git server and the real node');
  }
  const gateway = await startPodGateway(stateDir, { kubernetes: state.kubernetes, registry: state.registry, git: state.git }, (record) => {
    state.processes = [...state.processes.filter((p) => p.name !== gatewayProcessName), record];
  }, log);
  state.gateway = gateway;
  writeState(state);
  return gateway;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
