import { z } from 'zod';
import { isZeroSha, splitRef, type EventSource, type MergeRequestState, type ParsedDelivery } from '../event.js';
import { bodyDigest, commitIdSchema, readPayload } from '../payload.js';
import { headerValue, verifyGitlabToken } from '../signature.js';
import type { WebhookCodec, WebhookDelivery } from '../types.js';

// Only the fields diploid reads, as GitLab's webhook event reference documents them.
const project = z.object({ path_with_namespace: z.string() });

const kindOnly = z.object({ object_kind: z.string() });

const pushPayload = z.object({
  object_kind: z.enum(['push', 'tag_push']),
  ref: z.string(),
  before: commitIdSchema,
  after: commitIdSchema,
  project,
});

const mergeRequestPayload = z.object({
  object_kind: z.literal('merge_request'),
  project,
  object_attributes: z.object({
    iid: z.number().int(),
    state: z.string(),
    action: z.string().optional(),
    source_branch: z.string(),
    target_branch: z.string(),
    source_project_id: z.number().int(),
    target_project_id: z.number().int(),
    last_commit: z.object({ id: commitIdSchema }),
    oldrev: z.union([commitIdSchema, z.literal('')]).optional(),
    draft: z.boolean().optional(),
    work_in_progress: z.boolean().optional(),
    url: z.string().optional(),
  }),
});

type SourceOf = (repoPath: string) => EventSource;

/** GitLab's webhooks: `X-Gitlab-Event`, `X-Gitlab-Token`, `Idempotency-Key` (GitLab 17.4+). */
export const gitlabWebhooks: WebhookCodec = {
  provider: 'gitlab',

  matches(delivery) {
    return headerValue(delivery.headers, 'x-gitlab-event') !== undefined;
  },

  verify(delivery, secret) {
    return verifyGitlabToken(secret, headerValue(delivery.headers, 'x-gitlab-token'));
  },

  parse(delivery, target) {
    const source: SourceOf = (repoPath) => ({
      host: target.host,
      repo: target.repo,
      provider: 'gitlab',
      repoPath,
      deliveryId: headerValue(delivery.headers, 'idempotency-key') ?? bodyDigest(delivery.body),
    });
    // The body's object_kind is authoritative: system hooks send push bodies under another header.
    const { object_kind: kind } = readPayload(delivery.body, kindOnly, 'GitLab event');
    switch (kind) {
      case 'push':
      case 'tag_push':
        return parsePush(delivery, source);
      case 'merge_request':
        return parseMergeRequest(delivery, source);
      default:
        return { type: 'ignored', reason: `event ${kind} is not one diploid follows` };
    }
  },
};

function parsePush(delivery: WebhookDelivery, source: SourceOf): ParsedDelivery {
  const payload = readPayload(delivery.body, pushPayload, 'GitLab push event');
  const ref = splitRef(payload.ref);
  const from = source(payload.project.path_with_namespace);
  if (ref === undefined) return { type: 'ignored', reason: `ref ${payload.ref} is neither a branch nor a tag` };
  const deleted = isZeroSha(payload.after);
  if (ref.type === 'tag') {
    return { type: 'event', event: { ...from, kind: 'tag', tag: ref.name, before: payload.before, after: payload.after, deleted } };
  }
  // GitLab reports a branch deletion as a push whose `after` is all zeros.
  if (deleted) return { type: 'event', event: { ...from, kind: 'branch-deleted', branch: ref.name, before: payload.before } };
  return {
    type: 'event',
    event: { ...from, kind: 'push', branch: ref.name, before: payload.before, after: payload.after, created: isZeroSha(payload.before) },
  };
}

/** GitLab's MR states are `opened`, `closed`, `merged` and `locked` (a transient state while merging). */
function mergeRequestState(state: string): MergeRequestState {
  if (state === 'merged') return 'merged';
  if (state === 'closed') return 'closed';
  return 'open';
}

function parseMergeRequest(delivery: WebhookDelivery, source: SourceOf): ParsedDelivery {
  const payload = readPayload(delivery.body, mergeRequestPayload, 'GitLab merge request event');
  const mr = payload.object_attributes;
  return {
    type: 'event',
    event: {
      ...source(payload.project.path_with_namespace),
      kind: 'merge-request',
      branch: mr.source_branch,
      targetBranch: mr.target_branch,
      number: mr.iid,
      state: mergeRequestState(mr.state),
      action: mr.action ?? mr.state,
      after: mr.last_commit.id,
      // `oldrev` is present only when the update brought new commits.
      ...(mr.oldrev ? { before: mr.oldrev } : {}),
      draft: mr.draft === true || mr.work_in_progress === true,
      fromFork: mr.source_project_id !== mr.target_project_id,
      ...(mr.url ? { url: mr.url } : {}),
    },
  };
}
