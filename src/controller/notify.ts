import type { EnvironmentOutcome } from './environment-report.js';
import type { EnvironmentStatus } from './status.js';

/** Something that happened to an environment that people may want to hear about. */
export interface DeployEvent {
  readonly kind: 'deployed' | 'failed' | 'rolled-back' | 'promoted';
  readonly environment: string;
  readonly repo?: string;
  readonly commit?: string;
  readonly revision?: string;
  /** CamelCase reason of the outcome (`Succeeded`, `RolloutFailed`, `BuildFailed`...). */
  readonly reason: string;
  /** The status message: names, commits and object names, never a secret value. */
  readonly message: string;
  /** For a promotion: where it came from. */
  readonly from?: string;
}

/** Tells people; never throws (a notification that cannot be sent must not fail a deploy). */
export interface Notifier {
  notify(event: DeployEvent): Promise<void>;
}

/** The event of a reconcile's outcome, or none (unchanged, skipped, a retry to come). Pure. */
export function deployEvent(outcome: EnvironmentOutcome, status: EnvironmentStatus | undefined): DeployEvent | undefined {
  if (outcome.result !== 'deployed' && outcome.result !== 'stalled') return undefined;
  const cause = status?.history?.[0]?.cause;
  const kind = outcome.result === 'stalled' ? 'failed' : cause === 'rollback' ? 'rolled-back' : cause === 'promotion' ? 'promoted' : 'deployed';
  return {
    kind,
    environment: outcome.environment,
    ...(status?.repo === undefined ? {} : { repo: status.repo }),
    ...(status?.commit === undefined ? {} : { commit: status.commit }),
    ...(status?.appliedRevision === undefined ? {} : { revision: status.appliedRevision }),
    reason: outcome.reason,
    message: outcome.message,
    ...(kind === 'promoted' && status?.pin?.from !== undefined ? { from: status.pin.from } : {}),
  };
}

const ICON: Record<DeployEvent['kind'], string> = { deployed: ':white_check_mark:', failed: ':x:', 'rolled-back': ':rewind:', promoted: ':arrow_up:' };

/**
 * A Slack-compatible incoming-webhook payload (`text`, plus `blocks` for Slack and the event
 * itself under `diploid` for other receivers, which Slack ignores). Pure.
 */
export function notificationPayload(event: DeployEvent): Record<string, unknown> {
  const at = event.commit === undefined ? '' : ` at ${event.repo ?? ''}@${event.commit.slice(0, 12)}`;
  const what = event.kind === 'promoted' && event.from !== undefined ? `promoted from ${event.from}` : event.kind.replace('-', ' ');
  const text = `${ICON[event.kind]} ${event.environment}: ${what}${at} (${event.reason})`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      { type: 'context', elements: [{ type: 'plain_text', text: event.message.slice(0, 2900) }] },
    ],
    diploid: event,
  };
}

/**
 * Posts events to one URL (a Slack incoming webhook, or any receiver taking JSON). The URL is
 * itself a credential (Slack's carries its token), so it is never logged: failures name only
 * the HTTP status or the error's kind.
 */
export class WebhookNotifier implements Notifier {
  constructor(private readonly url: string, private readonly log: (line: string) => void = () => {}, private readonly timeoutMs = 10_000) {}

  async notify(event: DeployEvent): Promise<void> {
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(notificationPayload(event)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) this.log(`notify ${event.environment} ${event.kind}: the webhook answered ${response.status}`);
    } catch (error) {
      this.log(`notify ${event.environment} ${event.kind}: not sent (${error instanceof Error ? error.name : 'error'})`);
    }
  }
}
