/**
 * The controller's heap setting, in a Node process of its own (V8's flags are per process):
 * `controllerHeap().collect`, which the loop calls when idle, is a full collection without
 * `--expose-gc`, and the program gets no `gc` of its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const heapModule = pathToFileURL(fileURLToPath(new URL('../../../src/cli/heap.ts', import.meta.url))).href;

interface Measured {
  readonly usedBeforeMiB: number;
  readonly usedAfterMiB: number;
  readonly gcGlobal: string;
}

/** Many objects that survive a few young collections, then dropped and (with `collect`) collected. */
function run(env: NodeJS.ProcessEnv, collect: boolean): Measured {
  const script = `
    const { controllerHeap } = await import(${JSON.stringify(heapModule)});
    const heap = ${collect} ? controllerHeap() : { collect: () => {} };
    let kept = [];
    for (let round = 0; round < 60; round++) {
      const batch = [];
      for (let i = 0; i < 50000; i++) batch.push({ round, i, text: 'x' + i });
      kept.push(batch);
      if (kept.length > 3) kept.shift();
    }
    kept = undefined;
    const usedBefore = process.memoryUsage().heapUsed;
    heap.collect();
    const usedAfter = process.memoryUsage().heapUsed;
    console.log(JSON.stringify({ usedBeforeMiB: usedBefore / 1048576, usedAfterMiB: usedAfter / 1048576, gcGlobal: typeof globalThis.gc }));
  `;
  const { NODE_OPTIONS: _, ...rest } = process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...rest, ...env } });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Measured;
}

describe("the controller's heap", () => {
  it('collects in full on demand without --expose-gc, and gives the program no gc of its own', () => {
    const measured = run({}, true);
    expect(measured.usedAfterMiB).toBeLessThan(measured.usedBeforeMiB / 2);
    expect(measured.gcGlobal).toBe('undefined');
    // Without the collection, the dropped objects are still counted.
    const without = run({}, false);
    expect(without.usedAfterMiB).toBeGreaterThan(without.usedBeforeMiB / 2);
  }, 60_000);
});
