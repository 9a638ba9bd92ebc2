import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../../errors.js';
import type { ChildMessage, ChildSettings, ParentMessage } from './protocol.js';

/** What a sandbox may use. Each one has a test that crosses it. */
export interface SandboxLimits {
  /** Per file: its synchronous code, and the promise it may export. */
  readonly timeMs: number;
  /** V8 heap of the sandbox process. */
  readonly memoryMb: number;
  /** Bytes the sandbox may write back for one batch of files. */
  readonly maxOutputBytes: number;
  /** A file larger than this is not handed to the sandbox. */
  readonly maxFileBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { timeMs: 10_000, memoryMb: 256, maxOutputBytes: 64 * 1024 * 1024, maxFileBytes: 4 * 1024 * 1024 };

/** The files of one commit (or folder) of one repo, and nothing else. */
export interface TreeReader {
  /** Shown before paths in messages: `` for the ops repo, `repo:web/` for a service repo. */
  readonly label: string;
  /** A file's text by its path inside the tree; undefined when the tree has no such file. */
  read(path: string): Promise<string | undefined>;
}

export type Evaluation =
  | { readonly ok: true; readonly value: unknown; readonly reads: readonly string[] }
  | { readonly ok: false; readonly message: string; readonly line?: number };

const here = dirname(fileURLToPath(import.meta.url));

/** `dist/` of this diploid: the sandbox runs the built child, also when diploid runs from its sources. */
function distRoot(): string {
  const built = join(here, '../..');
  if (existsSync(join(built, 'sources/sandbox/child.js'))) return built;
  const fromSources = join(here, '../../../dist');
  if (existsSync(join(fromSources, 'sources/sandbox/child.js'))) return fromSources;
  throw new InternalError(`the evaluation sandbox is not built (no dist/sources/sandbox/child.js next to ${here}); run \`npm run build\``);
}

/** The folders of the packages the sandbox loads: sucrase (for TypeScript files) and what it depends on. */
function packageFolders(): string[] {
  packageFolderList ??= (() => {
    const folders = new Set<string>();
    const visit = (name: string, from: string) => {
      const folder = packageFolder(name, from);
      if (folder === undefined || folders.has(folder)) return;
      folders.add(folder);
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, join(folder, 'package.json'));
    };
    visit('sucrase', fileURLToPath(import.meta.url));
    return [...folders];
  })();
  return packageFolderList;
}
let packageFolderList: string[] | undefined;

/** Where package `name` lives as seen from `from`: the folder of its package.json, found from its entry. */
function packageFolder(name: string, from: string): string | undefined {
  let entry: string;
  try {
    entry = createRequire(from).resolve(name);
  } catch {
    return undefined;
  }
  for (let folder = dirname(entry); folder !== dirname(folder); folder = dirname(folder)) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return folder;
  }
  return undefined;
}

const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';

/**
 * How a sandbox process starts, before the script it runs: Node's permission model allowing reads
 * of diploid's own code only (no other file, no writes, no child processes, no workers, no
 * native addons), no code generation from strings, a heap cap, and an empty environment.
 */
export function sandboxCommand(limits: SandboxLimits): { file: string; args: string[]; options: { env: NodeJS.ProcessEnv; cwd: string; stdio: ['pipe', 'pipe', 'pipe'] } } {
  const dist = distRoot();
  return {
    file: process.execPath,
    args: [
      PERMISSION_FLAG,
      `--allow-fs-read=${dist}/`,
      ...packageFolders().map((folder) => `--allow-fs-read=${folder}/`),
      '--experimental-vm-modules',
      '--disallow-code-generation-from-strings',
      '--no-warnings',
      `--max-old-space-size=${limits.memoryMb}`,
      // A young generation of 1 MiB: evaluated files leave little garbage, and the process's memory counts with diploid's.
      '--max-semi-space-size=1',
    ],
    // Nothing of this process's environment: no tokens, no secrets, no kubeconfig.
    options: { env: {}, cwd: dist, stdio: ['pipe', 'pipe', 'pipe'] },
  };
}

/**
 * Files handed to a sandbox so far in this process, and how many times one was started: read by
 * the benchmarks to show that a push re-evaluates only the files it changed.
 */
export const sandboxCounters = { files: 0, calls: 0 };

/**
 * Evaluates files of one tree in a disposable sandbox process and returns each file's default
 * export as plain data, in the order asked. A file that times out, exhausts memory or floods the
 * output fails alone, located; the others are evaluated in a fresh process.
 */
export async function evaluateInSandbox(tree: TreeReader, paths: readonly string[], limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS): Promise<Evaluation[]> {
  sandboxCounters.files += new Set(paths).size;
  sandboxCounters.calls++;
  const results = new Map<string, Evaluation>();
  // Files that ran out of time once: evaluated again, alone in a fresh process, under V8's watchdog.
  const watched = new Set<string>();
  let remaining = [...new Set(paths)];
  while (remaining.length > 0) {
    const stopped = await runBatch(tree, remaining, limits, results, watched);
    if (stopped !== undefined) {
      if (stopped.timedOut && !watched.has(stopped.path)) watched.add(stopped.path);
      else results.set(stopped.path, stopped.evaluation);
    }
    remaining = remaining.filter((path) => !results.has(path));
  }
  return paths.map((path) => results.get(path)!);
}

