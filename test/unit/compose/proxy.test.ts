import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCompose } from '../../../src/backends/compose/index.js';
import type { ResolvedCors, ResolvedService } from '../../../src/resolve/model.js';
import { app, http8080, service } from './fixtures.js';
import { caddyError } from './peers.js';

const cors: ResolvedCors = { origins: ['https://demo.test', 'https://partner.example'], methods: ['GET', 'POST'], headers: ['Content-Type'], credentials: true, maxAge: 600 };
const grpcPort = { name: 'grpc', port: 9000, servicePort: 9000, protocol: 'grpc' as const };

function routedApp(): ResolvedService[] {
  return [
    service('api', { routes: [{ host: 'demo.test', path: '/api', port: http8080, tls: false }, { host: 'api.demo.test', path: '/', port: http8080, tls: false }], cors }),
    service('web', { routes: [{ host: 'demo.test', path: '/', port: http8080, tls: false }] }),
    service('rpc', { ports: [grpcPort], routes: [{ host: 'rpc.demo.test', path: '/', port: grpcPort, tls: true }] }),
  ];
}

describe('compose: proxy', () => {
  it('adds no proxy without routes', () => {
    const { file } = compileCompose(app([service('api')]));
    expect(file.services['diploid-proxy']).toBeUndefined();
    expect(file.configs).toBeUndefined();
  });

  it('puts Caddy in front of routed services, publishing 443 only when a route has TLS', () => {
    const { file, warnings } = compileCompose(app(routedApp()));
    expect(file.services['diploid-proxy']).toMatchObject({
      image: 'caddy:2.8-alpine',
      ports: ['80:80', '443:443'],
      depends_on: { api: { condition: 'service_started' }, rpc: { condition: 'service_started' }, web: { condition: 'service_started' } },
      cap_drop: ['ALL'],
      cap_add: ['NET_BIND_SERVICE'],
    });
    // Its Caddyfile is copied in before it starts, which Docker refuses for a read-only root.
    expect(file.services['diploid-proxy']?.read_only).toBeUndefined();
    expect(warnings).toContain(
      'service "diploid-proxy": security.readOnlyRootFilesystem: compose copies config files into the container, which Docker refuses for a read-only root file system (docker/compose#12031): the root is left writable',
    );
    const caddyfile = file.configs?.['diploid-proxy-caddyfile']?.content ?? '';
    expect(caddyfile).toContain('rpc.demo.test {\n  handle {\n    reverse_proxy h2c://rpc:9000\n  }\n}');
    expect(caddyError(caddyfile.replaceAll('$$', '$'))).toBeUndefined();
  });
});

/** The generated Caddyfile served by a real Caddy, with upstreams on this machine. */
describe('compose: proxy behaviour in Caddy', () => {
  let caddy: ChildProcess | undefined;
  const upstreams: Server[] = [];
  let port = 0;
  let dir = '';

  beforeAll(async () => {
    const addresses = new Map<string, number>();
    for (const name of ['api', 'web']) {
      const server = createServer((req, res) => res.end(`${name} ${req.method} ${req.url}`));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      upstreams.push(server);
      addresses.set(name, (server.address() as AddressInfo).port);
    }
    port = await freePort();
    const services = routedApp().filter((candidate) => candidate.name !== 'rpc');
    const generated = compileCompose(app(services)).file.configs?.['diploid-proxy-caddyfile']?.content ?? '';
    // Only addresses change: sites listen on a free port, upstreams are the local servers.
    const caddyfile = generated
      .replaceAll('$$', '$')
      .replace(/^(http:\/\/[^\s]+) \{$/gm, `$1:${port} {`)
      .replace(/reverse_proxy (\w+):8080/g, (_, name: string) => `reverse_proxy 127.0.0.1:${addresses.get(name)}`);
    dir = mkdtempSync(join(tmpdir(), 'diploid-caddy-run-'));
    writeFileSync(join(dir, 'Caddyfile'), caddyfile);
    caddy = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], { env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }, stdio: 'ignore' });
    await waitFor(async () => (await get('demo.test', '/')).status === 200);
  }, 30_000);

  afterAll(() => {
    caddy?.kill();
    for (const server of upstreams) server.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function get(host: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('routes by host and longest path prefix, keeping the path', async () => {
    expect((await get('demo.test', '/api/orders')).body).toBe('api GET /api/orders');
    expect((await get('demo.test', '/api')).body).toBe('api GET /api');
    expect((await get('demo.test', '/apiary')).body).toBe('web GET /apiary');
    expect((await get('demo.test', '/')).body).toBe('web GET /');
    expect((await get('api.demo.test', '/x')).body).toBe('api GET /x');
  });

  it('answers CORS for allowed origins only, preflight included', async () => {
    const allowed = await get('api.demo.test', '/x', { origin: 'https://partner.example' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://partner.example');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(allowed.headers.vary).toContain('Origin');
    const other = await get('api.demo.test', '/x', { origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await get('demo.test', '/api/orders', { origin: 'https://demo.test', 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://demo.test');
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(preflight.headers['access-control-allow-headers']).toBe('Content-Type');
    expect(preflight.headers['access-control-max-age']).toBe('600');
    expect((await get('demo.test', '/', { origin: 'https://demo.test' })).headers['access-control-allow-origin']).toBeUndefined();
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('caddy did not start');
}
