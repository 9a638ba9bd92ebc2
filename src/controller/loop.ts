import type { EventQueue } from './event-queue.js';
import type { InboxEntry } from './inbox.js';
import { backoffMs, classifyError } from './errors.js';
import type { Reconciler, ReconcileRequest } from './reconciler.js';
import { requestFromEvent } from './requests.js';

/** Requests kept outside this process (the in-cluster inbox): read, then acknowledged once handled. */
export interface RequestInbox {
  entries(): Promise<InboxEntry[]>;
  ack(entry: InboxEntry): Promise<void>;
}

export interface ControllerLoopOptions {
  /** Webhook events handed over in memory (one replica)... */
  readonly queue?: EventQueue;
  /** ...or through the cluster (several replicas: only the leader runs the loop). */
  readonly inbox?: RequestInbox;
  /** How often the inbox is read. */
  readonly inboxPollMs?: number;
  readonly reconciler: Reconciler;
  /** The requests of one resync pass (branch heads read from git). */
  readonly resync: () => Promise<ReconcileRequest[]>;
  /** Time between resyncs; the first runs at start, which is how a restart catches up. */
  readonly resyncMs: number;
  readonly log?: (line: string) => void;
  /** Retries of a retryable failure before waiting for the next resync instead. */
  readonly maxAttempts?: number;
  /** One reconcile or resync pass running longer than this makes the loop unhealthy (liveness fails). */
  readonly maxBusyMs?: number;
  readonly now?: () => number;
  /** Called when the loop runs out of work after doing some: the controller collects its garbage then. */
  readonly idle?: () => void;
}

interface Work {
  readonly request: ReconcileRequest;
  readonly attempt: number;
  /** The inbox entry it came from, acknowledged when the work is done. */
  readonly entry?: InboxEntry;
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
  private readonly inFlight = new Set<string>();
  /** The inbox was written by this process since its last read began (see `readInbox`). */
  private inboxReadDue = false;
  private inboxWake: (() => void) | undefined;
  /** When the work in hand started; undefined while idle. */
  private busySince: number | undefined;
  private running: Promise<void> | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ControllerLoopOptions) {
    this.log = options.log ?? (() => {});
  }

  start(): void {
    this.running = this.run();
    if (this.options.queue !== undefined) void this.pumpEvents(this.options.queue);
    if (this.options.inbox !== undefined) void this.pumpInbox(this.options.inbox);
    const timer = setInterval(() => {
      this.resyncDue = true;
      this.notify();
    }, this.options.resyncMs);
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * False when one piece of work has run longer than `maxBusyMs` (default 45 minutes: longer than
   * a build's and a rollout's own timeouts), i.e. the worker is stuck: liveness then restarts the pod.
   */
  healthy(): boolean {
    const now = this.options.now?.() ?? Date.now();
    return this.busySince === undefined || now - this.busySince <= (this.options.maxBusyMs ?? 45 * 60_000);
  }

  /** Runs a resync pass as soon as the current work is done (as the timer does). */
  requestResync(): void {
    this.resyncDue = true;
    this.notify();
  }

  /**
   * Reads the inbox now instead of at the next poll: this replica's own webhook server has just
   * written to it, and a push need not wait up to a poll interval (1 s) to start. Requests that
   * other replicas write are still picked up by the poll.
   */
  readInbox(): void {
    this.inboxReadDue = true;
    this.inboxWake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.notify();
    this.inboxWake?.();
    await this.running;
  }

  private async pumpInbox(inbox: RequestInbox): Promise<void> {
    while (!this.stopped) {
      this.inboxReadDue = false;
      try {
        for (const entry of await inbox.entries()) {
          const id = `${entry.key}\0${entry.value}`;
          if (this.inFlight.has(id)) continue;
          this.inFlight.add(id);
          this.work.push({ request: entry.request, attempt: 1, entry });
          this.notify();
        }
      } catch (error) {
        this.log(`inbox: cannot read it, trying again: ${classifyError(error).message}`);
      }
      // Written while it was being read: read again at once, the entry may have come too late for this read.
      if (this.inboxReadDue) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, this.options.inboxPollMs ?? 1_000);
        timer.unref();
        this.timers.add(timer);
        this.inboxWake = () => {
          clearTimeout(timer);
          this.timers.delete(timer);
          resolve();
        };
      });
      this.inboxWake = undefined;
    }
  }

  private async done(work: Work): Promise<void> {
    if (work.entry === undefined || this.options.inbox === undefined) return;
    try {
      await this.options.inbox.ack(work.entry);
    } catch (error) {
      // Left in the inbox: it is reconciled again, which changes nothing that is done.
      this.log(`inbox: cannot acknowledge ${work.request.repo} ${work.request.branch}: ${classifyError(error).message}`);
    } finally {
      // Only now: a poll of the inbox during the ack would otherwise queue the same push again
      // (and a push reconciled twice would end a rollback's pin set in between).
      this.inFlight.delete(`${work.entry.key}\0${work.entry.value}`);
    }
  }

  private async pumpEvents(queue: EventQueue): Promise<void> {
    while (!this.stopped) {
      const event = await queue.take();
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
    let worked = false;
    while (!this.stopped) {
      if (this.resyncDue) {
        this.resyncDue = false;
        await this.busy(() => this.resyncPass());
        worked = true;
        continue;
      }
      const next = this.work.shift();
      if (next === undefined) {
        if (worked) this.options.idle?.();
        worked = false;
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      await this.busy(() => this.handle(next));
      worked = true;
    }
  }

  private async busy(work: () => Promise<void>): Promise<void> {
    this.busySince = this.options.now?.() ?? Date.now();
    try {
      await work();
    } finally {
      this.busySince = undefined;
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
    if (!retry) return this.done(work);
    if (work.attempt >= (this.options.maxAttempts ?? 8)) {
      this.log(`reconcile ${work.request.repo} ${work.request.branch}: giving up after ${work.attempt} attempts; the next resync tries again`);
      return this.done(work);
    }
    const delay = backoffMs(work.attempt, { random: Math.random });
    this.log(`reconcile ${work.request.repo} ${work.request.branch}: retrying in ${Math.round(delay / 1000)}s`);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.work.push({ ...work, attempt: work.attempt + 1 });
      this.notify();
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }
}
