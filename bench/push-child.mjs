// One size of the push benchmark, run by `bench/push.ts` with plain `node`. The controller is the
// shipped one, run as its Deployment runs it: `bin/diploid.js controller` (the bundle) as a process
// of its own, with the Deployment's Node settings (CONTROLLER_RUNTIME_ENV, set by push.ts), so its
// memory figures are its own and nothing of the bench shares its heap. What a push costs besides
// time is counted inside it by `controller-probe.mjs`, preloaded with `--import`. Prints one line
// of JSON.
//   node bench/push-child.mjs ROOT SERVICES PUSHES OPS_DIR GIT_URL KUBECONFIG CACHE_DIR [KCM_METRICS_URL]
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [root, servicesText, pushesText, ops, url, kubeconfig, cacheDir, controllerManagerMetrics] = process.argv.slice(2);
const services = Number(servicesText);
const pushes = Number(pushesText);
const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const k8s = await import('@kubernetes/client-node');
const { condition, parseStatus, statusObjectName } = await dist('controller/status.js');
const { webhookPath } = await dist('hosts/routes.js');
const { githubSignature } = await dist('hosts/signature.js');
const { deriveWebhookSecret } = await dist('hosts/webhook-secret.js');

// git commands: the controller runs the first `git` on PATH, here a wrapper that appends a line
// to a file, then runs git.
const gitShim = mkdtempSync(join(tmpdir(), 'diploid-bench-git-'));
const gitCalls = join(gitShim, 'calls');
writeFileSync(gitCalls, '');
const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
writeFileSync(join(gitShim, 'git'), `#!/bin/sh\necho "$(date +%H:%M:%S.%N | cut -c1-12) $*" >> '${gitCalls}'\nexec '${realGit}' "$@"\n`);
chmodSync(join(gitShim, 'git'), 0o755);
const gitCommands = () => readFileSync(gitCalls, 'utf8').split('\n').length - 1;
// DIPLOID_BENCH_TRACE=1: the git commands of each push, with their start time, in the log.
const trace = process.env.DIPLOID_BENCH_TRACE !== undefined;
const gitLines = () => readFileSync(gitCalls, 'utf8').split('\n').slice(0, -1);

