// One size of the push benchmark, run by `bench/push.ts` with plain `node` against dist/ so that
// the memory figures are the controller's own (no TypeScript loader in the process). The
// controller is wired as `diploid controller` wires it: webhook server, delivery log, queue,
// loop, reconciler. Prints one line of JSON.
//   node bench/push-child.mjs ROOT SERVICES PUSHES OPS_DIR GIT_URL KUBECONFIG CACHE_DIR [KCM_METRICS_URL]
import { execFileSync } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, servicesText, pushesText, ops, url, kubeconfig, cacheDir, controllerManagerMetrics] = process.argv.slice(2);
const services = Number(servicesText);
const pushes = Number(pushesText);
const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const k8s = await import('@kubernetes/client-node');
const { ConfigMapDeliveryLog } = await dist('controller/delivery-log.js');
const { EventQueue } = await dist('controller/event-queue.js');
const { ControllerLoop } = await dist('controller/loop.js');
const { readResyncRequests } = await dist('controller/resync.js');
const { createReconciler } = await dist('controller/runtime.js');
const { ConfigMapStatusStore } = await dist('controller/status-store.js');
const { condition, parseStatus, statusObjectName } = await dist('controller/status.js');
const { startWebhookServer } = await dist('controller/webhook-server.js');
const { webhookPath, webhookRoutes } = await dist('hosts/routes.js');
const { githubSignature } = await dist('hosts/signature.js');
const { deriveWebhookSecret } = await dist('hosts/webhook-secret.js');
const { sandboxCounters } = await dist('sources/sandbox/sandbox.js');

// What a push costs besides time. API requests: client-node speaks through node's http module,
// whose diagnostics channel sees every request this process makes (the webhook delivery goes
// through fetch, which it does not see; the bench's own polls are counted and taken off).
// git commands: the controller runs the first `git` on PATH, here a wrapper that appends a line
// to a file, then runs git.
let apiRequests = 0;
// DIPLOID_BENCH_TRACE=1: each request's start and response on this clock (with `push-trace.mjs`).
const trace = process.env.DIPLOID_BENCH_TRACE !== undefined;
diagnosticsChannel.subscribe('http.client.request.start', ({ request }) => {
  apiRequests++;
  if (trace) process.stderr.write(`${new Date().toISOString()} request ${request.method} ${request.path}\n`);
});
if (trace) diagnosticsChannel.subscribe('http.client.response.finish', ({ request, response }) => process.stderr.write(`${new Date().toISOString()} response ${response.statusCode} ${request.method} ${request.path}\n`));
const gitShim = mkdtempSync(join(tmpdir(), 'diploid-bench-git-'));
const gitCalls = join(gitShim, 'calls');
writeFileSync(gitCalls, '');
const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
writeFileSync(join(gitShim, 'git'), `#!/bin/sh\necho "$(date +%H:%M:%S.%N | cut -c1-12) $*" >> '${gitCalls}'\nexec '${realGit}' "$@"\n`);
chmodSync(join(gitShim, 'git'), 0o755);
process.env.PATH = `${gitShim}:${process.env.PATH}`;
const gitCommands = () => readFileSync(gitCalls, 'utf8').split('\n').length - 1;
// DIPLOID_BENCH_TRACE=1: the git commands of each push, with their start time, in the log.
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
const rssMiB = () => process.memoryUsage().rss / 1048576;
/** Resident memory by kind: anonymous (heaps, malloc) and file-backed (node's binary, libraries). */
const residentParts = () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return `anonymous ${(kib('RssAnon') / 1024).toFixed(0)} MiB, files ${(kib('RssFile') / 1024).toFixed(0)} MiB`;
};
const git = (...args) => execFileSync('git', args, { cwd: ops, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@example.com' } }).trim();
const verbose = process.env.DIPLOID_BENCH_VERBOSE !== undefined;
const log = (line) => {
  if (verbose) process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};

// As `diploid controller --kubeconfig FILE` reads it.
const { kubeConfigFrom } = await dist('cluster/kube-client.js');
const kube = kubeConfigFrom(kubeconfig);
const locations = { urls: { ops: url } };
const reconciler = createReconciler(kube, { project: 'bench' }, { ops: url, locations, cacheDir, namespace: system, log });
const store = new ConfigMapStatusStore(kube, system);
const queue = new EventQueue();
const target = { hostName: 'bed', host: { provider: 'github', token: { env: 'UNUSED' } }, repo: { name: 'ops', path: 'bench/ops' } };
const server = await startWebhookServer({ routes: webhookRoutes([target], MASTER), queue, deliveries: new ConfigMapDeliveryLog(kube, system), port: 0, log });
const loop = new ControllerLoop({ queue, reconciler, resync: () => readResyncRequests({ ops: url, locations, cacheDir, store }), resyncMs: 3_600_000, log });
const apps = kube.makeApiClient(k8s.AppsV1Api);
const core = kube.makeApiClient(k8s.CoreV1Api);

async function deliver(before, after, id) {
  const payload = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', before, after, created: false, deleted: false, repository: { full_name: 'bench/ops' } }));
  const response = await fetch(`${server.url}${webhookPath('bed', 'ops')}`, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': githubSignature(payload, deriveWebhookSecret(MASTER, 'bed', 'bench/ops')) },
  });
  if (response.status >= 300) throw new Error(`the webhook answered ${response.status}: ${await response.text()}`);
}

/**
 * Status Ready at the commit and, for a push, the changed Deployment's new ReplicaSet available.
 * The status ConfigMap is watched, not polled: it is parsed only when the controller writes it
 * (700 KB at 1000 services), so the bench, which shares a process with the controller, does not
 * slow it down more at 1000 services than at 10, and the time ends when the status is written.
 * The Deployment is read once the status says Ready (the controller waited for its rollout).
 */
let benchRequests = 0;
let statusData;
let statusSeen = 0;
let wake = () => undefined;
const watcher = new k8s.Watch(kube);
async function watchStatus() {
  // The watch's request goes through node's http client too: not the controller's.
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
const heapProfile = process.env.DIPLOID_BENCH_HEAP_PROFILE;
let inspector;
if (heapProfile !== undefined) {
  const { Session } = await import('node:inspector/promises');
  inspector = new Session();
  inspector.connect();
}

loop.start();
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
const deployedAt = performance.now();
const earlyPushes = Number(process.env.DIPLOID_BENCH_EARLY_PUSHES ?? 5);
const earlyTimes = [];
for (let push = 1; push <= earlyPushes; push++) {
  const name = serviceName((push * 37 + 11) % services);
  const file = join(ops, 'services', `${name}.js`);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/image: '([^:']+):[^']*'/, `image: '$1:0.${push}'`));
  git('commit', '-q', '-am', `${name} 0.${push}`);
  before = head;
  head = git('rev-parse', 'HEAD');
  git('push', '-q', url, 'main');
  const image = /image: '([^']+)'/.exec(readFileSync(file, 'utf8'))[1];
  started = performance.now();
  await deliver(before, head, `early-${services}-${push}-${Date.now()}`);
  await readyAt(head, name, image, 600_000);
  earlyTimes.push(performance.now() - started);
  process.stderr.write(`  ${services} services, push ${push} right after the first deploy: ${earlyTimes.at(-1).toFixed(0)} ms\n`);
}

