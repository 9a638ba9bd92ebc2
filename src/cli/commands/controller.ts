import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { kubeConfigFrom } from '../../cluster/kube-client.js';
import { credentialsFromDockerConfig, type RegistryCredentials } from '../../cluster/registry-auth.js';
import { ensureNamespace } from '../../cluster/namespace.js';
import { ConfigMapDeliveryLog } from '../../controller/delivery-log.js';
import { ClusterInbox } from '../../controller/inbox.js';
import { LeaseElector } from '../../controller/lease.js';
import { ControllerLoop } from '../../controller/loop.js';
import { PinWatcher } from '../../controller/pin-watch.js';
import { WebhookNotifier } from '../../controller/notify.js';
import { startUiServer } from '../../controller/ui/server.js';
import { liveWorkloads } from '../../cluster/workloads.js';
import { ConfigMapPinStore } from '../../controller/pin-store.js';
import { DEFAULT_CONTROLLER_NAMESPACE } from '../../controller/manifests.js';
import { readResyncRequests } from '../../controller/resync.js';
import { SwappableStatusReporter } from '../../controller/reporter.js';
import { createReconciler, readOpsConfig, routesFor, statusReporterFor } from '../../controller/runtime.js';
import { ConfigMapStatusStore } from '../../controller/status-store.js';
import { startWebhookServer, type EventSink } from '../../controller/webhook-server.js';
import type { WebhookRoute } from '../../hosts/routes.js';
import { UserError } from '../../errors.js';
import { readSecret } from '../../hosts/token.js';
import { durationMs } from '../../plan/targets.js';
import { OPS_REPO } from '../../plan/types.js';
import { locateOps } from '../../sources/git/locate.js';
import { controllerHeap } from '../heap.js';
import type { Output } from '../output.js';
import { collect, defaultCacheDir, parsePort, parseRepoUrl, secretSource } from '../options.js';

interface ControllerOptions {
  ops?: string;
  gitRoot?: string;
  repoUrl: string[];
  kubeconfig?: string;
  namespace?: string;
  port: number;
  host: string;
  secretEnv?: string;
  secretFile?: string;
  webhooks: boolean;
  resync?: string;
  cache?: string;
  builderImage?: string;
  plainHttpRegistry: string[];
  registryConfig?: string;
  once?: boolean;
  leaseDuration: string;
  notifyWebhookEnv?: string;
  notifyWebhookFile?: string;
  uiPort?: number;
  uiHost: string;
  uiTokenEnv?: string;
  uiTokenFile?: string;
}