const MASTER = 'bench-master-secret-0123456789abcdef0123';
const NAMESPACE = 'bench-production';
const system = `bench-system-${services}`;
const serviceName = (index) => `svc-${String(index).padStart(4, '0')}`;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const git = (...args) => execFileSync('git', args, { cwd: ops, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@example.com' } }).trim();
const verbose = process.env.DIPLOID_BENCH_VERBOSE !== undefined;
const log = (line) => {
  if (verbose) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

/** A free port on loopback for the controller's webhook server. */
const freePort = () => new Promise((resolve, reject) => {
  const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

// The controller: `diploid controller` from the bundle, as the Deployment `diploid init` writes
// starts it (webhooks on, statuses in its namespace, resync far away so that no resync pass falls
// into a push). Its log goes to a file (to stderr with DIPLOID_BENCH_VERBOSE or _TRACE).
const port = await freePort();
const controllerLog = join(gitShim, 'controller.log');
const controller = spawn(process.execPath, [
  ...(process.env.DIPLOID_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  '--import', pathToFileURL(fileURLToPath(new URL('./controller-probe.mjs', import.meta.url))).href,
  join(root, 'bin/diploid.js'), 'controller',
  '--ops', url, '--kubeconfig', kubeconfig, '--namespace', system, '--cache', cacheDir,
  '--port', String(port), '--host', '127.0.0.1', '--secret-env', 'DIPLOID_BENCH_WEBHOOK_SECRET', '--resync', '1h',
], {
  // NODE_ENV as diploid's image sets it; CONTROLLER_RUNTIME_ENV comes from push.ts.
  env: { ...process.env, NODE_ENV: 'production', PATH: `${gitShim}:${process.env.PATH}`, DIPLOID_BENCH_WEBHOOK_SECRET: MASTER },
  stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
});
controller.stderr.pipe(verbose || trace ? process.stderr : createWriteStream(controllerLog));
let controllerExit;
controller.on('exit', (code, signal) => (controllerExit = `the controller exited (${signal ?? code}); its log: ${controllerLog}`));
const replies = [];
controller.on('message', (message) => replies.shift()?.(message));
/** Asks the probe in the controller: `counts` (API requests, files evaluated, V8 heap), `profile-start`, `profile-stop`. */
const ask = (message) => new Promise((resolve, reject) => {
  if (controllerExit !== undefined) return reject(new Error(controllerExit));
  replies.push(resolve);
  controller.send(message);
});
/** The controller process's resident memory from /proc, in KiB: all of it, anonymous (heaps, malloc) and file-backed. */
const resident = () => {
  const status = readFileSync(`/proc/${controller.pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') };
};
const serverUrl = `http://127.0.0.1:${port}`;
const startedAt = performance.now();
for (;;) {
  if (controllerExit !== undefined) throw new Error(controllerExit);
  const healthy = await fetch(`${serverUrl}/healthz`).then((response) => response.ok, () => false);
  if (healthy) break;
  if (performance.now() - startedAt > 60_000) throw new Error(`the controller did not serve /healthz within 60 s; its log: ${controllerLog}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const startMs = performance.now() - startedAt;
const startRssMiB = resident().rss / 1024;
process.stderr.write(`  ${services} services: the controller served webhooks ${startMs.toFixed(0)} ms after its start, RSS ${startRssMiB.toFixed(0)} MiB\n`);
const kube = new k8s.KubeConfig();
kube.loadFromFile(kubeconfig);
const apps = kube.makeApiClient(k8s.AppsV1Api);

async function deliver(before, after, id) {
  const payload = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', before, after, created: false, deleted: false, repository: { full_name: 'bench/ops' } }));
  const response = await fetch(`${serverUrl}${webhookPath('bed', 'ops')}`, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': githubSignature(payload, deriveWebhookSecret(MASTER, 'bed', 'bench/ops')) },
  });
  if (response.status >= 300) throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
}

/**
 * Status Ready at the commit and, for a push, the changed Deployment's new ReplicaSet available.
 * The status ConfigMap is watched, not polled: it is parsed only when the controller writes it
 * (700 KB at 1000 services), so the bench does not load the API server more at 1000 services
 * than at 10, and the time ends when the status is written.
 * The Deployment is read once the status says Ready (the controller waited for its rollout).
 */
// Requests of the bench itself (its own process: not counted in the controller's figures).
let benchRequests = 0;
let statusData;
let statusSeen = 0;
let wake = () => undefined;
const watcher = new k8s.Watch(kube);
async function watchStatus() {
  benchRequests++;
  await watcher.watch(`/api/v1/namespaces/${system}/configmaps`, { fieldSelector: `metadata.name=${statusObjectName('production')}` }, (type, object) => {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    statusData = object.data;
    statusSeen++;
    wake();
  }, () => setTimeout(watchStatus, 100));
}
await watchStatus();

async function readyAt(commit, changed, image, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let checked = -1;
  let ready = false;
  for (;;) {
    if (!ready && checked !== statusSeen) {
      checked = statusSeen;
      const status = parseStatus(statusData);
      ready = status?.commit === commit && condition(status, 'Ready')?.status === 'True';
    }
    if (ready && changed === undefined) return;
    if (ready) {
      benchRequests++;
      const live = await apps.readNamespacedDeployment({ name: changed, namespace: NAMESPACE });
      const s = live.status;
      if (live.spec?.template.spec?.containers[0]?.image === image && (s?.observedGeneration ?? 0) >= (live.metadata?.generation ?? 1) && s?.updatedReplicas === 1 && s?.availableReplicas === 1 && (s?.replicas ?? 0) === 1) return;
    }
    if (Date.now() > deadline) throw new Error(`not Ready at ${commit} in ${timeoutMs / 1000}s (status Ready: ${ready})`);
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, ready ? 50 : 1000);
    });
  }
}

// DIPLOID_BENCH_HEAP_PROFILE=FILE: where the pushes' allocations come from (sampled, objects
// already collected included), written as a .heapprofile for Chrome's DevTools.
// DIPLOID_BENCH_HEAP_SNAPSHOT=FILE: a heap snapshot of the controller after the last push.
const heapProfile = process.env.DIPLOID_BENCH_HEAP_PROFILE;
const heapSnapshot = process.env.DIPLOID_BENCH_HEAP_SNAPSHOT;

let before = '0'.repeat(40);
let head = git('rev-parse', 'HEAD');
let started = performance.now();
await deliver(before, head, `first-${services}-${Date.now()}`);
await readyAt(head, undefined, undefined, 1_800_000);
const firstDeployMs = performance.now() - started;

/**
 * Pushes started right after the first deploy, before the cluster is at rest: what someone who
 * pushes at once meets. Information only; the target is measured at rest (below). Tags 0.N, so
 * each is a change whatever service it falls on.
 */
/** Sets one service's image tag, commits and pushes to the bed's git server; returns the new image. */
function pushImage(name, tag) {
  const file = join(ops, 'services', `${name}.js`);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/image: '([^:']+):[^']*'/, `image: '$1:${tag}'`));
  git('commit', '-q', '-am', `${name} ${tag}`);
  before = head;
  head = git('rev-parse', 'HEAD');
  git('push', '-q', url, 'main');
  return /image: '([^']+)'/.exec(readFileSync(file, 'utf8'))[1];
}

const deployedAt = performance.now();
const earlyPushes = Number(process.env.DIPLOID_BENCH_EARLY_PUSHES ?? 5);
const earlyTimes = [];
for (let push = 1; push <= earlyPushes; push++) {
  const name = serviceName((push * 37 + 11) % services);
  const image = pushImage(name, `0.${push}`);
  started = performance.now();
  await deliver(before, head, `early-${services}-${push}-${Date.now()}`);
  await readyAt(head, name, image, 600_000);
  earlyTimes.push(performance.now() - started);
  process.stderr.write(`  ${services} services, push ${push} right after the first deploy: ${earlyTimes.at(-1).toFixed(0)} ms\n`);
}

// The timed pushes start once the cluster is at rest: no API writes but heartbeats for 5 s and
// kube-controller-manager's queues empty (`cluster-settle.mjs`; after a first deploy of 1000
// services kube-controller-manager writes its backlog of Events for 10-15 s, README run K).
// In a process of its own, so that its reads of the components' metrics (3 MB each) weigh on no figure.
const settled = JSON.parse(await new Promise((resolve, reject) => {
  execFile(process.execPath, [fileURLToPath(new URL('./cluster-settle.mjs', import.meta.url)), kubeconfig, ...(controllerManagerMetrics === undefined ? [] : [controllerManagerMetrics])], (error, stdout) => (error === null ? resolve(stdout) : reject(error)));
}));
// From the first deploy's status Ready, the early pushes included.
const settleMs = performance.now() - deployedAt;
process.stderr.write(`  ${services} services: the cluster was ${settled.description}${controllerManagerMetrics === undefined ? ' (this bed does not publish kube-controller-manager\'s metrics: its queues were not read)' : ''}\n`);
const times = [];
const evaluations = [];
const rss = [];
const requests = [];
const gitRuns = [];
if (heapProfile !== undefined) await ask({ op: 'profile-start' });
let counted = await ask({ op: 'counts' });
for (let push = 1; push <= pushes; push++) {
  const index = (push * 37) % services;
  const name = serviceName(index);
  const image = pushImage(name, `1.${push}`);
  const gitBefore = gitCommands();
  started = performance.now();
  log(`push ${push}: delivering ${name} ${image}`);
  await deliver(before, head, `push-${services}-${push}-${Date.now()}`);
  await readyAt(head, name, image, 600_000);
  times.push(performance.now() - started);
  log(`push ${push}: Ready`);
  gitRuns.push(gitCommands() - gitBefore);
  // With --expose-gc (DIPLOID_BENCH_NODE_ARGS) the probe collects garbage first: the RSS is then after a full collection.
  const now = await ask({ op: 'counts' });
  evaluations.push(now.evaluations - counted.evaluations);
  // Requests between the two asks: the push's, plus the inbox polls (one a second) and the Lease renewals that fell in between.
  requests.push(now.requests - counted.requests);
  counted = now;
  if (trace) for (const line of gitLines().slice(gitBefore)) process.stderr.write(`git ${line}\n`);
  const memory = resident();
  rss.push(memory.rss / 1024);
  process.stderr.write(`  ${services} services, push ${push}: ${times.at(-1).toFixed(0)} ms, ${evaluations.at(-1)} files evaluated, ${requests.at(-1)} API requests, ${gitRuns.at(-1)} git commands, RSS ${rss.at(-1).toFixed(0)} MiB (V8 heap ${(now.heapUsed / 1048576).toFixed(0)} used of ${(now.heapTotal / 1048576).toFixed(0)} MiB: ${Object.entries(now.spaces).filter(([, size]) => size > 0).map(([space, size]) => `${space} ${size}`).join(', ')}; anonymous ${(memory.anon / 1024).toFixed(0)} MiB, files ${(memory.file / 1024).toFixed(0)} MiB)\n`);
}
if (heapProfile !== undefined) await ask({ op: 'profile-stop', file: heapProfile });
if (heapSnapshot !== undefined) await ask({ op: 'snapshot', file: heapSnapshot });
controller.kill('SIGTERM');
await new Promise((resolve) => (controller.exitCode !== null || controller.signalCode !== null ? resolve() : controller.once('exit', resolve)));
process.stdout.write(`${JSON.stringify({ services, startMs, startRssMiB, firstDeployMs, settleMs, pushMs: times, p50Ms: median(times), evaluationsPerPush: median(evaluations), apiRequestsPerPush: median(requests), gitCommandsPerPush: median(gitRuns), rssMiB: rss.at(-1), rssAfterFirstPushMiB: rss[0], rss, earlyPushMs: earlyTimes, earlyP50Ms: earlyTimes.length === 0 ? undefined : median(earlyTimes), atRest: settled.atRest })}\n`);
process.exit(0);
