import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { down } from '../testbed/bed.js';
import type { AppShape } from './generate.js';
import { benchPlan, PLAN_TARGET_MS, type PlanResult } from './plan.js';
import { benchPush, type PushResult } from './push.js';
import { benchRender, type RenderResult } from './render.js';
import { formatTable, ratio } from './table.js';

/**
 * `npm run bench`: render speed and peak memory of diploid against cdk8s-plus, side by side, and
 * the time of a plan over 1000 services. Prints tables and whether the targets are met; it never
 * fails on the figures themselves (only when a tool does not run), so noise cannot break a build.
 *
 * Options: `--runs N` (5), `--only render|plan`, `--shapes 10x1,1000x1` (services x environments),
 * `--keep` to leave the generated apps in place.
 */
const SHAPES: readonly AppShape[] = [
  { services: 10, environments: 1 },
  { services: 100, environments: 1 },
  { services: 1000, environments: 1 },
  { services: 100, environments: 20 },
];
/** A one-service push at 1000 services: at most 1.5x the time at 10, under 2 s; controller under 150 MB. */
const PUSH_SCALE_TARGET = 1.5;
const PUSH_TARGET_MS = 2000;
const RSS_TARGET_MIB = 150;

/** 1000 services should render in under a quarter of cdk8s-plus's time and half its memory. */
const TARGET_TIME_RATIO = 4;
const TARGET_MEMORY_RATIO = 2;

const root = fileURLToPath(new URL('..', import.meta.url));

function parseShapes(text: string): AppShape[] {
  return text.split(',').map((item) => {
    const match = /^(\d+)x(\d+)$/.exec(item.trim());
    if (match === null) throw new Error(`--shapes: "${item}" is not SERVICESxENVIRONMENTS, e.g. 1000x1`);
    return { services: Number(match[1]), environments: Number(match[2]) };
  });
}

function renderTable(results: readonly RenderResult[]): string {
  const rows = results.map(({ shape, diploid, cdk8s }) => [
    `${shape.services} x ${shape.environments}`,
    String(diploid.objects),
    diploid.ms.toFixed(0),
    cdk8s.ms.toFixed(0),
    ratio(cdk8s.ms, diploid.ms),
    diploid.rssMiB.toFixed(0),
    diploid.ownRssMiB.toFixed(0),
    diploid.childrenRssMiB.toFixed(0),
    cdk8s.rssMiB.toFixed(0),
    ratio(cdk8s.rssMiB, diploid.rssMiB),
  ]);
  return formatTable(['services x envs', 'objects', 'diploid ms', 'cdk8s-plus ms', 'time ratio', 'diploid MiB', 'its process', 'its sandbox', 'cdk8s-plus MiB', 'memory ratio'], rows);
}

/** How to read the memory columns: the total is the process tree's peak, not the sum of the parts' peaks. */
const RENDER_MEMORY_NOTE =
  "diploid MiB: peak of diploid's process plus its sandbox, summed per 10 ms sample; its process: diploid's own peak; its sandbox: the sandbox process's peak (the two peaks need not coincide)";

function renderTargets(results: readonly RenderResult[]): string[] {
  const lines: string[] = [];
  for (const { shape, diploid, cdk8s } of results) {
    if (diploid.objects !== cdk8s.objects) lines.push(`warning: ${shape.services} x ${shape.environments}: diploid wrote ${diploid.objects} objects, cdk8s-plus ${cdk8s.objects}`);
  }
  const big = results.find((r) => r.shape.services === 1000 && r.shape.environments === 1);
  if (big !== undefined) {
    const time = big.cdk8s.ms / big.diploid.ms;
    const memory = big.cdk8s.rssMiB / big.diploid.rssMiB;
    lines.push(`target: 1000 services in under 1/${TARGET_TIME_RATIO} of cdk8s-plus's time: ${time >= TARGET_TIME_RATIO ? 'met' : 'NOT met'} (${ratio(big.cdk8s.ms, big.diploid.ms)})`);
    lines.push(`target: 1000 services in under 1/${TARGET_MEMORY_RATIO} of cdk8s-plus's peak memory: ${memory >= TARGET_MEMORY_RATIO ? 'met' : 'NOT met'} (${ratio(big.cdk8s.rssMiB, big.diploid.rssMiB)})`);
  }
  return lines;
}

function planLines(result: PlanResult): string[] {
  if (!result.available) return [`plan: not available yet (${result.reason})`];
  const rows = [[String(result.services), result.changed, result.commandMs.toFixed(0), result.loadMs.toFixed(0), result.planMs.toFixed(1), result.planCpuMs.toFixed(1), result.warmPlanMs.toFixed(1)]];
  return [
    'plan: `diploid plan` on a push to the ops repo (whole command with a warm clone cache; load and plan timed in-process on the build)',
    formatTable(['services', 'push changes', 'whole command ms', 'load 2 commits ms', 'plan after load ms', 'its CPU ms', 'warm plan ms'], rows),
    `target: plan over ${result.services} services in under ${PLAN_TARGET_MS} ms after load: ${result.planMs < PLAN_TARGET_MS ? 'met' : 'NOT met'} (${result.planMs.toFixed(0)} ms; ${result.planCpuMs.toFixed(0)} ms of CPU)`,
    `target: loading a commit where one file changed evaluates only that file: ${result.evaluatedAfter <= 1 ? 'met' : 'NOT met'} (${result.evaluatedBefore} files evaluated for the first commit, ${result.evaluatedAfter} for the second)`,
  ];
}

