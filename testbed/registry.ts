/**
 * A real image registry on loopback: Debian's `docker-registry` package, the CNCF distribution
 * registry (v2 API), storing blobs in the state folder.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, probe } from './net.js';
import { type ProcessRecord, startDaemon, waitUntil } from './processes.js';

/** Debian's package installs the registry binary here. */
const registryBinary = '/usr/bin/docker-registry';

export interface Registry {
  /** host:port, as used in image references (`127.0.0.1:5000/app:tag`). */
  readonly host: string;
  /** http://host:port */
  readonly url: string;
}

/**
 * Finds the registry binary, installing Debian's package when it is missing and we may
 * (root, apt-get present). Throws a reason when neither works.
 */
export function ensureRegistryBinary(log: (message: string) => void): string {
  if (hasBinary(registryBinary)) return registryBinary;
  if (process.getuid?.() !== 0) {
    throw new Error(`${registryBinary} is missing and installing it needs root: apt-get install docker-registry`);
  }
  log('docker-registry is missing: apt-get install docker-registry');
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['install', '-y', '-qq', 'docker-registry'], { stdio: 'inherit', env });
  } catch {
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', '-qq', 'docker-registry'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (error) {
      throw new Error(`could not apt-get install docker-registry: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!hasBinary(registryBinary)) throw new Error(`apt-get installed docker-registry but ${registryBinary} is still missing`);
  return registryBinary;
}

function hasBinary(path: string): boolean {
  try {
    execFileSync(path, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startRegistry(
  stateDir: string,
  started: (record: ProcessRecord) => void,
  log: (message: string) => void,
): Promise<Registry> {
  const binary = ensureRegistryBinary(log);
  const dir = join(stateDir, 'registry');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(join(dir, 'data'))}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: ${host}
  secret: ${randomBytes(16).toString('hex')}
health:
  storagedriver:
    enabled: false
`);
  const registry = await startDaemon('registry', binary, ['serve', config], { stateDir });
  started(registry);
  const url = `http://${host}`;
  await waitUntil('registry /v2/', async () => (await probe(`${url}/v2/`)).status === 200, {
    timeoutMs: 30_000,
    process: registry,
  });
  log(`registry ready at ${url}`);
  return { host, url };
}
