/**
 * The bed's ingress controller: Traefik, on the host, serving the cluster's Ingress objects of
 * class `traefik` (and Gateway API routes of GatewayClass `traefik`) on a loopback port. It
 * reaches pods at their addresses on the real node's bridge.
 *
 * Why Traefik: ingress-nginx is being retired by its maintainers; Traefik is widely used, pure Go
 * (it builds here from the Go module proxy), and serves both Ingress and Gateway API. HAProxy's
 * controller would need Debian's haproxy driven by another Go build; it serves no Gateway API.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binDir, cacheDir } from './config.js';
import { type ControlPlane, kubectl } from './control-plane.js';
import { freePorts, probe } from './net.js';
import { type ProcessRecord, startDaemon, waitUntil } from './processes.js';

/** The IngressClass and GatewayClass the bed's controller serves. */
export const ingressClassName = 'traefik';

export interface IngressController {
  /** http://127.0.0.1:<port>: send requests here with the route's Host header. */
  readonly url: string;
  readonly className: string;
  /** Traefik's ping endpoint, for `status`. */
  readonly ping: string;
  /** A Gateway (class `traefik`, HTTP on the same port as `url`) that HTTPRoutes of any namespace may attach to. */
  readonly gateway: { readonly name: string; readonly namespace: string };
}

/** The bed's Gateway, for diploid's `ingress: { api: 'gateway', gateway }`. */
const gateway = { name: 'testbed', namespace: 'default' } as const;

export async function startIngress(
  stateDir: string,
  plane: ControlPlane,
  started: (record: ProcessRecord) => void,
  log: (message: string) => void,
): Promise<IngressController> {
  const crds = join(cacheDir(), 'traefik-crds');
  if (!existsSync(crds)) throw new Error(`Traefik's CRDs are missing from ${crds}; run scripts/testbed build`);
  // Large CRDs exceed client-side apply's annotation limit: apply them server-side.
  for (const file of ['gateway-api.yml', 'traefik.yml']) {
    await kubectl(plane.kubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', join(crds, file)]);
  }
  await kubectl(plane.kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/middlewares.traefik.io', 'crd/httproutes.gateway.networking.k8s.io']);
  await kubectl(plane.kubeconfig, ['apply', '-f', '-'], classes());

  const dir = join(stateDir, 'traefik');
  mkdirSync(dir, { recursive: true });
  const [web, admin] = (await freePorts(2)) as [number, number];
  const config = join(dir, 'traefik.json');
  // The token lives in a file readable by root only, not on the command line.
  writeFileSync(config, staticConfig(plane, join(stateDir, 'kubernetes', 'certs', 'apiserver.crt'), web, admin), { mode: 0o600 });
  const traefik = await startDaemon('traefik', join(binDir(), 'traefik'), [`--configFile=${config}`], { stateDir });
  started(traefik);
  const ping = `http://127.0.0.1:${admin}/ping`;
  await waitUntil('traefik /ping', async () => (await probe(ping)).status === 200, { timeoutMs: 60_000, process: traefik });
  // Traefik serves a Gateway listener on the entry point with the listener's port.
  await kubectl(plane.kubeconfig, ['apply', '-f', '-'], gatewayObject(web));
  await waitUntil(`Gateway ${gateway.namespace}/${gateway.name} Programmed`, async () => {
    const { stdout } = await kubectl(plane.kubeconfig, ['get', 'gateway', gateway.name, '-n', gateway.namespace, '-o', 'jsonpath={.status.conditions[?(@.type=="Programmed")].status}']);
    return stdout.trim() === 'True';
  }, { timeoutMs: 60_000, process: traefik, intervalMs: 500 });
  log(`traefik ready at http://127.0.0.1:${web} (ingress class ${ingressClassName}, Gateway ${gateway.namespace}/${gateway.name})`);
  return { url: `http://127.0.0.1:${web}`, className: ingressClassName, ping, gateway };
}

function staticConfig(plane: ControlPlane, ca: string, web: number, admin: number): string {
  const kubernetes = { endpoint: plane.server, token: plane.token, certAuthFilePath: ca };
  return `${JSON.stringify({
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    entryPoints: { web: { address: `127.0.0.1:${web}` }, traefik: { address: `127.0.0.1:${admin}` } },
    ping: { entryPoint: 'traefik' },
    log: { level: 'INFO' },
    providers: {
      kubernetesIngress: { ...kubernetes, ingressClass: ingressClassName },
      kubernetesCRD: { ...kubernetes, allowCrossNamespace: false },
      kubernetesGateway: kubernetes,
    },
  }, null, 2)}\n`;
}

function gatewayObject(port: number): string {
  return JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: gateway,
    spec: {
      gatewayClassName: ingressClassName,
      listeners: [{ name: 'web', protocol: 'HTTP', port, allowedRoutes: { namespaces: { from: 'All' } } }],
    },
  });
}

function classes(): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: ingressClassName }, spec: { controller: 'traefik.io/ingress-controller' } },
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: ingressClassName }, spec: { controllerName: 'traefik.io/gateway-controller' } },
    ],
  });
}
