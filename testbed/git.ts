/** Starts the bed's git server (testbed/git-http-server.ts) as a daemon. */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { testbedDir } from './config.js';
import { freePort, probe } from './net.js';
import { type ProcessRecord, startDaemon, waitUntil } from './processes.js';

export interface GitServer {
  /** http://127.0.0.1:<port>; repositories are `${url}/<name>.git`. */
  readonly url: string;
  /** Folder of the bare repositories it serves. */
  readonly root: string;
}

export async function startGitServer(
  stateDir: string,
  started: (record: ProcessRecord) => void,
  log: (message: string) => void,
): Promise<GitServer> {
  const root = join(stateDir, 'git');
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  // tsx is resolved from here, not from the caller's working directory (and not with
  // import.meta.resolve, which vitest's module runner lacks).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const git = await startDaemon('git', process.execPath, [
    '--import', tsx,
    join(testbedDir, 'git-http-server.ts'),
    '--root', root,
    '--port', String(port),
  ], { stateDir });
  started(git);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('git server', async () => (await probe(`${url}/healthz`)).status === 200, {
    timeoutMs: 30_000,
    process: git,
  });
  log(`git server ready at ${url}`);
  return { url, root };
}
