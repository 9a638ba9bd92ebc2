import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What one run of a command cost, process start to exit. */
export interface Sample {
  readonly ms: number;
  /** Peak resident set size, in MiB. */
  readonly rssMiB: number;
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
  const started = performance.now();
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', preload, ...invocation.args], {
        cwd: invocation.cwd,
        stdio: ['ignore', out, 'pipe'],
        env: { ...process.env, ...invocation.env, DIPLOID_BENCH_RSS_FILE: rssFile },
      });
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', resolve);
    });
    const ms = performance.now() - started;
    if (code !== 0) throw new Error(`node ${invocation.args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`);
    const rssKiB = Number(readFileSync(rssFile, 'utf8'));
    return { ms, rssMiB: rssKiB / 1024 };
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