function pushLines(results: readonly PushResult[]): string[] {
  const rows = results.map((r) => [String(r.services), `${(r.startMs / 1000).toFixed(2)} / ${r.startRssMiB.toFixed(0)}`, (r.firstDeployMs / 1000).toFixed(1), r.earlyP50Ms === undefined ? '-' : `${(r.earlyP50Ms / 1000).toFixed(2)} (${r.earlyPushMs.length})`, `${(r.settleMs / 1000).toFixed(1)}${r.atRest ? '' : ' (NOT at rest)'}`, (r.p50Ms / 1000).toFixed(2), String(r.pushMs.length), String(r.evaluationsPerPush), String(r.apiRequestsPerPush), String(r.gitCommandsPerPush), r.rssAfterFirstPushMiB.toFixed(0), r.rssMiB.toFixed(0)]);
  const lines = [
    'push: one service\'s image changed, from the signed webhook delivery to status Ready at the commit with the new ReplicaSet available (`diploid controller` from the bundle as its own process, test bed, kwok nodes); the targets use the pushes made once the cluster was at rest, the pushes right after the first deploy are information',
    formatTable(['services', 'controller start s / RSS MiB', 'first deploy s', 'push p50 right after it s (pushes)', 'cluster at rest after s', 'push p50 at rest s', 'pushes', 'files evaluated per push', 'API requests per push', 'git commands per push', 'controller RSS after push 1 MiB', 'after the last MiB'], rows),
  ];
  const small = results.find((r) => r.services === 10);
  const big = results.find((r) => r.services === 1000);
  if (big !== undefined) {
    if (small !== undefined) lines.push(`target: push at 1000 services at most ${PUSH_SCALE_TARGET}x the time at 10: ${big.p50Ms <= PUSH_SCALE_TARGET * small.p50Ms ? 'met' : 'NOT met'} (${(big.p50Ms / small.p50Ms).toFixed(2)}x)`);
    if (small?.earlyP50Ms !== undefined && big.earlyP50Ms !== undefined) lines.push(`information: pushes right after the first deploy, before the cluster was at rest: ${(big.earlyP50Ms / small.earlyP50Ms).toFixed(2)}x the time at 10 (${(small.earlyP50Ms / 1000).toFixed(2)} s at 10, ${(big.earlyP50Ms / 1000).toFixed(2)} s at 1000)`);
    lines.push(`target: push at 1000 services under ${PUSH_TARGET_MS / 1000} s: ${big.p50Ms < PUSH_TARGET_MS ? 'met' : 'NOT met'} (${(big.p50Ms / 1000).toFixed(2)} s)`);
    lines.push(`target: controller RSS at 1000 services under ${RSS_TARGET_MIB} MB after ${big.pushMs.length} pushes: ${big.rssMiB * 1.048576 < RSS_TARGET_MIB ? 'met' : 'NOT met'} (${(big.rssMiB * 1.048576).toFixed(0)} MB; ${big.rssAfterFirstPushMiB.toFixed(0)} MiB after the first push)`);
    const half = Math.floor((big.rss.length - 1) / 2);
    const middle = big.rss[half] ?? big.rssMiB;
    const highest = Math.max(...big.rss.slice(half));
    lines.push(`target: controller RSS at 1000 services flat over the pushes (the highest of the second half within 10% of the middle push's): ${highest <= middle * 1.1 ? 'met' : 'NOT met'} (${big.rss.map((value) => value.toFixed(0)).join(' ')} MiB)`);
    lines.push(`target: a push evaluates only the changed file: ${big.evaluationsPerPush <= 1 ? 'met' : 'NOT met'} (${big.evaluationsPerPush} files per push)`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, only: { type: 'string' }, shapes: { type: 'string' }, keep: { type: 'boolean', default: false }, sizes: { type: 'string', default: '10,100,1000' }, pushes: { type: 'string', default: '20' }, bed: { type: 'string' } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive whole number');
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (`npm run bench` does)');
  const shapes = values.shapes === undefined ? SHAPES : parseShapes(values.shapes);
  const work = mkdtempSync(join(tmpdir(), 'diploid-bench-'));
  process.stdout.write(`diploid benchmarks: node ${process.version}, median of ${runs} runs, whole processes (start to exit); scratch in ${work}\n\n`);
  try {
    if (values.only === undefined || values.only === 'render') {
      const results: RenderResult[] = [];
      for (const shape of shapes) {
        process.stderr.write(`render ${shape.services} x ${shape.environments}...\n`);
        results.push(await benchRender(shape, { root, work, runs }));
      }
      process.stdout.write(`render: \`diploid render\` vs cdk8s-plus \`app.synth()\` of the same app (ratio = cdk8s-plus / diploid; higher is better for diploid)\n`);
      process.stdout.write(`${renderTable(results)}\n${RENDER_MEMORY_NOTE}\n${renderTargets(results).join('\n')}\n\n`);
    }
    if (values.only === undefined || values.only === 'plan') {
      process.stderr.write('plan 1000 services...\n');
      process.stdout.write(`${planLines(await benchPlan({ root, work, runs, services: 1000 })).join('\n')}\n`);
    }
    // Needs the test bed (built by `scripts/testbed build`): only when asked for.
    if (values.only === 'push') {
      const stateDir = values.bed ?? join(work, 'bed');
      const results: PushResult[] = [];
      for (const size of values.sizes.split(',').map(Number)) {
        process.stderr.write(`push ${size} services...\n`);
        results.push(await benchPush(size, { root, work, pushes: Number(values.pushes), stateDir }));
      }
      process.stdout.write(`${pushLines(results).join('\n')}\n`);
      if (values.bed === undefined) await down({ stateDir, log: (line) => process.stderr.write(`[testbed] ${line}\n`) });
    }
  } finally {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
