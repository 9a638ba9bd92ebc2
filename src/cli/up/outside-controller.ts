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

/** Starts `diploid controller ...args` in the background, or keeps the one running with the same arguments. */
export async function ensureOutsideController(options: { dir: string; args: readonly string[]; log: (line: string) => void }): Promise<{ pid: number; log: string; reused: boolean }> {
  const file = join(options.dir, 'controller.json');
  const running = read(file);
  if (running !== undefined && alive(running)) {
    if (JSON.stringify(running.args) === JSON.stringify(options.args)) return { pid: running.pid, log: running.log, reused: true };
    await stop(running);
  }
  const log = join(options.dir, 'controller.log');
  const fd = openSync(log, 'a');
  // The same diploid as this process, run the same way (bin/diploid.js, or the sources under tsx).
  const self = process.argv[1];
  if (self === undefined) throw new Error('cannot tell how this diploid was started (no process.argv[1])');
  const child = spawn(process.execPath, [...process.execArgv, self, 'controller', ...options.args], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start diploid controller (see ${log})`);
  writeFileSync(file, `${JSON.stringify({ pid, startTime: startTime(pid) ?? '', args: options.args, log } satisfies Record)}\n`);
  options.log(`controller started outside the cluster (pid ${pid}, log ${log})`);
  return { pid, log, reused: false };
}

/** SIGTERM, then SIGKILL after 10 s: a controller mid-rollout finishes its wait first, and losing it loses nothing. */
async function stop(record: Record): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(record.pid, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  for (let waited = 0; waited < 10_000 && alive(record); waited += 200) await new Promise((resolve) => setTimeout(resolve, 200));
  if (alive(record)) signal('SIGKILL');
}

/** Stops the controller recorded in `dir`, if it still runs; returns its pid when it did. */
export async function stopOutsideController(dir: string): Promise<number | undefined> {
  const file = join(dir, 'controller.json');
  const record = read(file);
  rmSync(file, { force: true });
  if (record === undefined || !alive(record)) return undefined;
  await stop(record);
  return record.pid;
}
