// When is a cluster "at rest"? The push bench times one-service pushes on a cluster that has
// finished the work of the first deploy, or the figure measures that backlog instead of the push.
//
// What the bench found (README, issue 15, run K): after a first deploy of 1000 Deployments,
// kube-controller-manager's work queues are empty and the namespace's objects no longer change, yet
// kube-controller-manager is still writing: its controllers record Events through the same API
// client (and so the same client-side rate limiter, 20 requests/s by default) as their real work,
// from a buffer of up to 1000 Events each that filled during the deploy. For 10-15 s it writes
// Events at exactly 20/s, and a push's ReplicaSet creation and Deployment status updates wait in
// that limiter behind them. Neither `workqueue_depth` nor the objects show it; the API server's
// request counters do.
//
// So the cluster is at rest when the API server has seen no writes for `quietMs`, apart from the
// heartbeats a cluster makes forever (Leases, node status) and requests that store nothing (access
// and token reviews, service account tokens), and kube-controller-manager has no queued or
// unfinished work. Both read from the components' /metrics, the standard place.
import { get } from 'node:https';
import { pathToFileURL } from 'node:url';

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);

/**
 * Whether a write is one a cluster at rest still makes: heartbeats (every node's and component's
 * Lease, the nodes' status reports) or a request that stores nothing (TokenReview,
 * SubjectAccessReview and the like; a service account's TokenRequest).
 */
export function isHeartbeat(group, resource, subresource) {
  if (group === 'coordination.k8s.io' && resource === 'leases') return true;
  if (group === '' && resource === 'nodes' && subresource === 'status') return true;
  if (resource.endsWith('reviews')) return true;
  return group === '' && resource === 'serviceaccounts' && subresource === 'token';
}

const labelsOf = (text) => Object.fromEntries([...text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));

/**
 * The API server's writes so far from its /metrics text (`apiserver_request_total`), summed by
 * `VERB group/resource[/subresource]` (core group shown as `core`), heartbeats left out.
 */
export function writesFromMetrics(text) {
  const writes = new Map();
  for (const match of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = labelsOf(match[1]);
    const verb = labels.verb ?? '';
    if (!WRITE_VERBS.has(verb)) continue;
    const group = labels.group ?? '';
    const resource = labels.resource ?? '';
    const subresource = labels.subresource ?? '';
    if (isHeartbeat(group, resource, subresource)) continue;
    const key = `${verb} ${group === '' ? 'core' : group}/${resource}${subresource === '' ? '' : `/${subresource}`}`;
    writes.set(key, (writes.get(key) ?? 0) + Number(match[2]));
  }
  return writes;
}

/** What grew from `before` to `after` (two results of `writesFromMetrics`). */
export function writesBetween(before, after) {
  const grown = new Map();
  for (const [key, count] of after) {
    const delta = count - (before.get(key) ?? 0);
    if (delta > 0) grown.set(key, delta);
  }
  return grown;
}

/**
 * kube-controller-manager's work from its /metrics text: the queues holding items
 * (`workqueue_depth`) or processing one (`workqueue_unfinished_work_seconds`), by queue name.
 */
export function controllerManagerWork(text) {
  const busy = new Map();
  for (const match of text.matchAll(/^(workqueue_depth|workqueue_unfinished_work_seconds)\{([^}]*)\} (\S+)$/gm)) {
    const value = Number(match[3]);
    if (value === 0) continue;
    const name = labelsOf(match[2]).name ?? '?';
    busy.set(name, `${busy.has(name) ? `${busy.get(name)}, ` : ''}${match[1] === 'workqueue_depth' ? `${value} queued` : `working ${value.toFixed(1)} s`}`);
  }
  if (!/^workqueue_depth\{/m.test(text)) throw new Error('kube-controller-manager\'s /metrics has no workqueue_depth');
  return busy;
}

/** `n VERB group/resource, ...`, the largest first. */
export function describeWrites(writes, limit = 6) {
  const entries = [...writes].sort((a, b) => b[1] - a[1]);
  const shown = entries.slice(0, limit).map(([key, count]) => `${count} ${key}`);
  if (entries.length > limit) shown.push(`${entries.length - limit} more kinds`);
  return shown.join(', ');
}

