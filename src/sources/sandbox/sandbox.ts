import diagnosticsChannel from 'node:diagnostics_channel';
import { posix } from 'node:path';
import { InternalError } from '../../errors.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import { DEFAULT_SANDBOX_LIMITS, startSandbox, type SandboxLimits, type SandboxProcess } from './spawn.js';

export { DEFAULT_SANDBOX_LIMITS, prestartSandbox, sandboxCommand, sandboxProcesses, type SandboxLimits } from './spawn.js';

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

/**
 * Files handed to a sandbox so far in this process, and how many times one was asked for: read by
 * the benchmarks to show that a push re-evaluates only the files it changed. Processes started
 * are counted in `spawn.ts`'s `sandboxProcesses`.
 */
export const sandboxCounters = { files: 0, calls: 0 };

/**
 * The same count for another process's eyes: `{ files }` per batch on this diagnostics channel
 * (the push benchmark's probe subscribes in the controller it runs; nothing is sent without a
 * subscriber).
 */
const evaluatedFiles = diagnosticsChannel.channel('diploid:sandbox:files');

/**
 * Evaluates files of one tree in a disposable sandbox process and returns each file's default
 * export as plain data, in the order asked. A file that times out, exhausts memory or floods the
 * output fails alone, located; the others are evaluated in a fresh process.
 */
export async function evaluateInSandbox(tree: TreeReader, paths: readonly string[], limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS): Promise<Evaluation[]> {
  const session = new SandboxSession(tree, limits);
  try {
    return await session.evaluate(paths);
  } finally {
    session.close();
  }
}

/**
 * Batches of files of one tree evaluated in turn in the same sandbox process, as long as it
 * lives: the ops repo's config, then its service files, cost one process start instead of two.
 * Files of another tree never come into it (the child keeps modules by path). `close` when done.
 */
export class SandboxSession {
  private sandbox: SandboxProcess | undefined;

  constructor(
    private readonly tree: TreeReader,
    private readonly limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS,
  ) {}

  /**
   * Like `evaluateInSandbox`, in this session's sandbox while it lives, in fresh ones after a
   * failure. `onResult` hears each file's result as it arrives, before the whole batch is done.
   */
  async evaluate(paths: readonly string[], onResult?: (path: string, evaluation: Evaluation) => void): Promise<Evaluation[]> {
    sandboxCounters.files += new Set(paths).size;
    sandboxCounters.calls++;
    if (evaluatedFiles.hasSubscribers) evaluatedFiles.publish({ files: new Set(paths).size });
    const results = new Map<string, Evaluation>();
    // Files that ran out of time once: evaluated again, alone in a fresh sandbox, under V8's watchdog.
    const watched = new Set<string>();
    let remaining = [...new Set(paths)];
    while (remaining.length > 0) {
      const sandbox = this.sandbox ?? startSandbox(this.limits);
      this.sandbox = undefined;
      const stopped = await runBatch(this.tree, remaining, this.limits, results, watched, sandbox, onResult);
      if (stopped !== undefined) {
        if (stopped.timedOut && !watched.has(stopped.path)) watched.add(stopped.path);
        else results.set(stopped.path, stopped.evaluation);
      }
      // A sandbox that ran a file under the watchdog, or was stopped, serves no other file.
      if (stopped === undefined && watched.size === 0 && sandbox.alive) this.sandbox = sandbox;
      else sandbox.end();
      remaining = remaining.filter((path) => !results.has(path));
    }
    return paths.map((path) => results.get(path)!);
  }

  /** Stops the session's process: call it once every answer is in. */
  close(): void {
    this.sandbox?.end();
    this.sandbox = undefined;
  }
}

/**
 * Runs `paths` in a sandbox sandbox; returns the file it was stopped at, if it was. The sandbox is
 * killed when stopped; otherwise it is left running, without listeners, for the caller to reuse or end.
 */
