// Run by the plan benchmark in a process of its own, against the build: loads the two states of a
// push from git (timed as load), then plans the environment (timed alone, the first call as a CLI
// run makes it, then the median of a few more). Prints one line of JSON.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [root, opsDir, cacheDir, from, to, environment, runs] = process.argv.slice(2);
const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { Workspace } = await dist('sources/git/index.js');
const { planEnvironment } = await dist('plan/index.js');
const { sandboxCounters } = await dist('sources/sandbox/sandbox.js');

const started = performance.now();
const workspace = new Workspace({ cacheDir, ops: opsDir, locations: {} });
const before = await workspace.state({ branch: 'main', commits: { ops: from } });
const evaluatedBefore = sandboxCounters.files;
const after = await workspace.state({ branch: 'main', commits: { ops: to } });
// Files of the second commit evaluated in a sandbox: only the one the push changed, when the cache works.
const evaluatedAfter = sandboxCounters.files - evaluatedBefore;
const loadMs = performance.now() - started;

const target = { name: environment, branch: 'main', reason: 'benchmark' };
const times = [];
let plan;
let firstCpuMs = 0;
for (let i = 0; i < Number(runs) + 1; i++) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  plan = planEnvironment(target, { before, after });
  times.push(performance.now() - t);
  // CPU time too: on a machine shared with other work, wall time is mostly waiting for a core.
  if (i === 0) firstCpuMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu));
}
const [first, ...rest] = times;
rest.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ loadMs, evaluatedBefore, evaluatedAfter, firstMs: first, firstCpuMs, medianMs: rest[Math.floor(rest.length / 2)] ?? first, services: after.sources.services.length, deploy: plan?.deploy ?? [], action: plan?.action ?? 'none' })}\n`);
