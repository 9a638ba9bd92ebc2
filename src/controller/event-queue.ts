import type { HostEvent } from '../hosts/event.js';

/** Identifies a delivery: the same id from another repo's hook is another delivery. */
export function deliveryKey(event: Pick<HostEvent, 'host' | 'repo' | 'deliveryId'>): string {
  return `${event.host}\0${event.repo}\0${event.deliveryId}`;
}

/** What offering an event to the queue did. */
export type OfferResult = 'queued' | 'duplicate' | 'full';

export interface EventQueueOptions {
  /** How many delivery ids are remembered for deduplication; the oldest are forgotten first. */
  readonly rememberDeliveries?: number;
  /** Events waiting beyond this are refused (503), so a stuck consumer cannot exhaust memory. */
  readonly maxPending?: number;
}

/**
 * The hand-off between the webhook server and the reconciler: in memory, first in first out,
 * deduplicated by delivery id (the webhook server also records ids in the cluster, through a
 * `DeliveryLog`, so a restart forgets none). Losing its contents (a restart) delays deploys but
 * loses none, because the reconciler resyncs branch heads from git.
 */
export class EventQueue {
  private readonly pending: HostEvent[] = [];
  private readonly seen = new Set<string>();
  private readonly waiters: ((event: HostEvent) => void)[] = [];
  private readonly rememberDeliveries: number;
  private readonly maxPending: number;

  constructor(options: EventQueueOptions = {}) {
    this.rememberDeliveries = options.rememberDeliveries ?? 10_000;
    this.maxPending = options.maxPending ?? 10_000;
  }

  /** Adds an event unless its delivery was seen before. Never waits. */
  offer(event: HostEvent): OfferResult {
    const key = deliveryKey(event);
    if (this.seen.has(key)) return 'duplicate';
    if (this.pending.length >= this.maxPending) return 'full';
    this.remember(key);
    const waiter = this.waiters.shift();
    if (waiter) waiter(event);
    else this.pending.push(event);
    return 'queued';
  }

  /** The next event, waiting for one if none is queued. */
  take(): Promise<HostEvent> {
    const event = this.pending.shift();
    if (event) return Promise.resolve(event);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Every queued event, removing them. */
  drain(): HostEvent[] {
    return this.pending.splice(0, this.pending.length);
  }

  get size(): number {
    return this.pending.length;
  }

  private remember(key: string): void {
    this.seen.add(key);
    // A Set iterates in insertion order, so the first key is the oldest.
    if (this.seen.size > this.rememberDeliveries) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