// The timed pushes start once the cluster is at rest: no API writes but heartbeats for 5 s and
// kube-controller-manager's queues empty (`cluster-settle.mjs`; after a first deploy of 1000
// services kube-controller-manager writes its backlog of Events for 10-15 s, README run K).
// In a process of its own: its reads of the API server's metrics would add to the controller's memory here.
const { execFile } = await import('node:child_process');
const { fileURLToPath } = await import('node:url');
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
if (inspector !== undefined) await inspector.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let push = 1; push <= pushes; push++) {
  const index = (push * 37) % services;
  const name = serviceName(index);
  const file = join(ops, 'services', `${name}.js`);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/image: '([^:']+):[^']*'/, `image: '$1:1.${push}'`));
  git('commit', '-q', '-am', `${name} 1.${push}`);
  before = head;
  head = git('rev-parse', 'HEAD');
  git('push', '-q', url, 'main');
  const image = /image: '([^']+)'/.exec(readFileSync(file, 'utf8'))[1];
  const evaluated = sandboxCounters.files;
  const requestsBefore = apiRequests - benchRequests;
  const gitBefore = gitCommands();
  started = performance.now();
  log(`push ${push}: delivering ${name} ${image}`);
  await deliver(before, head, `push-${services}-${push}-${Date.now()}`);
  await readyAt(head, name, image, 600_000);
  times.push(performance.now() - started);
  log(`push ${push}: Ready`);
  evaluations.push(sandboxCounters.files - evaluated);
  requests.push(apiRequests - benchRequests - requestsBefore);
  gitRuns.push(gitCommands() - gitBefore);
  if (trace) for (const line of gitLines().slice(gitBefore)) process.stderr.write(`git ${line}\n`);
  // With --expose-gc (DIPLOID_BENCH_NODE_ARGS): the live heap after each push, garbage collected.
  globalThis.gc?.();
  rss.push(rssMiB());
  process.stderr.write(`  ${services} services, push ${push}: ${times.at(-1).toFixed(0)} ms, ${evaluations.at(-1)} files evaluated, ${requests.at(-1)} API requests, ${gitRuns.at(-1)} git commands, RSS ${rss.at(-1).toFixed(0)} MiB (V8 heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} used of ${(process.memoryUsage().heapTotal / 1048576).toFixed(0)} MiB; ${residentParts()})\n`);
}
if (inspector !== undefined) writeFileSync(heapProfile, JSON.stringify((await inspector.post('HeapProfiler.stopSampling')).profile));
await server.close();
await loop.stop();
process.stdout.write(`${JSON.stringify({ services, firstDeployMs, settleMs, pushMs: times, p50Ms: median(times), evaluationsPerPush: median(evaluations), apiRequestsPerPush: median(requests), gitCommandsPerPush: median(gitRuns), rssMiB: rss.at(-1), rssAfterFirstPushMiB: rss[0], rss, earlyPushMs: earlyTimes, earlyP50Ms: earlyTimes.length === 0 ? undefined : median(earlyTimes), atRest: settled.atRest })}\n`);
process.exit(0);