/** Runs one sandbox process over `paths`; returns the file it was stopped at, if it was. */
function runBatch(
  tree: TreeReader,
  paths: readonly string[],
  limits: SandboxLimits,
  results: Map<string, Evaluation>,
  watched: ReadonlySet<string>,
): Promise<{ path: string; evaluation: Evaluation; timedOut: boolean } | undefined> {
  const settings: ChildSettings = { label: tree.label, timeMs: limits.timeMs };
  const command = sandboxCommand(limits);
  const child = spawn(command.file, [...command.args, join(distRoot(), 'sources/sandbox/child.js'), JSON.stringify(settings)], command.options) as ChildProcessWithoutNullStreams;

  return new Promise((resolve, reject) => {
    // A file to watch is evaluated alone: the watchdog is its own process's, nothing else waits on it.
    const first = paths.find((path) => !results.has(path));
    let pending = first !== undefined && watched.has(first) ? [first] : paths.filter((path) => !results.has(path) && !watched.has(path));
    let outputBytes = 0;
    let stopped: { path: string; evaluation: Evaluation; timedOut: boolean } | undefined;
    let stderr = '';
    let ready = false;
    let timer: NodeJS.Timeout | undefined;
    const current = () => pending[0];
    const stop = (message: string, timedOut = false) => {
      const path = current();
      if (stopped === undefined && path !== undefined) stopped = { path, evaluation: { ok: false, message }, timedOut };
      child.kill('SIGKILL');
    };
    // Startup takes a moment of its own; after that each file has its time.
    const arm = (extraMs: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(`did not finish within ${limits.timeMs} ms (an endless loop, or a promise that never settles?)`, true), limits.timeMs + extraMs);
    };
    const write = (message: ParentMessage) => {
      if (!child.stdin.destroyed) child.stdin.write(`${JSON.stringify(message)}\n`);
    };

    child.stdout.on('data', (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > limits.maxOutputBytes) stop(`its result is larger than ${limits.maxOutputBytes} bytes`);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    child.stdin.on('error', () => {});
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (stopped !== undefined) return;
      let message: ChildMessage;
      try {
        message = JSON.parse(line) as ChildMessage;
      } catch {
        return stop('wrote something that is not a result');
      }
      if (message.op === 'ready') {
        ready = true;
        return;
      }
      if (message.op === 'read') {
        readForChild(tree, message.path, limits).then(
          (text) => write({ op: 'source', path: message.path, text: text ?? null }),
          (error: unknown) => {
            child.kill('SIGKILL');
            reject(error);
          },
        );
        return;
      }
      if (message.path !== current()) return stop('answered out of order');
      results.set(message.path, message.op === 'done' ? { ok: true, value: message.value, reads: message.reads } : { ok: false, message: message.message, ...(message.line === undefined ? {} : { line: message.line }) });
      pending = pending.slice(1);
      if (pending.length === 0) child.stdin.end();
      else arm(0);
    });
    child.on('error', (error) => reject(new InternalError('the evaluation sandbox could not start', { cause: error })));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (stopped !== undefined || pending.length === 0) return resolve(stopped);
      if (!ready) return reject(new InternalError(`the evaluation sandbox did not start (${signal ?? `exit code ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
      resolve({ path: current()!, evaluation: { ok: false, message: `stopped the evaluation (${signal ?? `exit code ${code}`}): it ran out of memory (limit ${limits.memoryMb} MB) or crashed the sandbox` }, timedOut: false });
    });

    arm(5_000);
    void (async () => {
      // One write for the whole batch: a write per file cost more than the files' evaluation here.
      const messages = await Promise.all(pending.map(async (path) => JSON.stringify({ op: 'evaluate', path, text: (await readForChild(tree, path, limits)) ?? null, ...(watched.has(path) ? { watchdog: true } : {}) } satisfies ParentMessage)));
      if (!child.stdin.destroyed) child.stdin.write(`${messages.join('\n')}\n`);
    })().catch((error: unknown) => {
      child.kill('SIGKILL');
      reject(error);
    });
  });
}

/** A file of the tree for the sandbox: only normalized paths inside the tree, only up to the size limit. */
async function readForChild(tree: TreeReader, path: string, limits: SandboxLimits): Promise<string | undefined> {
  if (path === '' || path.startsWith('/') || posix.normalize(path) !== path || path.split('/').includes('..')) return undefined;
  const text = await tree.read(path);
  if (text === undefined || Buffer.byteLength(text) > limits.maxFileBytes) return undefined;
  return text;
}
