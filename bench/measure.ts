import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What one run of a command cost, process start to exit. */
export interface Sample {
  readonly ms: number;
  /**
   * Peak resident set size, in MiB, of the process tree: the larger of the process's own peak and
   * the highest sum over it and its children (the sandbox that evaluates config files) seen while
   * sampling every 10 ms. A child that lived between two samples is missed, so this is a floor.
   */
  readonly rssMiB: number;
  /** The process's own peak, without children. */
  readonly ownRssMiB: number;
  /** The highest sum of its children's (the sandbox's) resident memory seen while sampling; a floor. */
  readonly childrenRssMiB: number;
}

export interface Invocation {
  /** Arguments to `node`, after the preload that records peak memory. */
  readonly args: readonly string[];
  readonly cwd: string;
  /** Where the command's standard output goes (rendered YAML), so that both tools write to disk. */
  readonly stdoutFile: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

const preload = fileURLToPath(new URL('./max-rss.mjs', import.meta.url));

/** Spawns `node` with the arguments, waits for it, and returns wall time and peak memory. */
export async function measure(invocation: Invocation): Promise<Sample> {
  const rssFile = join(tmpdir(), `diploid-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const out = openSync(invocation.stdoutFile, 'w');
  let stderr = '';
  let treePeakKiB = 0;
  let childrenPeakKiB = 0;
  const started = performance.now();
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', preload, ...invocation.args], {
        cwd: invocation.cwd,
        stdio: ['ignore', out, 'pipe'],
        env: { ...process.env, ...invocation.env, DIPLOID_BENCH_RSS_FILE: rssFile },
      });
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const sampler = setInterval(() => {
        if (child.pid === undefined) return;
        const own = processRssKiB(child.pid);
        const tree = treeRssKiB(child.pid);
        treePeakKiB = Math.max(treePeakKiB, tree);
        childrenPeakKiB = Math.max(childrenPeakKiB, tree - own);
      }, 10);
      child.on('error', reject);
      child.on('close', (exit) => {
        clearInterval(sampler);
        resolve(exit);
      });
    });
    const ms = performance.now() - started;
    if (code !== 0) throw new Error(`node ${invocation.args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`);
    const rssKiB = Number(readFileSync(rssFile, 'utf8'));
    return { ms, rssMiB: Math.max(rssKiB, treePeakKiB) / 1024, ownRssMiB: rssKiB / 1024, childrenRssMiB: childrenPeakKiB / 1024 };
  } finally {
    closeSync(out);
    rmSync(rssFile, { force: true });
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Resident memory of one process now, in KiB (Linux /proc; 0 elsewhere). */
function processRssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Resident memory of a process and all its descendants now, in KiB (Linux /proc; 0 elsewhere). */
function treeRssKiB(pid: number): number {
  try {
    let total = processRssKiB(pid);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children === '' ? [] : children.split(' ')) total += treeRssKiB(Number(child));
    }
    return total;
  } catch {
    return 0;
  }
}
