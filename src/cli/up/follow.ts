/**
 * Follows one environment as the controller builds and deploys it: prints a line whenever its
 * status (the ConfigMap the controller writes), a build Job or a workload changes, and probes
 * every route through the ingress until each answers. Ends when the status is Ready for the
 * pushed commits and every route answers, when the controller gives up (Stalled), or at the deadline.
 */
import { get as httpGet } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { BUILD_LABEL } from '../../cluster/build-job.js';
import { condition, type EnvironmentStatus } from '../../controller/status.js';
import { ConfigMapStatusStore } from '../../controller/status-store.js';

type Log = (line: string) => void;

/** One route of the environment, as users reach it. */
export interface Route {
  readonly service: string;
  /** The Ingress host, e.g. `production.shop.localhost`. */
  readonly host: string;
  readonly path: string;
  /** What a person opens: the host with the ingress's port. */
  readonly url: string;
  /** The status code it answered with, once it has. */
  status?: number;
  /** Seconds after the start of `up` it first answered. */
  answeredAfter?: number;
}

export interface FollowOptions {
  readonly kube: k8s.KubeConfig;
  readonly controllerNamespace: string;
  readonly environment: string;
  readonly namespace: string;
  /** Repo name -> commit pushed: the status must name these before it counts. */
  readonly commits: Readonly<Record<string, string>>;
  /** Where requests go (the ingress's address), when routes are probed; without it they are listed only. */
  readonly ingressUrl?: string;
  /** The routes the pushed commits render; without them, the Ingresses found in the namespace. */
  readonly routes?: readonly Route[];
  readonly startedAt: number;
  readonly deadline: number;
  readonly log: Log;
}

