/**
 * The local test bed, seen from the CLI: `testbed/local.ts` (TypeScript, run with tsx from this
 * checkout) starts or reuses it and answers with one JSON line, validated here. The CLI imports
 * nothing from testbed/: the bed is a development tool of this repository, not part of the package.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { UserError } from '../../errors.js';

/** What `testbed/local.ts up` reports (its `LocalBed`). */
export const localBedSchema = z.object({
  stateDir: z.string(),
  alreadyUp: z.boolean(),
  kubeconfig: z.string(),
  registry: z.string(),
  gitUrl: z.string(),
  pod: z.object({ registry: z.string(), gitUrl: z.string() }),
  ingressUrl: z.string(),
  ingressClass: z.string(),
  namespaceAnnotations: z.record(z.string(), z.string()),
  mirrored: z.array(z.string()),
  buildkitdToml: z.string(),
  controllerImage: z.string(),
  upSeconds: z.number(),
});
export type LocalBed = z.infer<typeof localBedSchema>;

/** The repository root of this checkout: the nearest folder above this file with a package.json (from src/cli/up, dist/cli/up or the bundle in dist/bundle). */
export const checkoutRoot = packageRoot(dirname(fileURLToPath(import.meta.url)));

function packageRoot(from: string): string {
  for (let folder = from; ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'package.json'))) return folder;
    if (folder === dirname(folder)) return resolve(from, '..', '..', '..');
  }
}

/** The bed's script, or a clear error when diploid runs from a package without the bed. */
function script(): string {
  const file = join(checkoutRoot, 'testbed', 'local.ts');
  if (!existsSync(file)) throw new UserError(`no local test bed in this installation (${file} is missing): run diploid from a checkout of its repository, or pass --kubeconfig to use a cluster`);
  return file;
}

/** Runs `testbed/local.ts <command>`, streaming its progress lines to `progress`; resolves with its standard output. */
function run(command: 'up' | 'down', progress: (line: string) => void): Promise<string> {
  const file = script();
  let tsx: string;
  try {
    tsx = pathToFileURL(createRequire(file).resolve('tsx')).href;
  } catch (error) {
    throw new UserError(`the local test bed needs the dev dependencies of this checkout (tsx): run npm ci in ${checkoutRoot}`, { cause: error });
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, file, command], { cwd: checkoutRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let pending = '';
    let tail: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        progress(line);
        tail = [...tail, line].slice(-10);
      }
    });
    child.on('error', (error) => reject(new UserError(`cannot run the test bed (${file}): ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      if (pending !== '') progress(pending);
      if (code === 0) resolvePromise(stdout);
      else reject(new UserError(`the local test bed did not start (exit code ${code}):\n${tail.join('\n')}`));
    });
  });
}

/** Starts the bed (building it the first time) or reuses the healthy one; see testbed/local.ts. */
export async function startLocalBed(progress: (line: string) => void): Promise<LocalBed> {
  const stdout = await run('up', progress);
  const line = stdout.trim().split('\n').pop() ?? '';
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (error) {
    throw new Error(`testbed/local.ts up printed no JSON description of the bed: ${line.slice(0, 200)}`, { cause: error });
  }
  return localBedSchema.parse(data);
}

/** Stops the bed in DIPLOID_TESTBED_DIR (or the checkout's .testbed). */
export async function stopLocalBed(progress: (line: string) => void): Promise<void> {
  await run('down', progress);
}
