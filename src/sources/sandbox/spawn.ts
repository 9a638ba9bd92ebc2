import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../../errors.js';

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

const here = dirname(fileURLToPath(import.meta.url));

/**
 * `dist/` of this diploid: the sandbox runs the built child, also when diploid runs from its
 * sources (src/sources/sandbox) or from its bundle (dist/bundle, one folder below).
 */
export function distRoot(): string {
  const built = join(here, '../..');
  if (existsSync(join(built, 'sources/sandbox/child.js'))) return built;
  const bundled = join(here, '..');
  if (existsSync(join(bundled, 'sources/sandbox/child.js'))) return bundled;
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

/**
 * Where package `name` lives as seen from `from`: the first `node_modules/<name>` with a manifest
 * in `from`'s folder or above (Node's own lookup, without resolving an entry point: that cost
 * 20 ms of every command's start for sucrase's twenty packages), as a real path.
 */
function packageFolder(name: string, from: string): string | undefined {
  for (let folder = dirname(from); ; folder = dirname(folder)) {
    const candidate = join(folder, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (folder === dirname(folder)) return undefined;
  }
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
      // No optimizing compiler: files run once, and its code and threads cost 5 MiB of 55 at 1000 files for no time saved.
      '--no-opt',
    ],
    // Nothing of this process's environment: no tokens, no secrets, no kubeconfig.
    options: { env: {}, cwd: dist, stdio: ['pipe', 'pipe', 'pipe'] },
  };
}

/** Sandbox processes started so far in this process (prestarted or not); read by tests. */
export const sandboxProcesses = { started: 0 };

/** What a batch of files does with the process's output while it holds the process. */
export interface ProcessListener {
  line(line: string): void;
  bytes(count: number): void;
  error(error: Error): void;
  close(code: number | null, signal: NodeJS.Signals | null): void;
}

/**
 * A started sandbox process (`child.js`). It may be started before anyone has files for it (see
 * `prestartSandbox`) and may serve several batches of one tree in turn; output that arrives while
 * no batch holds it is kept for the next one. Each batch tells it the tree's settings first.
 */
export class SandboxProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** The child said it started: a process that ends before this could not start at all. */
  ready = false;
  stderr = '';
  private listener: ProcessListener | undefined;
  private readonly backlog: string[] = [];
  private failed: Error | undefined;
  private closed: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(readonly memoryMb: number) {
    const command = sandboxCommand({ ...DEFAULT_SANDBOX_LIMITS, memoryMb });
    sandboxProcesses.started++;
    this.child = spawn(command.file, [...command.args, join(distRoot(), 'sources/sandbox/child.js')], command.options) as ChildProcessWithoutNullStreams;
    this.child.stdout.on('data', (chunk: Buffer) => this.listener?.bytes(chunk.length));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000)));
    this.child.stdin.on('error', () => {});
    createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      if (line === READY_LINE) this.ready = true;
      if (this.listener === undefined) this.backlog.push(line);
      else this.listener.line(line);
    });
    this.child.on('error', (error) => {
      this.failed = error;
      this.listener?.error(error);
    });
    this.child.on('close', (code, signal) => {
      this.closed = { code, signal };
      this.listener?.close(code, signal);
    });
  }

  /** Still running and usable for another batch. */
  get alive(): boolean {
    return this.failed === undefined && this.closed === undefined && this.child.exitCode === null && this.child.signalCode === null && !this.child.killed && !this.child.stdin.destroyed;
  }

  /** A batch takes the process: what it missed is replayed to it, and the process keeps diploid running. */
  attach(listener: ProcessListener): void {
    this.listener = listener;
    this.setRef(true);
    for (const line of this.backlog.splice(0)) listener.line(line);
    if (this.failed !== undefined) listener.error(this.failed);
    else if (this.closed !== undefined) listener.close(this.closed.code, this.closed.signal);
  }

  /** The batch is done with it; an idle process never keeps diploid from exiting. */
  detach(): void {
    this.listener = undefined;
    this.setRef(false);
  }

  send(text: string): void {
    if (!this.child.stdin.destroyed) this.child.stdin.write(text);
  }

  /**
   * No more files. Every answer is in, so the process is stopped at once rather than told to exit:
   * closing its input would reach it only when diploid next waits for I/O, and diploid goes on to
   * resolve and render synchronously, with the idle sandbox's memory still counted.
   */
  end(): void {
    if (this.alive) this.kill();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private setRef(on: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as Array<{ ref?: () => void; unref?: () => void }>) {
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }
}

/** The child's first line, as `child.ts` writes it. */
const READY_LINE = JSON.stringify({ op: 'ready' });

let prestarted: SandboxProcess | undefined;

/**
 * Starts a sandbox process now, before any file is known, so that Node's start-up in it runs on
 * another core while diploid loads its own modules. The first batch that needs a process with the
 * same memory limit takes it; until then it holds nothing and waits for its settings and files.
 */
export function prestartSandbox(memoryMb = DEFAULT_SANDBOX_LIMITS.memoryMb): void {
  if (prestarted !== undefined) return;
  prestarted = new SandboxProcess(memoryMb);
  prestarted.detach();
}

/** The prestarted process when it fits, else a new one. */
export function startSandbox(limits: SandboxLimits): SandboxProcess {
  const ready = prestarted;
  if (ready !== undefined && ready.alive && ready.memoryMb === limits.memoryMb) {
    prestarted = undefined;
    return ready;
  }
  return new SandboxProcess(limits.memoryMb);
}
