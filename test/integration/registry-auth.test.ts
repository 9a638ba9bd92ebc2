/**
 * The registry check against registries that need credentials. Real: Debian's docker-registry
 * (the CNCF distribution registry 2.8) with `auth: htpasswd` (Basic) and with `auth: token` (the
 * Bearer token flow). The token server is a small one written here (no token server is packaged
 * for Debian): it checks the Basic credentials and signs an RS256 JWT with the `access` claims the
 * registry verifies against its root certificate bundle, as Docker's token spec says.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TerminalError } from '../../src/errors.js';
import { credentialsFromDockerConfig } from '../../src/cluster/registry-auth.js';
import { HttpRegistryClient } from '../../src/cluster/registry.js';
import { binDir } from '../../testbed/config.js';
import { eventually } from './testbed.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'diploid-registry-auth-'));
const started: ChildProcess[] = [];
let tokenServer: Server | undefined;
const user = { username: 'ci', password: randomBytes(12).toString('hex') };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts docker-registry with `auth` (YAML lines under `auth:`, none when empty) on storage `name`; returns its host:port. */
async function startRegistry(name: string, auth: string, configName = name): Promise<string> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, `${configName}.yml`);
  writeFileSync(config, `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(join(dir, name))}
http:
  addr: ${host}
  secret: ${randomBytes(8).toString('hex')}
${auth === '' ? '' : `auth:\n${auth}\n`}`);
  const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  await eventually(`registry ${name} on ${host}`, async () => {
    const response = await fetch(`http://${host}/v2/`).catch(() => undefined);
    return response !== undefined && response.status === (auth === '' ? 200 : 401);
  }, 30_000, 100);
  return host;
}

/** Pushes a one-layer image with crane, authenticated (crane reads the Docker config). */
async function push(ref: string, dockerConfig: string): Promise<void> {
  const tar = join(dir, 'layer.tar');
  writeFileSync(join(dir, 'hello.txt'), 'hello\n');
  await run('tar', ['-cf', tar, '-C', dir, 'hello.txt']);
  await run(join(binDir(), 'crane'), ['append', '--insecure', '-f', tar, '-t', ref], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
}

function dockerConfigDir(host: string): string {
  const config = join(dir, `docker-${host.replace(/[^0-9]/g, '')}`);
  const auths = { [host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } };
  mkdirSync(config, { recursive: true });
  writeFileSync(join(config, 'config.json'), JSON.stringify({ auths }));
  return config;
}

let basicHost: string;
let tokenHost: string;
const tokenRequests: string[] = [];

beforeAll(async () => {
  writeFileSync(join(dir, 'htpasswd'), `${user.username}:${bcrypt.hashSync(user.password, 10)}\n`);
  basicHost = await startRegistry('basic', `  htpasswd:\n    realm: diploid-test\n    path: ${join(dir, 'htpasswd')}`);

  // The token server: Basic credentials in, a signed JWT out.
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'token.key'), '-out', join(dir, 'token.crt'), '-days', '1', '-subj', '/CN=diploid-test-token']);
  const key = readFileSync(join(dir, 'token.key'), 'utf8');
  const der = readFileSync(join(dir, 'token.crt'), 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const tokenPort = await freePort();
  tokenServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    tokenRequests.push(url.search);
    const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401).end();
      return;
    }
    const [, name = '', actions = ''] = (url.searchParams.get('scope') ?? '').split(':');
    const now = Math.floor(Date.now() / 1000);
    const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', x5c: [der] })}.${b64({ iss: 'diploid-test-issuer', sub: user.username, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access: [{ type: 'repository', name, actions: actions.split(',') }] })}`;
    const signature = createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${unsigned}.${signature}` }));
  });
  await new Promise<void>((resolve) => tokenServer?.listen(tokenPort, '127.0.0.1', resolve));
  tokenHost = await startRegistry('token', `  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: diploid-test\n    issuer: diploid-test-issuer\n    rootcertbundle: ${join(dir, 'token.crt')}`);
}, 60_000);

afterAll(() => {
  for (const child of started) child.kill();
  tokenServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the registry check with credentials', () => {
  it('answers Basic challenges (htpasswd) with the credentials of a Docker config', async () => {
    const config = dockerConfigDir(basicHost);
    await push(`${basicHost}/shop/web:t1`, config);
    const credentials = credentialsFromDockerConfig(readFileSync(join(config, 'config.json'), 'utf8'));
    const client = new HttpRegistryClient({ credentials });
    expect(await client.hasManifest(`${basicHost}/shop/web:t1`)).toBe(true);
    expect(await client.hasManifest(`${basicHost}/shop/web:t2`)).toBe(false);

    const anonymous = new HttpRegistryClient();
    await expect(anonymous.hasManifest(`${basicHost}/shop/web:t1`)).rejects.toThrow(/refused to say whether it has shop\/web:t1 \(401\); give the controller credentials for it/);
    const wrong = new HttpRegistryClient({ credentials: { [basicHost]: { username: user.username, password: 'wrong' } } });
    const error = await wrong.hasManifest(`${basicHost}/shop/web:t1`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as TerminalError).reason).toBe('RegistryUnauthorized');
    expect((error as Error).message).toContain('the credentials given for it were refused');
    expect((error as Error).message).not.toContain('wrong');
  });

  it('follows the Bearer token flow: the realm gets the credentials and the scope, the registry the token', async () => {
    // crane refuses token realms on loopback, so the image goes in through a registry without
    // auth that shares the token registry's storage.
    const open = await startRegistry('token', '', 'token-open');
    await push(`${open}/shop/api:t1`, join(dir, 'no-docker-config'));
    const config = dockerConfigDir(tokenHost);
    tokenRequests.length = 0;
    const client = new HttpRegistryClient({ credentials: credentialsFromDockerConfig(readFileSync(join(config, 'config.json'), 'utf8')) });
    expect(await client.hasManifest(`${tokenHost}/shop/api:t1`)).toBe(true);
    expect(await client.hasManifest(`${tokenHost}/shop/api:missing`)).toBe(false);
    expect(tokenRequests[0]).toBe('?service=diploid-test&scope=repository%3Ashop%2Fapi%3Apull');

    const wrong = new HttpRegistryClient({ credentials: { [tokenHost]: { username: user.username, password: 'nope' } } });
    await expect(wrong.hasManifest(`${tokenHost}/shop/api:t1`)).rejects.toThrow(/token server http:\/\/127\.0\.0\.1:\d+ of registry .* refused the credentials of ci \(401\)/);
  });
});
