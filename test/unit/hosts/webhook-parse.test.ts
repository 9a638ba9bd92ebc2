import { describe, expect, it } from 'vitest';
import { githubWebhooks } from '../../../src/hosts/github/webhook.js';
import { gitlabWebhooks } from '../../../src/hosts/gitlab/webhook.js';
import { MalformedPayloadError } from '../../../src/hosts/errors.js';
import { githubSignature } from '../../../src/hosts/signature.js';
import type { HostEvent } from '../../../src/hosts/event.js';
import { githubExamples, gitlabFixture } from './helpers.js';

const target = { host: 'hub', repo: 'hello' };
const SECRET = 'a-repo-secret-of-some-length';

function github(event: string, payload: unknown, delivery = 'd-1') {
  const body = Buffer.from(JSON.stringify(payload));
  return { headers: { 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': githubSignature(body, SECRET) }, body };
}

function gitlab(event: string, body: Buffer, headers: Record<string, string> = {}) {
  return { headers: { 'x-gitlab-event': event, 'x-gitlab-token': SECRET, ...headers }, body };
}

function eventOf(parsed: ReturnType<typeof githubWebhooks.parse>): HostEvent {
  if (parsed.type !== 'event') throw new Error(`expected an event, got ignored: ${parsed.reason}`);
  return parsed.event;
}

describe('GitHub webhooks (payloads from @octokit/webhooks-examples)', () => {
  it('verifies X-Hub-Signature-256 over the exact bytes, and rejects forgeries', () => {
    const delivery = github('push', githubExamples('push')[0]);
    expect(githubWebhooks.verify(delivery, SECRET)).toBe(true);
    expect(githubWebhooks.verify(delivery, 'another-secret-entirely')).toBe(false);
    expect(githubWebhooks.verify({ ...delivery, body: Buffer.concat([delivery.body, Buffer.from(' ')]) }, SECRET)).toBe(false);
    expect(githubWebhooks.verify({ ...delivery, headers: { ...delivery.headers, 'x-hub-signature-256': undefined } }, SECRET)).toBe(false);
    // The SHA-1 header of old hooks is not accepted in place of SHA-256.
    expect(githubWebhooks.verify({ ...delivery, headers: { 'x-hub-signature-256': 'sha1=abc' } }, SECRET)).toBe(false);
  });

  it('turns a branch-creating push into a push event', () => {
    const payload = githubExamples('push').find((p) => p.ref === 'refs/heads/master');
    expect(payload).toBeDefined();
    expect(eventOf(githubWebhooks.parse(github('push', payload), target))).toEqual({
      host: 'hub',
      repo: 'hello',
      provider: 'github',
      repoPath: 'Codertocat/Hello-World',
      deliveryId: 'd-1',
      kind: 'push',
      branch: 'master',
      before: '0000000000000000000000000000000000000000',
      after: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      created: true,
    });
  });

  it('turns tag pushes into tag events, deleted when after is zero', () => {
    const [created, deleted] = [
      githubExamples('push').find((p) => p.ref.startsWith('refs/tags/') && p.created),
      githubExamples('push').find((p) => p.ref.startsWith('refs/tags/') && p.deleted),
    ];
    expect(eventOf(githubWebhooks.parse(github('push', created), target))).toMatchObject({ kind: 'tag', tag: 'simple-tag', deleted: false });
    expect(eventOf(githubWebhooks.parse(github('push', deleted), target))).toMatchObject({ kind: 'tag', tag: 'simple-tag', deleted: true, after: '0000000000000000000000000000000000000000' });
  });

  it('turns a push that deletes a branch into branch-deleted', () => {
    const payload = { ...githubExamples('push').find((p) => p.deleted), ref: 'refs/heads/feature-x' };
    expect(eventOf(githubWebhooks.parse(github('push', payload), target))).toMatchObject({ kind: 'branch-deleted', branch: 'feature-x', before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246' });
  });

  it('turns a delete event of a branch into branch-deleted, and ignores tag deletions', () => {
    const example = githubExamples('delete')[0];
    expect(example?.ref_type).toBe('tag');
    expect(githubWebhooks.parse(github('delete', example), target)).toMatchObject({ type: 'ignored' });
    const branch = { ...example, ref: 'feature-x', ref_type: 'branch' };
    expect(eventOf(githubWebhooks.parse(github('delete', branch), target))).toMatchObject({ kind: 'branch-deleted', branch: 'feature-x' });
  });

  it('normalizes pull requests: opened, synchronize (with before), closed and merged', () => {
    const examples = githubExamples('pull_request');
    const opened = eventOf(githubWebhooks.parse(github('pull_request', examples.find((p) => p.action === 'opened')), target));
    expect(opened).toMatchObject({ kind: 'merge-request', action: 'opened', state: 'open', number: 2, branch: 'changes', targetBranch: 'master', fromFork: false });
    expect(opened).not.toHaveProperty('before');

    const sync = eventOf(githubWebhooks.parse(github('pull_request', examples.find((p) => p.action === 'synchronize')), target));
    expect(sync).toMatchObject({ action: 'synchronize', before: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e', after: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821' });

    const closed = examples.find((p) => p.action === 'closed');
    expect(eventOf(githubWebhooks.parse(github('pull_request', closed), target))).toMatchObject({ state: 'closed' });
    const merged = { ...closed, pull_request: { ...closed!.pull_request, merged: true } };
    expect(eventOf(githubWebhooks.parse(github('pull_request', merged), target))).toMatchObject({ state: 'merged' });
  });

  it('acknowledges pings and events diploid does not follow without an event', () => {
    for (const ping of githubExamples('ping')) expect(githubWebhooks.parse(github('ping', ping), target)).toEqual({ type: 'ignored', reason: 'ping' });
    expect(githubWebhooks.parse(github('star', githubExamples('star')[0]), target)).toMatchObject({ type: 'ignored' });
  });

  it('rejects a body that is not the JSON the event promised', () => {
    expect(() => githubWebhooks.parse({ headers: { 'x-github-event': 'push' }, body: Buffer.from('{"ref": "refs/he') }, target)).toThrow(MalformedPayloadError);
    expect(() => githubWebhooks.parse(github('push', { ref: 'refs/heads/x' }), target)).toThrow(/before/);
  });
});

describe('GitLab webhooks (payloads from GitLab\'s webhook event reference)', () => {
  it('verifies X-Gitlab-Token in constant time, and rejects a missing or wrong one', () => {
    const delivery = gitlab('Push Hook', gitlabFixture('push'));
    expect(gitlabWebhooks.verify(delivery, SECRET)).toBe(true);
    expect(gitlabWebhooks.verify(delivery, `${SECRET}x`)).toBe(false);
    expect(gitlabWebhooks.verify({ ...delivery, headers: { 'x-gitlab-event': 'Push Hook' } }, SECRET)).toBe(false);
    expect(gitlabWebhooks.verify({ ...delivery, headers: { 'x-gitlab-token': '' } }, SECRET)).toBe(false);
  });

  it('turns a push into a push event, with Idempotency-Key as the delivery id', () => {
    const parsed = gitlabWebhooks.parse(gitlab('Push Hook', gitlabFixture('push'), { 'idempotency-key': 'key-1' }), { host: 'lab', repo: 'diaspora' });
    expect(eventOf(parsed)).toEqual({
      host: 'lab',
      repo: 'diaspora',
      provider: 'gitlab',
      repoPath: 'mike/diaspora',
      deliveryId: 'key-1',
      kind: 'push',
      branch: 'master',
      before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      created: false,
    });
  });

  it('falls back to a hash of the body for a delivery id, equal for a redelivery', () => {
    const first = eventOf(gitlabWebhooks.parse(gitlab('Push Hook', gitlabFixture('push')), target));
    const again = eventOf(gitlabWebhooks.parse(gitlab('Push Hook', gitlabFixture('push')), target));
    const other = eventOf(gitlabWebhooks.parse(gitlab('Push Hook', gitlabFixture('branch-deleted')), target));
    expect(first.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(again.deliveryId).toBe(first.deliveryId);
    expect(other.deliveryId).not.toBe(first.deliveryId);
  });

  it('turns a push whose after is all zeros into branch-deleted', () => {
    expect(eventOf(gitlabWebhooks.parse(gitlab('Push Hook', gitlabFixture('branch-deleted')), target))).toMatchObject({
      kind: 'branch-deleted',
      branch: 'feature-x',
      before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
    });
  });

  it('turns a tag push into a tag event', () => {
    expect(eventOf(gitlabWebhooks.parse(gitlab('Tag Push Hook', gitlabFixture('tag-push')), target))).toMatchObject({
      kind: 'tag',
      tag: 'v1.0.0',
      repoPath: 'jsmith/example',
      after: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
      deleted: false,
    });
  });

  it('normalizes merge requests, and their merged and closed states', () => {
    const body = gitlabFixture('merge-request');
    expect(eventOf(gitlabWebhooks.parse(gitlab('Merge Request Hook', body), target))).toMatchObject({
      kind: 'merge-request',
      number: 1,
      branch: 'ms-viewport',
      targetBranch: 'master',
      state: 'open',
      action: 'open',
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      draft: false,
      fromFork: false,
      url: 'http://example.com/diaspora/merge_requests/1',
    });
    const payload = JSON.parse(body.toString());
    for (const [state, expected] of [['merged', 'merged'], ['closed', 'closed'], ['locked', 'open']] as const) {
      payload.object_attributes.state = state;
      const parsed = eventOf(gitlabWebhooks.parse(gitlab('Merge Request Hook', Buffer.from(JSON.stringify(payload))), target));
      expect(parsed).toMatchObject({ state: expected });
    }
    payload.object_attributes.oldrev = '95790bf891e76fee5e1747ab589903a6a1f80f22';
    payload.object_attributes.source_project_id = 99;
    expect(eventOf(gitlabWebhooks.parse(gitlab('Merge Request Hook', Buffer.from(JSON.stringify(payload))), target))).toMatchObject({
      before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
      fromFork: true,
    });
  });

  it('ignores kinds it does not follow, and rejects malformed bodies', () => {
    expect(gitlabWebhooks.parse(gitlab('Note Hook', Buffer.from('{"object_kind":"note"}')), target)).toMatchObject({ type: 'ignored' });
    expect(() => gitlabWebhooks.parse(gitlab('Push Hook', Buffer.from('[1,2')), target)).toThrow(MalformedPayloadError);
    expect(() => gitlabWebhooks.parse(gitlab('Push Hook', Buffer.from('{"object_kind":"push"}')), target)).toThrow(MalformedPayloadError);
  });
});
