import type { HostProvider } from './event.js';
import { githubWebhooks } from './github/webhook.js';
import { gitlabWebhooks } from './gitlab/webhook.js';
import type { WebhookCodec } from './types.js';

/** Webhook verification and parsing per provider; needs no token, so the webhook server has none. */
export const webhookCodecs: Readonly<Record<HostProvider, WebhookCodec>> = {
  github: githubWebhooks,
  gitlab: gitlabWebhooks,
};
