import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentNames, writeCdk8sApp, writeOpsRepo, type AppShape } from './generate.js';
import { measure, median, type Sample } from './measure.js';

/** One tool's figures for one shape: medians over the runs. */
export interface ToolResult {
  readonly ms: number;
  readonly rssMiB: number;
  /** The tool's own process at its peak, and its children (diploid's sandbox) at theirs: the parts of `rssMiB`. */
  readonly ownRssMiB: number;
  readonly childrenRssMiB: number;
  /** Top-level objects in the output, to show both tools produced the same app. */
  readonly objects: number;
}

export interface RenderResult {
  readonly shape: AppShape;
  readonly diploid: ToolResult;
  readonly cdk8s: ToolResult;
}

export interface RenderOptions {
  /** The repository's root: `bin/diploid.js` and `node_modules` are found there. */
  readonly root: string;
  /** A scratch folder for the generated apps and their output. */
  readonly work: string;
  readonly runs: number;
}

function countObjects(yaml: string): number {
  return yaml.match(/^kind: /gm)?.length ?? 0;
}

/**
 * Renders the same app with `diploid render` and with cdk8s-plus's `app.synth()`, each as a whole
 * process run the way a user runs it. Runs alternate between the tools so that drift in the
 * machine's load touches both alike; one warm-up run each fills the file system cache first.
 */
export async function benchRender(shape: AppShape, options: RenderOptions): Promise<RenderResult> {
  const tag = `${shape.services}x${shape.environments}`;
  const opsDir = join(options.work, `ops-${tag}`);
  const cdkDir = join(options.work, `cdk8s-${tag}`);
  writeOpsRepo(opsDir, shape);
  writeCdk8sApp(cdkDir, shape, join(options.root, 'node_modules'));

  const diploidOut = join(options.work, `diploid-${tag}.yaml`);
  const cdkOut = join(cdkDir, 'dist');
  const envArgs = shape.environments === 1 ? ['--env', environmentNames(1)[0]!] : [];
  const runDiploid = () => measure({ args: [join(options.root, 'bin/diploid.js'), 'render', opsDir, ...envArgs], cwd: options.root, stdoutFile: diploidOut });
  const runCdk8s = () => measure({ args: ['main.mjs', cdkOut], cwd: cdkDir, stdoutFile: join(options.work, 'cdk8s-stdout.txt') });

  await runDiploid();
  await runCdk8s();
  const diploid: Sample[] = [];
  const cdk8s: Sample[] = [];
  for (let i = 0; i < options.runs; i++) {
    diploid.push(await runDiploid());
    cdk8s.push(await runCdk8s());
  }
  const cdkYaml = readdirSync(cdkOut).map((file) => readFileSync(join(cdkOut, file), 'utf8')).join('\n');
  return {
    shape,
    diploid: summarize(diploid, countObjects(readFileSync(diploidOut, 'utf8'))),
    cdk8s: summarize(cdk8s, countObjects(cdkYaml)),
  };
}

function summarize(samples: readonly Sample[], objects: number): ToolResult {
  return {
    ms: median(samples.map((s) => s.ms)),
    rssMiB: median(samples.map((s) => s.rssMiB)),
    ownRssMiB: median(samples.map((s) => s.ownRssMiB)),
    childrenRssMiB: median(samples.map((s) => s.childrenRssMiB)),
    objects,
  };
}