function runBatch(
  tree: TreeReader,
  paths: readonly string[],
  limits: SandboxLimits,
  results: Map<string, Evaluation>,
  watched: ReadonlySet<string>,
  sandbox: SandboxProcess,
  onResult?: (path: string, evaluation: Evaluation) => void,
): Promise<{ path: string; evaluation: Evaluation; timedOut: boolean } | undefined> {
  return new Promise((resolve, reject) => {
    // A file to watch is evaluated alone: the watchdog is its own sandbox's, nothing else waits on it.
    const first = paths.find((path) => !results.has(path));
    let pending = first !== undefined && watched.has(first) ? [first] : paths.filter((path) => !results.has(path) && !watched.has(path));
    let outputBytes = 0;
    let stopped: { path: string; evaluation: Evaluation; timedOut: boolean } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (outcome: { path: string; evaluation: Evaluation; timedOut: boolean } | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sandbox.detach();
      resolve(outcome);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sandbox.detach();
      sandbox.kill();
      reject(error);
    };
    const current = () => pending[0];
    const stop = (message: string, timedOut = false) => {
      const path = current();
      if (stopped === undefined && path !== undefined) stopped = { path, evaluation: { ok: false, message }, timedOut };
      sandbox.kill();
    };
    // Startup takes a moment of its own; after that each file has its time.
    const arm = (extraMs: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(`did not finish within ${limits.timeMs} ms (an endless loop, or a promise that never settles?)`, true), limits.timeMs + extraMs);
    };
    const write = (message: ParentMessage) => sandbox.send(`${JSON.stringify(message)}\n`);

    sandbox.attach({
      bytes: (count) => {
        outputBytes += count;
        if (outputBytes > limits.maxOutputBytes) stop(`its result is larger than ${limits.maxOutputBytes} bytes`);
      },
      line: (line) => {
        if (stopped !== undefined || settled) return;
        let message: ChildMessage;
        try {
          message = JSON.parse(line) as ChildMessage;
        } catch {
          return stop('wrote something that is not a result');
        }
        if (message.op === 'ready') return;
        if (message.op === 'read') {
          readForChild(tree, message.path, limits).then((text) => write({ op: 'source', path: message.path, text: text ?? null }), fail);
          return;
        }
        if (message.path !== current()) return stop('answered out of order');
        const evaluation: Evaluation = message.op === 'done' ? { ok: true, value: message.value, reads: message.reads } : { ok: false, message: message.message, ...(message.line === undefined ? {} : { line: message.line }) };
        results.set(message.path, evaluation);
        onResult?.(message.path, evaluation);
        pending = pending.slice(1);
        // Done: the sandbox stays up for the caller, who reuses or ends it.
        if (pending.length === 0) finish(undefined);
        else arm(0);
      },
      error: (error) => fail(new InternalError('the evaluation sandbox could not start', { cause: error })),
      close: (code, signal) => {
        if (stopped !== undefined || pending.length === 0) return finish(stopped);
        if (!sandbox.ready) return fail(new InternalError(`the evaluation sandbox did not start (${signal ?? `exit code ${code}`}): ${sandbox.stderr.trim().split('\n').slice(-3).join(' ')}`));
        finish({ path: current()!, evaluation: { ok: false, message: `stopped the evaluation (${signal ?? `exit code ${code}`}): it ran out of memory (limit ${limits.memoryMb} MB) or crashed the sandbox` }, timedOut: false });
      },
    });

    arm(5_000);
    void (async () => {
      // One write for the whole batch: a write per file cost more than the files' evaluation here.
      const messages = await Promise.all(pending.map(async (path) => JSON.stringify({ op: 'evaluate', path, text: (await readForChild(tree, path, limits)) ?? null, ...(watched.has(path) ? { watchdog: true } : {}) } satisfies ParentMessage)));
      write({ op: 'settings', label: tree.label, timeMs: limits.timeMs });
      sandbox.send(`${messages.join('\n')}\n`);
    })().catch(fail);
  });
}

/** A file of the tree for the sandbox: only normalized paths inside the tree, only up to the size limit. */
async function readForChild(tree: TreeReader, path: string, limits: SandboxLimits): Promise<string | undefined> {
  if (path === '' || path.startsWith('/') || posix.normalize(path) !== path || path.split('/').includes('..')) return undefined;
  const text = await tree.read(path);
  if (text === undefined || Buffer.byteLength(text) > limits.maxFileBytes) return undefined;
  return text;
}
