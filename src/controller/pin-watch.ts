import type { EnvironmentStatus } from './status.js';
import type { StatusStore } from './status-store.js';

/**
 * What a status asks of the controller that it has not done yet: a pin (rollback, promotion)
 * not yet deployed, or an unpin while the environment still runs pinned commits. A key per
 * request, so each is asked for once, even when its deploy then fails. Pure.
 */
export function pendingPinRequest(status: EnvironmentStatus): string | undefined {
  const last = status.history?.[0];
  if (status.pin !== undefined) {
    const done = last !== undefined && last.cause === status.pin.reason && last.deployedAt >= status.pin.at;
    return done ? undefined : `${status.environment}:pin:${status.pin.at}`;
  }
  if (last !== undefined && last.cause !== 'git') return `${status.environment}:unpin:${last.deployedAt}`;
  return undefined;
}

/**
 * Polls the statuses for pins set by `diploid rollback`, `promote` and `unpin` (which only write
 * the status) and asks the loop for a resync pass, which deploys them. The status is the only
 * channel: the CLI needs no route to the controller, and a restart loses nothing, because a pin
 * not yet deployed is found again.
 */
export class PinWatcher {
  private readonly asked = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: { readonly store: StatusStore; readonly resync: () => void; readonly intervalMs: number; readonly log?: (line: string) => void }) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** One look at the statuses; true when it asked for a resync. */
  async check(): Promise<boolean> {
    const pending = (await this.options.store.list()).map(pendingPinRequest).filter((key): key is string => key !== undefined && !this.asked.has(key));
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
