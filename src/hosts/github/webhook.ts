import { z } from 'zod';
import { isZeroSha, splitRef, type EventSource, type MergeRequestState, type ParsedDelivery } from '../event.js';
import { bodyDigest, commitIdSchema, readPayload } from '../payload.js';
import { headerValue, verifyGithubSignature } from '../signature.js';
import type { WebhookCodec, WebhookDelivery } from '../types.js';

// Only the fields diploid reads; GitHub's payloads carry far more (see @octokit/webhooks-examples).
const repository = z.object({ full_name: z.string() });

const pushPayload = z.object({
  ref: z.string(),
  before: commitIdSchema,
  after: commitIdSchema,
  created: z.boolean().optional(),
  deleted: z.boolean().optional(),
  repository,
});

const deletePayload = z.object({
  ref: z.string(),
  ref_type: z.enum(['branch', 'tag']),
  repository,
});

const pullRequestPayload = z.object({
  action: z.string(),
  number: z.number().int(),
  before: commitIdSchema.optional(),
  after: commitIdSchema.optional(),
  pull_request: z.object({
    state: z.enum(['open', 'closed']),
    merged: z.boolean().nullable().optional(),
    draft: z.boolean().optional(),
    html_url: z.string().optional(),
    head: z.object({ ref: z.string(), sha: commitIdSchema, repo: repository.nullable() }),
    base: z.object({ ref: z.string(), repo: repository }),
  }),
  repository,
});

/** GitHub's webhooks: `X-GitHub-Event`, `X-GitHub-Delivery`, `X-Hub-Signature-256`. */
export const githubWebhooks: WebhookCodec = {
  provider: 'github',

  matches(delivery) {
    return headerValue(delivery.headers, 'x-github-event') !== undefined;
  },

  verify(delivery, secret) {
    return verifyGithubSignature(delivery.body, secret, headerValue(delivery.headers, 'x-hub-signature-256'));
  },

  parse(delivery, target) {
    const event = headerValue(delivery.headers, 'x-github-event') ?? '';
    const source: SourceOf = (repoPath) => ({
      host: target.host,
      repo: target.repo,
      provider: 'github',
      repoPath,
      deliveryId: headerValue(delivery.headers, 'x-github-delivery') ?? bodyDigest(delivery.body),
    });
    switch (event) {
      case 'ping':
        return { type: 'ignored', reason: 'ping' };
      case 'push':
        return parsePush(delivery, source);
      case 'delete': {
        const payload = readPayload(delivery.body, deletePayload, 'GitHub delete event');
        if (payload.ref_type === 'tag') return { type: 'ignored', reason: 'tag deletion (the push event reports it)' };
        return { type: 'event', event: { ...source(payload.repository.full_name), kind: 'branch-deleted', branch: payload.ref } };
      }
      case 'pull_request':
        return parsePullRequest(delivery, source);
      default:
        return { type: 'ignored', reason: `event ${event || '(none)'} is not one diploid follows` };
    }
  },
};

/** Builds the event's source fields once the payload has named the repository. */
type SourceOf = (repoPath: string) => EventSource;

function parsePush(delivery: WebhookDelivery, source: SourceOf): ParsedDelivery {
  const payload = readPayload(delivery.body, pushPayload, 'GitHub push event');
  const ref = splitRef(payload.ref);
  const from = source(payload.repository.full_name);
  if (ref === undefined) return { type: 'ignored', reason: `ref ${payload.ref} is neither a branch nor a tag` };
  const deleted = payload.deleted === true || isZeroSha(payload.after);
  if (ref.type === 'tag') {
    return { type: 'event', event: { ...from, kind: 'tag', tag: ref.name, before: payload.before, after: payload.after, deleted } };
  }
  if (deleted) return { type: 'event', event: { ...from, kind: 'branch-deleted', branch: ref.name, before: payload.before } };
  const created = payload.created === true || isZeroSha(payload.before);
  return { type: 'event', event: { ...from, kind: 'push', branch: ref.name, before: payload.before, after: payload.after, created } };
}

function parsePullRequest(delivery: WebhookDelivery, source: SourceOf): ParsedDelivery {
  const payload = readPayload(delivery.body, pullRequestPayload, 'GitHub pull_request event');
  const pr = payload.pull_request;
  const state: MergeRequestState = pr.merged ? 'merged' : pr.state === 'open' ? 'open' : 'closed';
  // A deleted fork leaves `head.repo` null: still a fork, and its commits are not in our repository.
  const fromFork = pr.head.repo === null || pr.head.repo.full_name !== pr.base.repo.full_name;
  return {
    type: 'event',
    event: {
      ...source(payload.repository.full_name),
      kind: 'merge-request',
      branch: pr.head.ref,
      targetBranch: pr.base.ref,
      number: payload.number,
      state,
      action: payload.action,
      after: pr.head.sha,
      ...(payload.action === 'synchronize' && payload.before ? { before: payload.before } : {}),
      draft: pr.draft === true,
      fromFork,
      ...(pr.html_url ? { url: pr.html_url } : {}),
    },
  };
}
