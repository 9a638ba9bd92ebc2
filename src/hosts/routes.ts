import type { HostProvider } from './event.js';
import type { RepoTarget } from './targets.js';
import { deriveWebhookSecret } from './webhook-secret.js';

/** Path prefix of webhook deliveries on the webhook server. */
export const WEBHOOK_PATH_PREFIX = '/hooks/';

/**
 * The path a repo's hook delivers to: `/hooks/<host>/<repo>`. The path, not the payload, says
 * which repo a delivery claims to be for, so the secret is known before the body is read.
 */
export function webhookPath(host: string, repo: string): string {
  return `${WEBHOOK_PATH_PREFIX}${encodeURIComponent(host)}/${encodeURIComponent(repo)}`;
}

/** Full hook URL from the public base URL of the webhook server (`https://diploid.example.com`). */
export function webhookUrl(publicUrl: string, host: string, repo: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${webhookPath(host, repo)}`;
}

/** What the webhook server needs to check one repo's deliveries. */
export interface WebhookRoute {
  readonly host: string;
  readonly repo: string;
  readonly provider: HostProvider;
  /** Derived per repo; never logged. */
  readonly secret: string;
}

/** Routes keyed by `webhookPath`. */
export function webhookRoutes(targets: readonly RepoTarget[], masterSecret: string): Map<string, WebhookRoute> {
  const routes = new Map<string, WebhookRoute>();
  for (const target of targets) {
    routes.set(webhookPath(target.hostName, target.repo.name), {
      host: target.hostName,
      repo: target.repo.name,
      provider: target.host.provider,
      secret: deriveWebhookSecret(masterSecret, target.hostName, target.repo.path),
    });
  }
  return routes;
}
