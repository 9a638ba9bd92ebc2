/**
 * Starting and stopping the bed's daemons. Each runs detached in its own process group with
 * its output in a log file; the state file records its pid and executable so `down` stops
 * exactly the processes `up` started, and never a stranger that reused a pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A daemon the bed started. */
export interface ProcessRecord {
  /** Short name: etcd, kube-apiserver, registry, git... */
  readonly name: string;
  readonly pid: number;
  /** The executable, as spawned; checked against /proc before signalling. */
  readonly executable: string;
  readonly args: readonly string[];
  /** Its stdout and stderr. */
  readonly log: string;
}

export interface DaemonOptions {
  readonly stateDir: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Starts a daemon, detached, and resolves once the OS has spawned it (not once it is ready). */
export async function startDaemon(
  name: string,
  executable: string,
  args: readonly string[],
  options: DaemonOptions,
): Promise<ProcessRecord> {
  const log = join(options.stateDir, 'logs', `${name}.log`);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(executable, args, {
      cwd: options.cwd ?? options.stateDir,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`cannot start ${name} (${executable}): ${error.message}`)));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${name}: no pid`);
    return { name, pid: child.pid, executable, args, log };
  } finally {
    closeSync(fd);
  }
}

/** True while the recorded process runs (and is the same program, not a reused pid). */
export function isRunning(record: ProcessRecord): boolean {
  const proc = `/proc/${record.pid}`;
  try {
    const stat = readFileSync(join(proc, 'stat'), 'utf8');
    // The state is the field after the parenthesised command name; Z is a zombie, already dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const argv0 = readFileSync(join(proc, 'cmdline'), 'utf8').split('\0')[0] ?? '';
    return argv0 === record.executable;
  } catch {
    return false;
  }
}

/**
 * When a process started (clock ticks since boot, from /proc/<pid>/stat), or undefined if it
 * doesn't exist. A pid plus its start time names a process for good, even once pids are reused.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name; starttime is field 22 overall, the 20th after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops a recorded daemon and its process group: SIGTERM, then SIGKILL after `graceMs`.
 * Returns what happened, for `down` to report.
 */
export async function stopDaemon(record: ProcessRecord, graceMs = 10_000): Promise<'stopped' | 'killed' | 'not running'> {
  if (!isRunning(record)) return 'not running';
  signal(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(record)) return 'stopped';
    await sleep(100);
  }
  signal(record.pid, 'SIGKILL');
  for (let i = 0; i < 50 && isRunning(record); i++) await sleep(100);
  return 'killed';
}

function signal(pid: number, name: NodeJS.Signals): void {
  // Detached children lead their own process group: signal the group (git http-backend
  // children of the git server, for one), falling back to the pid alone.
  try {
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone.
    }
  }
}

/** The last lines of a log, to explain a failure. */
export function tail(log: string, lines = 30): string {
  if (!existsSync(log)) return '(no log)';
  const text = readFileSync(log, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/**
 * Polls `check` until it returns true. Fails early, with the log's tail, if `process` exits;
 * fails with `what` after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; process?: ProcessRecord; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (options.process !== undefined && !isRunning(options.process)) {
      throw new Error(
        `${options.process.name} exited while waiting for ${what}; last lines of ${options.process.log}:\n${tail(options.process.log)}`,
      );
    }
    if (Date.now() > deadline) {
      const logHint = options.process === undefined ? '' : `; last lines of ${options.process.log}:\n${tail(options.process.log)}`;
      throw new Error(`timed out after ${options.timeoutMs / 1000}s waiting for ${what}${lastError ? ` (${lastError})` : ''}${logHint}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