function fetchText(url, options) {
  return new Promise((resolve, reject) => {
    get(url, { timeout: 10_000, ...options }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${url} answered ${res.statusCode}`))));
    }).on('error', reject).on('timeout', function timeout() {
      this.destroy(new Error(`${url} did not answer in 10 s`));
    });
  });
}

/**
 * Waits until the cluster is at rest (see the top of this file): no writes but heartbeats for
 * `quietMs`, and, when `controllerManagerMetrics` is given, kube-controller-manager's queues empty
 * and nothing in its hands during that time. `kube` is a client-node KubeConfig allowed to read
 * the API server's /metrics. Gives up after `timeoutMs` and says what was still going on.
 * Returns how long it took, whether the cluster came to rest, and what was written meanwhile.
 */
export async function settleCluster({ kube, controllerManagerMetrics, quietMs = 5_000, timeoutMs = 600_000, intervalMs = 1_000 }) {
  const server = kube.getCurrentCluster()?.server;
  if (server === undefined) throw new Error('the kubeconfig names no cluster');
  const options = {};
  await kube.applyToHTTPSOptions(options);
  // The controller manager's own self-signed certificate, on loopback.
  const readControllerManager = async () => (controllerManagerMetrics === undefined ? new Map() : controllerManagerWork(await fetchText(controllerManagerMetrics, { rejectUnauthorized: false })));
  const start = Date.now();
  const first = writesFromMetrics(await fetchText(`${server}/metrics`, options));
  let previous = first;
  let quietSince = Date.now();
  let busy = await readControllerManager();
  let lastWrites = new Map();
  for (;;) {
    if (busy.size > 0) quietSince = Date.now();
    if (Date.now() - quietSince >= quietMs) break;
    if (Date.now() - start >= timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const now = writesFromMetrics(await fetchText(`${server}/metrics`, options));
    const grown = writesBetween(previous, now);
    previous = now;
    if (grown.size > 0) {
      quietSince = Date.now();
      lastWrites = grown;
    }
    busy = await readControllerManager();
  }
  const atRest = Date.now() - quietSince >= quietMs;
  return {
    ms: Date.now() - start,
    atRest,
    /** Every write but heartbeats during the wait, by kind. */
    written: writesBetween(first, previous),
    /** When not at rest: the writes of the last interval that had any, and kube-controller-manager's busy queues. */
    lastWrites,
    busy,
  };
}

/** One line saying what `settleCluster` waited for and found. */
export function describeSettle(result, quietMs = 5_000) {
  const criterion = `no API writes but heartbeats (Leases, node status) for ${quietMs / 1000} s and kube-controller-manager's work queues empty`;
  const written = result.written.size === 0 ? 'nothing written meanwhile' : `written meanwhile: ${describeWrites(result.written)}`;
  if (result.atRest) return `at rest after ${(result.ms / 1000).toFixed(1)} s (${criterion}); ${written}`;
  const busy = result.busy.size === 0 ? '' : `; kube-controller-manager busy: ${[...result.busy].map(([name, what]) => `${name} ${what}`).join(', ')}`;
  return `NOT at rest after ${(result.ms / 1000).toFixed(1)} s (${criterion}): still writing ${describeWrites(result.lastWrites)}${busy}; ${written}`;
}

// `node bench/cluster-settle.mjs KUBECONFIG [KCM_METRICS_URL]` waits and prints one line of JSON:
// the push bench runs it so, in a process of its own, because reading the API server's /metrics
// (about 3 MB a read) in the controller's process would add to the memory the bench measures.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [kubeconfig, controllerManagerMetrics] = process.argv.slice(2);
  if (kubeconfig === undefined) throw new Error('usage: node bench/cluster-settle.mjs KUBECONFIG [KCM_METRICS_URL]');
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kube = new KubeConfig();
  kube.loadFromFile(kubeconfig);
  const result = await settleCluster({ kube, controllerManagerMetrics });
  process.stdout.write(`${JSON.stringify({ ms: result.ms, atRest: result.atRest, description: describeSettle(result) })}\n`);
}