/** Adds `diploid controller`: webhook server, reconciler and periodic resync in one process. */
export function registerControllerCommand(program: Command, output: Output): void {
  program
    .command('controller')
    .description('Run the gitops loop: receive webhooks, reconcile pushes (build, deploy, status) and resync branch heads from git.')
    .option('--ops <url|dir>', 'the ops repo to follow (default: $DIPLOID_OPS)')
    .option('--git-root <dir>', 'folder of local repos: <dir>/<path>.git, <dir>/<name>.git ...')
    .option('--repo-url <name=url>', 'where a repo is cloned from (repeatable); wins over --git-root and git.hosts', collect, [])
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)')
    .option('--namespace <name>', `namespace for statuses and build Jobs (default: controller.namespace or ${DEFAULT_CONTROLLER_NAMESPACE})`)
    .option('--port <port>', 'webhook port', parsePort, 8080)
    .option('--host <address>', 'webhook address', '0.0.0.0')
    .option('--secret-env <name>', 'environment variable holding the webhook master secret (default: webhooks.secret, else DIPLOID_WEBHOOK_SECRET)')
    .option('--secret-file <path>', 'file holding the webhook master secret')
    .option('--no-webhooks', 'no webhook server: follow git by resync only')
    .option('--resync <duration>', 'how often branch heads are read from git, e.g. 5m (default: controller.resync or 5m)')
    .option('--cache <dir>', 'git mirrors (default: $DIPLOID_CACHE or ~/.cache/diploid)')
    .option('--builder-image <image>', 'image of build Jobs (default: controller.builderImage or moby/buildkit)')
    .option('--registry-config <file>', 'a Docker config.json with registry credentials for the registry check (ignored when missing)')
    .option('--plain-http-registry <host>', 'registry host reached over plain HTTP (repeatable)', collect, [])
    .option('--notify-webhook-env <name>', 'environment variable holding a webhook URL (Slack-compatible) told of deploys, failures, rollbacks and promotions')
    .option('--notify-webhook-file <path>', 'file holding that URL (a mounted Secret)')
    .option('--ui-port <port>', 'serve the read-only web UI on this port (off unless given)', parsePort)
    .option('--ui-host <address>', 'web UI address', '0.0.0.0')
    .option('--ui-token-env <name>', 'environment variable holding the web UI token (default: DIPLOID_UI_TOKEN)')
    .option('--ui-token-file <path>', 'file holding the web UI token')
    .option('--once', 'run one resync pass and exit (for a CronJob, or to check the setup)')
    .option('--lease-duration <duration>', 'how long a dead leader holds the leader Lease before another replica takes over', '15s')
    .action(async (options: ControllerOptions) => {
      const heap = controllerHeap();
      const log = (line: string) => output.err(`${new Date().toISOString()} ${line}\n`);
      const urls = Object.fromEntries(options.repoUrl.map(parseRepoUrl));
      const locations = { ...(options.gitRoot === undefined ? {} : { gitRoot: options.gitRoot }), urls };
      const ops = urls[OPS_REPO] ?? locateOps(options.ops ?? process.env.DIPLOID_OPS, locations);
      if (ops === undefined) throw new UserError('where is the ops repo? pass --ops URL (or set DIPLOID_OPS)');
      const cacheDir = options.cache ?? defaultCacheDir();
      const config = await readOpsConfig({ ops, locations, cacheDir });
      const namespace = options.namespace ?? config.controller?.namespace ?? DEFAULT_CONTROLLER_NAMESPACE;
      const resync = options.resync ?? config.controller?.resync ?? '5m';
      const resyncMs = durationMs(resync);
      if (!Number.isFinite(resyncMs) || resyncMs <= 0) throw new UserError(`--resync expects a duration such as 30s, 5m or 1h, got "${resync}"`);
      const kube = kubeConfigFrom(options.kubeconfig);
      // Statuses, the delivery log and build Jobs live there: without it every reconcile would fail.
      if (await ensureNamespace(kube, namespace)) log(`controller: created namespace ${namespace}`);
      const notifier = await notifierFrom(options, log);
      const registryCredentials = readRegistryConfig(options.registryConfig);
      const settings = { ops, locations, cacheDir, namespace, ...(notifier === undefined ? {} : { notifier }), plainHttpRegistries: options.plainHttpRegistry, registryCredentials, log, ...(options.builderImage === undefined ? {} : { builderImage: options.builderImage }) };
      const reporter = new SwappableStatusReporter(statusReporterFor(config, log));
      const reconciler = createReconciler(kube, config, settings, reporter);
      const store = new ConfigMapStatusStore(kube, namespace);
      const resyncRequests = () => readResyncRequests({ ops, locations, cacheDir, store });

      if (options.once === true) {
        const done = new Set<string>();
        let failed = 0;
        for (const request of await resyncRequests()) {
          const result = await reconciler.reconcile(request, done);
          if (result.error !== undefined) failed++;
          for (const outcome of result.outcomes) {
            if (outcome.result !== 'skipped') done.add(outcome.environment);
            if (outcome.result === 'stalled' || outcome.result === 'retry') failed++;
            if (outcome.result !== 'skipped') output.out(`${outcome.environment}: ${outcome.result} (${outcome.reason}) ${outcome.message}\n`);
          }
        }
        for (const outcome of await reconciler.expire()) output.out(`${outcome.environment}: ${outcome.result} (${outcome.reason}) ${outcome.message}\n`);
        if (failed > 0) throw new UserError(`${failed} reconcile${failed === 1 ? '' : 's'} did not succeed (see above, and the status ConfigMaps in ${namespace})`);
        return;
      }

      // Every replica serves webhooks and hands requests over through the cluster; only the Lease's holder reconciles.
      const inbox = new ClusterInbox(kube, namespace);
      let server: Awaited<ReturnType<typeof startWebhookServer>> | undefined;
      let loop: ControllerLoop | undefined;
      let routes: Map<string, WebhookRoute> | undefined;
      let master = '';
      if (options.webhooks) {
        master = await readSecret(secretSource(options, config.webhooks?.secret), 'webhook master secret');
        routes = new Map(routesFor(config, master));
        const deliveries = new ConfigMapDeliveryLog(kube, namespace);
        // Liveness follows the worker: the leader's loop stuck on one piece of work fails /healthz.
        // Written to the inbox here, then read at once by this replica's loop when it leads (others poll it).
        const queue: EventSink = { offer: async (event) => {
          const result = await inbox.offer(event);
          loop?.readInbox();
          return result;
        } };
        server = await startWebhookServer({ routes, queue, deliveries, port: options.port, host: options.host, log, healthy: () => loop?.healthy() ?? true });
        log(`webhooks: listening on ${server.url} for ${routes.size} repos`);
      }
      // Repos, hosts and routes follow the ops config without a restart: read again at every resync
      // interval, into a cache of its own (git must not fetch one mirror twice at once).
      const reload = setInterval(() => {
        void readOpsConfig({ ops, locations, cacheDir: join(cacheDir, 'config-reload') })
          .then((next) => {
            if (routes !== undefined) {
              const fresh = routesFor(next, master);
              for (const path of [...routes.keys()]) if (!fresh.has(path)) routes.delete(path);
              for (const [path, route] of fresh) routes.set(path, route);
            }
            reporter.swap(statusReporterFor(next, log));
          })
          .catch((error: unknown) => log(`controller: keeping the previous repos and hosts; cannot read the ops config: ${error instanceof Error ? error.message : String(error)}`));
      }, resyncMs);
      reload.unref();
      const identity = `${process.env.HOSTNAME ?? hostname()}-${randomBytes(3).toString('hex')}`;
      const leaseMs = durationMs(options.leaseDuration);
      if (!Number.isFinite(leaseMs) || leaseMs < 1000) throw new UserError(`--lease-duration expects a duration of at least 1s, such as 15s, got "${options.leaseDuration}"`);
      const elector = new LeaseElector(kube, namespace, identity, { log, durationMs: leaseMs });
      let stopping: Promise<void> = Promise.resolve();
      elector.run(
        () => {
          // A new loop per term: its first resync catches up with whatever the previous leader left.
          loop = new ControllerLoop({ inbox, reconciler, resync: resyncRequests, resyncMs, log, idle: heap.collect });
          loop.start();
        },
        () => {
          const ending = loop;
          loop = undefined;
          stopping = ending?.stop() ?? Promise.resolve();
        },
      );
      const ui = options.uiPort === undefined ? undefined : await startUiServer({
        store: new ConfigMapStatusStore(kube, namespace),
        pins: new ConfigMapPinStore(kube, namespace),
        workloads: (target) => liveWorkloads(kube, target),
        token: await readSecret(options.uiTokenFile !== undefined ? { file: options.uiTokenFile } : { env: options.uiTokenEnv ?? 'DIPLOID_UI_TOKEN' }, 'web UI token'),
        port: options.uiPort,
        host: options.uiHost,
        log,
      });
      if (ui !== undefined) log(`ui: serving the read-only web UI on ${ui.url}`);
      // Rollback, promote and unpin only write the status: this notices them and asks the leader's loop for a pass.
      const pins = new PinWatcher({ store: new ConfigMapStatusStore(kube, namespace), pins: new ConfigMapPinStore(kube, namespace), resync: () => loop?.requestResync(), intervalMs: 5_000, log });
      pins.start();
      log(`controller ${identity}: following ${ops}, statuses in namespace ${namespace}, resync every ${resync}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      log('controller: stopping');
      clearInterval(reload);
      await server?.close();
      pins.stop();
      await ui?.close();
      await loop?.stop();
      await stopping;
      // Given up at once, so the other replica need not wait for the Lease to expire.
      await elector.stop(true);
    });
}





/** The opt-in notifier: its URL is a credential, read from the environment or a file, never from a flag's value. */
async function notifierFrom(options: ControllerOptions, log: (line: string) => void): Promise<WebhookNotifier | undefined> {
  if (options.notifyWebhookEnv !== undefined && options.notifyWebhookFile !== undefined) throw new UserError('pass --notify-webhook-env or --notify-webhook-file, not both');
  const source = options.notifyWebhookEnv !== undefined ? { env: options.notifyWebhookEnv } : options.notifyWebhookFile !== undefined ? { file: options.notifyWebhookFile } : undefined;
  if (source === undefined) return undefined;
  const url = (await readSecret(source, 'notification webhook URL')).trim();
  if (!/^https?:\/\//.test(url)) throw new UserError(`the notification webhook URL (from ${'env' in source ? `$${source.env}` : source.file}) is not an http(s) URL`);
  return new WebhookNotifier(url, log);
}

/** Registry credentials from a Docker config.json; none when the file is absent (the Secret is optional). */
function readRegistryConfig(file: string | undefined): Record<string, RegistryCredentials> {
  if (file === undefined || !existsSync(file)) return {};
  try {
    return credentialsFromDockerConfig(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserError(`--registry-config ${file}: expected a Docker config.json ({"auths": {"<host>": {"auth": "<base64 user:password>"}}}): ${error instanceof Error ? error.message : String(error)}`);
  }
}