export type FollowResult =
  /** Deployed and every route answers; `pending`: workloads still short of pods (an autoscaler's). */
  | { readonly outcome: 'ready'; readonly routes: Route[]; readonly pending: string[] }
  | { readonly outcome: 'stalled'; readonly routes: Route[]; readonly reason: string; readonly message: string }
  | { readonly outcome: 'timeout'; readonly routes: Route[]; readonly waitingFor: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when the status is about the pushed commits (every repo's commit matches). */
function current(status: EnvironmentStatus, commits: Readonly<Record<string, string>>): boolean {
  return Object.entries(commits).every(([repo, commit]) => status.commits?.[repo] === commit);
}

/**
 * A GET through the ingress with the route's host; undefined when nothing answered. node:http,
 * not fetch: fetch drops a `Host` header, which is how the ingress tells routes apart.
 */
export function probe(ingressUrl: string, route: Pick<Route, 'host' | 'path'>): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = httpGet(new URL(route.path, ingressUrl), { headers: { host: route.host }, timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
      response.on('error', () => resolve(undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** Routes of the environment's Ingresses in the cluster. */
async function routesOf(kube: k8s.KubeConfig, namespace: string, ingressUrl: string | undefined): Promise<Route[]> {
  const list = await kube.makeApiClient(k8s.NetworkingV1Api).listNamespacedIngress({ namespace });
  return ingressRoutes(list.items, ingressUrl);
}

/** Routes of Ingress objects, with URLs on the ingress's port. Pure. */
export function ingressRoutes(ingresses: ReadonlyArray<Pick<k8s.V1Ingress, 'metadata' | 'spec'>>, ingressUrl: string | undefined): Route[] {
  const port = ingressUrl === undefined ? '' : new URL(ingressUrl).port;
  const routes: Route[] = [];
  for (const ingress of ingresses) {
    const service = ingress.metadata?.labels?.['app.kubernetes.io/name'] ?? ingress.metadata?.name ?? '?';
    for (const rule of ingress.spec?.rules ?? []) {
      if (rule.host === undefined) continue;
      const path = rule.http?.paths?.[0]?.path ?? '/';
      const scheme = ingressUrl === undefined && (ingress.spec?.tls?.length ?? 0) > 0 ? 'https' : 'http';
      routes.push({ service, host: rule.host, path, url: `${scheme}://${rule.host}${port === '' ? '' : `:${port}`}${path}` });
    }
  }
  return routes.sort((a, b) => a.url.localeCompare(b.url));
}

/** A line per change of what is worth a line: status reason, build Jobs, workloads' ready pods. */
class Changes {
  private readonly seen = new Map<string, string>();
  constructor(private readonly log: Log, private readonly startedAt: number) {}
  note(key: string, value: string, line: string): void {
    if (this.seen.get(key) === value) return;
    this.seen.set(key, value);
    this.log(`[${elapsed(this.startedAt)}] ${line}`);
  }
}

export function elapsed(since: number): string {
  const seconds = Math.round((Date.now() - since) / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

async function noteBuilds(options: FollowOptions, changes: Changes): Promise<void> {
  const jobs = await options.kube.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: options.controllerNamespace, labelSelector: BUILD_LABEL });
  for (const job of jobs.items) {
    const service = job.metadata?.labels?.[BUILD_LABEL] ?? '?';
    const commit = job.metadata?.annotations?.['diploid.dev/commit'];
    if (commit !== undefined && !Object.values(options.commits).includes(commit)) continue;
    const s = job.status;
    const state = (s?.succeeded ?? 0) > 0 ? 'built' : s?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') === true ? 'FAILED' : 'building';
    const took = state !== 'building' && s?.startTime !== undefined && s.completionTime !== undefined ? ` in ${Math.round((s.completionTime.getTime() - s.startTime.getTime()) / 1000)}s` : '';
    changes.note(`job/${job.metadata?.name}`, state, `build ${service}: ${state}${took} (${job.metadata?.annotations?.['diploid.dev/image'] ?? ''})`);
  }
}

/** Notes workloads' ready pods; returns those not fully ready. */
async function noteWorkloads(options: FollowOptions, changes: Changes): Promise<string[]> {
  const apps = options.kube.makeApiClient(k8s.AppsV1Api);
  const namespace = options.namespace;
  const [deployments, statefulSets, daemonSets] = await Promise.all([
    apps.listNamespacedDeployment({ namespace }),
    apps.listNamespacedStatefulSet({ namespace }),
    apps.listNamespacedDaemonSet({ namespace }),
  ]);
  const rows: Array<[string, number, number]> = [
    ...deployments.items.map((d): [string, number, number] => [d.metadata?.name ?? '?', d.status?.readyReplicas ?? 0, d.spec?.replicas ?? 1]),
    ...statefulSets.items.map((s): [string, number, number] => [s.metadata?.name ?? '?', s.status?.readyReplicas ?? 0, s.spec?.replicas ?? 1]),
    ...daemonSets.items.map((d): [string, number, number] => [d.metadata?.name ?? '?', d.status?.numberReady ?? 0, d.status?.desiredNumberScheduled ?? 0]),
  ];
  for (const [name, ready, wanted] of rows) changes.note(`workload/${name}`, `${ready}/${wanted}`, `${name}: ${ready}/${wanted} pods ready`);
  return rows.filter(([, ready, wanted]) => wanted === 0 || ready < wanted).map(([name, ready, wanted]) => `${name} (${ready}/${wanted} ready)`);
}

/** Follows the environment until it is ready and answers, stalls, or the deadline passes. */
export async function follow(options: FollowOptions): Promise<FollowResult> {
  const { kube, environment, log } = options;
  const store = new ConfigMapStatusStore(kube, options.controllerNamespace);
  const changes = new Changes(log, options.startedAt);
  let routes: Route[] = [];
  // With a cluster of the user's, nothing is pushed: the controller's first status is what counts.
  const what = Object.keys(options.commits).length === 0 ? 'the commits its branch rule names' : 'the pushed commits';
  let waitingFor = `the controller to pick up ${what} in ${environment}`;
  for (;;) {
    const status = await store.get(environment);
    // Fresh: a successful deploy of the pushed commits. Ours: the controller works on one of them
    // (a deploy in progress or failed records no commits yet, only the commit it reconciles).
    const fresh = status !== undefined && current(status, options.commits);
    const stalled = status === undefined ? undefined : condition(status, 'Stalled');
    const working = status !== undefined && (condition(status, 'Reconciling')?.status === 'True' || stalled?.status === 'True');
    const ours = fresh || (working && Object.values(options.commits).includes(status.commit ?? ''));
    if (status === undefined || !ours) {
      changes.note('status', 'waiting', `${environment}: waiting for the controller to read ${what}`);
    } else {
      const ready = condition(status, 'Ready');
      const reconciling = condition(status, 'Reconciling');
      const shown = stalled?.status === 'True' ? stalled : ready?.status === 'True' ? ready : reconciling ?? ready;
      if (shown !== undefined) changes.note('status', `${shown.reason}|${shown.message}`, `${environment}: ${shown.reason}: ${shown.message}`);
    }
    // A stall counts when it is about a pushed commit, or came after the start.
    if (status !== undefined && stalled?.status === 'True' && (ours || Date.parse(stalled.lastTransitionTime) >= options.startedAt)) {
      if (!ours) changes.note('status', `${stalled.reason}|${stalled.message}`, `${environment}: ${stalled.reason}: ${stalled.message}`);
      await anyProbeChange();
      return { outcome: 'stalled', routes, reason: stalled.reason, message: stalled.message };
    }
    await noteBuilds(options, changes);
    const pending = await noteWorkloads(options, changes);
    // Answers count once the controller works on the pushed commits: before, they are the previous version's.
    if (ours) await anyProbeChange();
    const readyNow = fresh && status !== undefined && condition(status, 'Ready')?.status === 'True';
    const answering = options.ingressUrl === undefined || (routes.length > 0 && routes.every((route) => route.answeredAfter !== undefined));
    if (readyNow && answering) {
      const ingressUrl = options.ingressUrl;
      if (ingressUrl === undefined) return { outcome: 'ready', routes, pending };
      // Answers seen during the rollout may have come from pods it has since replaced: ask each route again.
      const again = await Promise.all(routes.map(async (route) => ({ route, status: await probe(ingressUrl, route) })));
      const silent = again.filter(({ status }) => status === undefined || status === 404 || status >= 500);
      if (silent.length === 0) return { outcome: 'ready', routes, pending };
      for (const { route } of silent) delete route.answeredAfter;
    }
    waitingFor = !readyNow ? `${environment} to be Ready` : `routes to answer: ${routes.filter((route) => route.answeredAfter === undefined).map((route) => route.url).join(', ')}`;
    if (Date.now() > options.deadline) return { outcome: 'timeout', routes, waitingFor };
    await sleep(2000);
  }

  /** Refreshes the routes and probes those not yet answering; true when one answered for the first time. */
  async function anyProbeChange(): Promise<boolean> {
    const known = new Map(routes.map((route) => [route.url, route]));
    const found = options.routes === undefined ? await routesOf(kube, options.namespace, options.ingressUrl) : options.routes.map((route) => ({ ...route }));
    routes = found.map((route) => known.get(route.url) ?? route);
    if (options.ingressUrl === undefined) return false;
    let changed = false;
    for (const route of routes) {
      if (route.answeredAfter !== undefined) continue;
      const status = await probe(options.ingressUrl, route);
      // Traefik answers 404 for a host it has no route for yet, and 502/503 while no pod serves.
      if (status === undefined || status === 404 || status >= 500) continue;
      route.status = status;
      route.answeredAfter = Math.round((Date.now() - options.startedAt) / 1000);
      changes.note(`route/${route.url}`, 'answers', `${route.service} answers ${status} at ${route.url}`);
      changed = true;
    }
    return changed;
  }
}
