import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { StatusStore } from '../controller/status-store.js';
import { condition, type EnvironmentStatus } from '../controller/status.js';
import { UserError } from '../errors.js';

/** Who runs the command, for the history: `user@host`. Never a credential. */
export function operator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

/** Adds `--wait` and `--timeout` to a command that sets or ends a pin. */
export function withWaitOptions(command: Command): Command {
  return command
    .option('--wait', 'wait until the controller has deployed it (or failed to)')
    .option('--timeout <seconds>', 'how long --wait waits', parseSeconds, 300);
}

function parseSeconds(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('a number of seconds');
  return value;
}

/**
 * Waits for the controller to act on an edit made at `since`: a deploy recorded after it with the
 * expected cause, or a Stalled condition set after it (the deploy failed).
 */
export async function waitForDeploy(store: StatusStore, environment: string, since: string, cause: 'git' | 'rollback' | 'promotion', timeoutSeconds: number): Promise<EnvironmentStatus> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const status = await store.get(environment);
    const last = status?.history?.[0];
    if (status !== undefined && last !== undefined && last.cause === cause && last.deployedAt >= since) return status;
    const stalled = condition(status, 'Stalled');
    if (stalled?.status === 'True' && stalled.lastTransitionTime >= since) throw new UserError(`${environment} did not deploy: ${stalled.reason}: ${stalled.message}`);
    if (Date.now() > deadline) throw new UserError(`${environment}: the controller did not deploy within ${timeoutSeconds}s; is it running? (\`diploid status --env ${environment}\` shows where it stands)`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
