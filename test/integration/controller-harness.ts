/**
 * The controller as `diploid controller` wires it (webhook server with the in-cluster delivery
 * log, queue, loop, reconciler, resync), started against the test bed, with GitHub deliveries
 * signed the way GitHub signs them. Only the git host's API is absent: commit statuses go to a
 * recorder.
 */
import { request } from 'node:http';
import { ConfigMapDeliveryLog } from '../../src/controller/delivery-log.js';
import { EventQueue } from '../../src/controller/event-queue.js';
import { KubeDeployer } from '../../src/controller/deployer.js';
import { JobImageBuilder } from '../../src/controller/builder.js';
import { ControllerLoop } from '../../src/controller/loop.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import type { StatusReporter, StatusTarget } from '../../src/controller/reporter.js';
import { readResyncRequests } from '../../src/controller/resync.js';
import { ConfigMapStatusStore } from '../../src/controller/status-store.js';
import { startWebhookServer, type RunningWebhookServer } from '../../src/controller/webhook-server.js';
import { HttpRegistryClient } from '../../src/cluster/registry.js';
import { DEFAULT_BUILDER_IMAGE } from '../../src/cluster/build-job.js';
import { webhookPath, webhookRoutes } from '../../src/hosts/routes.js';
import { githubSignature } from '../../src/hosts/signature.js';
import type { RepoTarget } from '../../src/hosts/targets.js';
import type { CommitStatus } from '../../src/hosts/types.js';
import { deriveWebhookSecret } from '../../src/hosts/webhook-secret.js';
import { kubeConfig } from './testbed.js';

export const MASTER_SECRET = 'integration-master-secret-0123456789abcdef';

export interface HarnessOptions {
  readonly ops: string;
  readonly urls: Readonly<Record<string, string>>;
  /** Repo name -> path on the (pretend) GitHub host; each gets a webhook route. */
  readonly hooked: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly cacheDir: string;
  readonly resyncMs?: number;
  readonly deployTimeoutMs?: number;
  /** The reconciler's clock (preview TTLs); the real one by default. */
  readonly now?: () => Date;
}

/** One running controller; `stop` then `start` again is a restart (memory gone, cluster kept). */
export class ControllerHarness {
  readonly logs: string[] = [];
  readonly reports: Array<{ target: StatusTarget; status: CommitStatus }> = [];
  private server: RunningWebhookServer | undefined;
  private loop: ControllerLoop | undefined;
  private readonly targets: RepoTarget[];

  constructor(readonly options: HarnessOptions) {
    this.targets = Object.entries(options.hooked).map(([name, path]) => ({ hostName: 'bed', host: { provider: 'github', token: { env: 'UNUSED' } }, repo: { name, path } }));
  }

  async start(): Promise<void> {
    const kube = kubeConfig();
    const log = (line: string) => void this.logs.push(line);
    const recorder: StatusReporter = { report: async (target, status) => void this.reports.push({ target, status }) };
    const locations = { urls: this.options.urls };
    const store = new ConfigMapStatusStore(kube, this.options.namespace);
    const reconciler = new Reconciler({
      ops: this.options.ops,
      locations,
      cacheDir: this.options.cacheDir,
      store,
      builder: new JobImageBuilder(kube, new HttpRegistryClient(), { namespace: this.options.namespace, image: DEFAULT_BUILDER_IMAGE }, 60_000),
      deployer: new KubeDeployer(kube, this.options.deployTimeoutMs ?? 90_000),
      reporter: recorder,
      log,
      ...(this.options.now === undefined ? {} : { now: this.options.now }),
    });
    const queue = new EventQueue();
    this.server = await startWebhookServer({
      routes: webhookRoutes(this.targets, MASTER_SECRET),
      queue,
      deliveries: new ConfigMapDeliveryLog(kube, this.options.namespace),
      port: 0,
      log,
    });
    const resync = () => readResyncRequests({ ops: this.options.ops, locations, cacheDir: this.options.cacheDir, store });
    this.loop = new ControllerLoop({ queue, reconciler, resync, resyncMs: this.options.resyncMs ?? 3_600_000, log });
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.server?.close();
    await this.loop?.stop();
    this.server = undefined;
    this.loop = undefined;
  }

  /** Runs a resync pass now, as the periodic timer would. */
  resync(): void {
    if (this.loop === undefined) throw new Error('the controller is not running');
    this.loop.requestResync();
  }

  /** Posts a GitHub push delivery for `repo`, signed with its derived secret; returns the HTTP status and body. */
  async push(repo: string, delivery: string, body: { ref: string; before: string; after: string }): Promise<{ status: number; body: string }> {
    const server = this.server;
    if (server === undefined) throw new Error('the controller is not running');
    const path = this.options.hooked[repo];
    if (path === undefined) throw new Error(`no hook for ${repo}`);
    const payload = Buffer.from(JSON.stringify({ ...body, created: /^0+$/.test(body.before), deleted: /^0+$/.test(body.after), repository: { full_name: path } }));
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': githubSignature(payload, deriveWebhookSecret(MASTER_SECRET, 'bed', path)),
      'content-length': String(payload.length),
    };
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}${webhookPath('bed', repo)}`, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Resolves once a log line matching `pattern` appears at or after index `from`. */
  async waitForLog(pattern: RegExp, from = 0, timeoutMs = 120_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.slice(from).find((item) => pattern.test(item));
      if (line !== undefined) return line;
      if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} in ${timeoutMs / 1000}s; logs:\n${this.logs.slice(from).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
