import type { Pin } from './history.js';
import type { PinStore } from './pin-store.js';
import type { EnvironmentStatus } from './status.js';
import type { StatusStore } from './status-store.js';

/**
 * What an operator asked of the controller that it has not done yet: a pin (rollback, promotion)
 * not yet deployed, or an unpin while the environment still runs pinned commits. A key per
 * request, so each is asked for once, even when its deploy then fails. Pure.
 */
export function pendingPinRequest(status: EnvironmentStatus, pin: Pin | undefined): string | undefined {
  const last = status.history?.[0];
  if (pin !== undefined) {
    const done = last !== undefined && last.cause === pin.reason && last.deployedAt >= pin.at;
    return done ? undefined : `${status.environment}:pin:${pin.at}`;
  }
  if (last !== undefined && last.cause !== 'git') return `${status.environment}:unpin:${last.deployedAt}`;
  return undefined;
}

/**
 * Polls for pins set by `diploid rollback`, `promote` and `unpin` (which only write the pin
 * ConfigMaps) and asks the loop for a resync pass, which deploys them. The cluster is the only
 * channel: the CLI needs no route to the controller, and a restart loses nothing, because a pin
 * not yet deployed is found again.
 */
export class PinWatcher {
  private readonly asked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: { readonly store: StatusStore; readonly pins: PinStore; readonly resync: () => void; readonly intervalMs: number; readonly log?: (line: string) => void }) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** One look at the statuses and pins; true when it asked for a resync. */
  async check(): Promise<boolean> {
    const pins = await this.options.pins.list();
    const pending = (await this.options.store.list())
      .map((status) => pendingPinRequest(status, pins.get(status.environment)))
      .filter((key): key is string => key !== undefined && !this.asked.has(key));
    if (pending.length === 0) return false;
    for (const key of pending) this.asked.add(key);
    this.options.log?.(`pins: ${pending.join(', ')}; resyncing`);
    this.options.resync();
    return true;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.check()
        .catch((error: unknown) => this.options.log?.(`pins: cannot read statuses: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
  }
}
