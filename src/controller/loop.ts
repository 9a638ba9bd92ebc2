import type { EventQueue } from './event-queue.js';
import { backoffMs, classifyError } from './errors.js';
import type { Reconciler, ReconcileRequest } from './reconciler.js';
import { requestFromEvent } from './requests.js';

export interface ControllerLoopOptions {
  readonly queue: EventQueue;
  readonly reconciler: Reconciler;
  /** The requests of one resync pass (branch heads read from git). */
  readonly resync: () => Promise<ReconcileRequest[]>;
  /** Time between resyncs; the first runs at start, which is how a restart catches up. */
  readonly resyncMs: number;
  readonly log?: (line: string) => void;
  /** Retries of a retryable failure before waiting for the next resync instead. */
  readonly maxAttempts?: number;
}

interface Work {
  readonly request: ReconcileRequest;
  readonly attempt: number;
}

/**
 * The controller's one worker: webhook events, retries and resync passes, one at a time, so two
 * reconciles never race on the same environment. Nothing here needs to survive a restart: the
 * resync at start re-derives everything from git and the cluster.
 */
export class ControllerLoop {
  private readonly work: Work[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;
  private resyncDue = true;
  private timers = new Set<NodeJS.Timeout>();
  private running: Promise<void> | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ControllerLoopOptions) {
    this.log = options.log ?? (() => {});
  }

  start(): void {
    this.running = this.run();
    void this.pumpEvents();
    const timer = setInterval(() => {
      this.resyncDue = true;
      this.notify();
    }, this.options.resyncMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Runs a resync pass as soon as the current work is done (as the timer does). */
  requestResync(): void {
    this.resyncDue = true;
    this.notify();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.notify();
    await this.running;
  }

  private async pumpEvents(): Promise<void> {
    while (!this.stopped) {
      const event = await this.options.queue.take();
      if (this.stopped) return;
      const request = requestFromEvent(event);
      if (request === undefined) continue;
      this.work.push({ request, attempt: 1 });
      this.notify();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.resyncDue) {
        this.resyncDue = false;
        await this.resyncPass();
        continue;
      }
      const next = this.work.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      await this.handle(next);
    }
  }

  private async resyncPass(): Promise<void> {
    let requests: ReconcileRequest[];
    try {
      requests = await this.options.resync();
    } catch (error) {
      this.log(`resync: cannot read branch heads, trying at the next resync: ${classifyError(error).message}`);
      return;
    }
    const done = new Set<string>();
    for (const request of requests) {
      if (this.stopped) return;
      const result = await this.options.reconciler.reconcile(request, done).catch((error: unknown) => ({ outcomes: [], notes: [], error: { retryable: true, message: String(error) } }));
      for (const outcome of result.outcomes) if (outcome.result !== 'skipped') done.add(outcome.environment);
    }
    try {
      for (const outcome of await this.options.reconciler.expire()) this.log(`${outcome.environment}: deleted (${outcome.reason}) ${outcome.message}`);
    } catch (error) {
      this.log(`expiring previews failed, trying at the next resync: ${classifyError(error).message}`);
    }
  }

  private async handle(work: Work): Promise<void> {
    let retry = false;
    try {
      const result = await this.options.reconciler.reconcile(work.request);
      retry = result.error?.retryable === true || result.outcomes.some((outcome) => outcome.result === 'retry');
    } catch (error) {
      this.log(`reconcile ${work.request.repo} ${work.request.branch}: internal error (a bug in diploid): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      retry = true;
    }
    if (!retry) return;
    if (work.attempt >= (this.options.maxAttempts ?? 8)) {
      this.log(`reconcile ${work.request.repo} ${work.request.branch}: giving up after ${work.attempt} attempts; the next resync tries again`);
      return;
    }
    const delay = backoffMs(work.attempt, { random: Math.random });
    this.log(`reconcile ${work.request.repo} ${work.request.branch}: retrying in ${Math.round(delay / 1000)}s`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.work.push({ request: work.request, attempt: work.attempt + 1 });
      this.notify();
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }
}
