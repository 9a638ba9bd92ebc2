/**
 * `diploid controller` as a background process on this machine, for a bed whose registry cannot
 * yet hold diploid's own image (README: "Running the controller outside the cluster"). Its pid,
 * start time and arguments are kept in a file, so the next `up` reuses it and `down` stops exactly it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Record {
  readonly pid: number;
  readonly startTime: string;
  readonly args: readonly string[];
  readonly log: string;
}

/** Field 22 of /proc/<pid>/stat: tells a process from a later one with the same pid. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(record: Record): boolean {
  return startTime(record.pid) === record.startTime;
}

function read(file: string): Record | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Record;
}

/** Starts `node <diploid> controller ...args` in the background, or keeps the one running with the same arguments. */
export function ensureOutsideController(options: { dir: string; diploid: string; args: readonly string[]; log: (line: string) => void }): { pid: number; log: string; reused: boolean } {
  const file = join(options.dir, 'controller.json');
  const running = read(file);
  if (running !== undefined && alive(running)) {
    if (JSON.stringify(running.args) === JSON.stringify(options.args)) return { pid: running.pid, log: running.log, reused: true };
    stop(running);
  }
  const log = join(options.dir, 'controller.log');
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [options.diploid, 'controller', ...options.args], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start diploid controller (see ${log})`);
  writeFileSync(file, `${JSON.stringify({ pid, startTime: startTime(pid) ?? '', args: options.args, log } satisfies Record)}\n`);
  options.log(`controller started outside the cluster (pid ${pid}, log ${log})`);
  return { pid, log, reused: false };
}

function stop(record: Record): void {
  try {
    process.kill(record.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

/** Stops the controller recorded in `dir`, if it still runs; returns its pid when it did. */
export function stopOutsideController(dir: string): number | undefined {
  const file = join(dir, 'controller.json');
  const record = read(file);
  rmSync(file, { force: true });
  if (record === undefined || !alive(record)) return undefined;
  stop(record);
  return record.pid;
}
