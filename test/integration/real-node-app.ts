/**
 * What the real-node tests deploy: an ops repo whose services run a small Node HTTP server (the
 * `node:20-alpine` look-alike, the server given as a diploid file), applied with `diploid apply`
 * into a namespace whose pods run on the bed's real node; and helpers that ask the running pods
 * over HTTP from the host, as a user would.
 */
import * as k8s from '@kubernetes/client-node';
import { request } from 'node:http';
import { runCli, type CliRun, writeOpsRepo } from '../support/ops-repo.js';
import { eventually, freshNamespace, kubeConfig, requireKubernetes, requireRealNode } from './testbed.js';

/**
 * The app: answers `/` with what it sees of itself (user, writes to the root file system and
 * /tmp, capabilities), `/healthz` for readiness (500 when READY=fail), `/livez` for liveness
 * (500 once LIVE_FOR seconds have passed), `/file?path=` with a file under /etc/app. It starts
 * listening only after LISTEN_AFTER seconds.
 */
export const SERVER_JS = `
const http = require('node:http');
const fs = require('node:fs');
const startedAt = Date.now();
let listeningAt;
const env = process.env;
function attempt(fn) { try { fn(); return 'ok'; } catch (error) { return error.code || String(error); } }
function status(field) {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\\n').find((l) => l.startsWith(field + ':'));
  return line ? line.split(/\\s+/)[1] : undefined;
}
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  if (url.pathname === '/healthz') return send(env.READY === 'fail' ? 500 : 200, { ready: env.READY !== 'fail' });
  if (url.pathname === '/livez') {
    const alive = env.LIVE_FOR === undefined || Date.now() - startedAt < Number(env.LIVE_FOR) * 1000;
    return send(alive ? 200 : 500, { alive });
  }
  if (url.pathname === '/file') {
    const path = url.searchParams.get('path') || '';
    if (!path.startsWith('/etc/app/')) return send(400, { error: 'only /etc/app' });
    try { return send(200, { content: fs.readFileSync(path, 'utf8') }); } catch (error) { return send(404, { error: error.code }); }
  }
  send(200, {
    version: env.VERSION,
    hostname: require('node:os').hostname(),
    uid: process.getuid(),
    gid: process.getgid(),
    startedAt,
    listeningAt,
    rootWrite: attempt(() => fs.writeFileSync('/written-by-app', 'x')),
    tmpWrite: attempt(() => fs.writeFileSync('/tmp/written-by-app', 'x')),
    capEff: status('CapEff'),
    noNewPrivs: status('NoNewPrivs'),
  });
});
setTimeout(() => server.listen(8080, () => { listeningAt = Date.now(); console.log('listening at', listeningAt); }), Number(env.LISTEN_AFTER || 0) * 1000);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** What `/` answers. */
export interface AppReport {
  readonly version?: string;
  readonly hostname: string;
  readonly uid: number;
  readonly gid: number;
  readonly startedAt: number;
  readonly listeningAt: number;
  readonly rootWrite: string;
  readonly tmpWrite: string;
  readonly capEff: string;
  readonly noNewPrivs: string;
}

/** defineService's object for a service running the app; `extra` adds to it (its `files` to the server's). */
export function appSpec(name: string, extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Record<string, unknown> {
  return {
    name,
    image: 'node:20-alpine',
    command: ['node', '/app/server.js'],
    port: 8080,
    env,
    ...extra,
    files: { '/app/server.js': SERVER_JS, ...(extra['files'] as Record<string, string> | undefined) },
  };
}

/** A service file running the app (see `appSpec`). */
export function appService(name: string, extra: Record<string, unknown> = {}, env: Record<string, string> = {}): string {
  return `import { defineService } from 'diploid';\nexport default defineService(${JSON.stringify(appSpec(name, extra, env), null, 2)});\n`;
}

export function opsConfig(namespace: string, extra = ''): string {
  return `import { defineConfig } from 'diploid';
export default defineConfig({
  project: 'realnode',
  ingress: { domain: 'realnode.test', className: 'traefik' },
  environments: { test: { namespace: '${namespace}' } },
  ${extra}
});
`;
}

/** A namespace on the real node for one test (deleted when it ends), and an ops repo writer for it. */
export async function realNodeNamespace(prefix: string): Promise<string> {
  requireRealNode();
  return (await freshNamespace(prefix, { node: 'real' })).name;
}

/** `diploid apply OPS --env test` against the bed. */
export async function apply(files: Readonly<Record<string, string>>, timeoutSeconds = 90): Promise<CliRun> {
  const dir = writeOpsRepo(files);
  return runCli(['apply', dir, '--env', 'test', '--kubeconfig', requireKubernetes().kubeconfig, '--timeout', String(timeoutSeconds)]);
}

/** A plain HTTP request from the host. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function http(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 5s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Running pods of a service (label app.kubernetes.io/name=<service>). */
export async function pods(namespace: string, service: string): Promise<k8s.V1Pod[]> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const list = await core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/name=${service}` });
  return list.items;
}

/** The address of the one ready pod of a service, once it has one. */
export async function readyPodIp(namespace: string, service: string): Promise<string> {
  return eventually(`a ready pod of ${service} in ${namespace}`, async () => {
    const ready = (await pods(namespace, service)).filter((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready[0]?.status?.podIP;
  }, 90_000, 500);
}

/**
 * A GET of the app at a pod's address. A service without a readiness check has its pod Ready as
 * soon as its container starts, a moment before Node listens: the request is tried again for a
 * few seconds.
 */
export function podGet(ip: string, path = '/'): Promise<HttpResponse> {
  return eventually(`the app at ${ip}:8080 to answer`, () => http(`http://${ip}:8080${path}`), 10_000, 200);
}

/** What the app at a pod's address reports. */
export async function report(ip: string): Promise<AppReport> {
  const response = await podGet(ip);
  if (response.status !== 200) throw new Error(`GET http://${ip}:8080/ answered ${response.status}: ${response.body}`);
  return JSON.parse(response.body) as AppReport;
}
