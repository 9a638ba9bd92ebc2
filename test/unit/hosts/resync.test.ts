import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/controller/event-queue.js';
import { startWebhookServer, type RunningWebhookServer } from '../../../src/controller/webhook-server.js';
import { applyEvent, diffHeads, headsOf } from '../../../src/hosts/branch-heads.js';
import { ZERO_SHA } from '../../../src/hosts/event.js';
import { GithubHost } from '../../../src/hosts/github/client.js';
import { GitlabHost } from '../../../src/hosts/gitlab/client.js';
import { webhookPath, webhookRoutes } from '../../../src/hosts/routes.js';
import { githubSignature } from '../../../src/hosts/signature.js';
import type { RepoTarget } from '../../../src/hosts/targets.js';
import type { GitHost } from '../../../src/hosts/types.js';
import { deriveWebhookSecret } from '../../../src/hosts/webhook-secret.js';
import { FakeGithubApi } from '../../support/fake-github-api.js';
import { FakeGitlabApi } from '../../support/fake-gitlab-api.js';
import { githubExamples, gitlabFixture } from './helpers.js';

const MASTER = 'master-secret-for-resync-tests-42';

/** A deterministic pseudo-random sequence, so a failure replays the same drops. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function send(url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Scenario {
  readonly name: string;
  readonly target: RepoTarget;
  setBranch(branch: string, sha: string | undefined): void;
  truth(): Map<string, string>;
  delivery(branch: string, before: string, after: string, id: string, secret: string): { body: Buffer; headers: Record<string, string> };
  host(): GitHost;
  violations(): string[];
}

describe.each(['github', 'gitlab'] as const)('a lost delivery delays a deploy, never loses it (%s)', (provider) => {
  let scenario: Scenario;
  let server: RunningWebhookServer;
  let queue: EventQueue;
  let stop: () => Promise<void>;

  beforeEach(async () => {
    if (provider === 'github') {
      const api = new FakeGithubApi();
      await api.start();
      const repo = api.repo('octo/shop');
      const template = githubExamples('push').find((p) => p.ref === 'refs/heads/master')!;
      scenario = {
        name: 'github',
        target: { hostName: 'hub', host: { provider: 'github', token: { env: 'T' } }, repo: { name: 'shop', path: 'octo/shop' } },
        setBranch: (b, sha) => (sha ? repo.branches.set(b, sha) : repo.branches.delete(b)),
        truth: () => new Map(repo.branches),
        delivery: (branch, before, after, id, secret) => {
          const body = Buffer.from(JSON.stringify({ ...template, ref: `refs/heads/${branch}`, before, after, created: before === ZERO_SHA, deleted: after === ZERO_SHA }));
          return { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': id, 'x-hub-signature-256': githubSignature(body, secret) } };
        },
        host: () => new GithubHost({ name: 'hub', apiUrl: api.url, token: api.token, tokenSource: 'env T' }),
        violations: () => api.violations,
      };
      stop = () => api.stop();
    } else {
      const api = new FakeGitlabApi();
      await api.start();
      const project = api.project('shop/cart');
      const template = JSON.parse(gitlabFixture('push').toString());
      scenario = {
        name: 'gitlab',
        target: { hostName: 'lab', host: { provider: 'gitlab', token: { env: 'T' } }, repo: { name: 'cart', path: 'shop/cart' } },
        setBranch: (b, sha) => (sha ? project.branches.set(b, sha) : project.branches.delete(b)),
        truth: () => new Map(project.branches),
        delivery: (branch, before, after, id, secret) => {
          const body = Buffer.from(JSON.stringify({ ...template, ref: `refs/heads/${branch}`, before, after }));
          return { body, headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret, 'idempotency-key': id } };
        },
        host: () => new GitlabHost({ name: 'lab', baseUrl: api.url, token: api.token, tokenSource: 'env T' }),
        violations: () => api.violations,
      };
      stop = () => api.stop();
    }
    queue = new EventQueue();
    server = await startWebhookServer({ routes: webhookRoutes([scenario.target], MASTER), queue, port: 0 });
  });
  afterEach(async () => {
    await server.close();
    await stop();
    expect(scenario.violations()).toEqual([]);
  });

  it('reaches the host\'s branch heads after a third of the deliveries are dropped', async () => {
    const { target } = scenario;
    const secret = deriveWebhookSecret(MASTER, target.hostName, target.repo.path);
    const url = `${server.url}${webhookPath(target.hostName, target.repo.name)}`;
    const next = random(7);
    const branches = ['main', 'release', 'feature-a', 'feature-b', 'feature-c'];
    let known = new Map<string, string>();
    let dropped = 0;
    let delivered = 0;

    for (let step = 1; step <= 120; step++) {
      const branch = branches[Math.floor(next() * branches.length)]!;
      const before = scenario.truth().get(branch) ?? ZERO_SHA;
      // Mostly pushes; now and then a branch goes away.
      const after = before !== ZERO_SHA && branch !== 'main' && next() < 0.15 ? ZERO_SHA : step.toString(16).padStart(40, 'c');
      scenario.setBranch(branch, after === ZERO_SHA ? undefined : after);
      if (next() < 1 / 3) {
        dropped++;
        continue;
      }
      const { body, headers } = scenario.delivery(branch, before, after, `delivery-${step}`, secret);
      expect(await send(url, body, headers)).toBe(202);
      delivered++;
      for (const event of queue.drain()) known = applyEvent(known, event);
    }
    expect(dropped).toBeGreaterThan(20);
    expect(delivered).toBeGreaterThan(50);
    const truth = scenario.truth();
    // Webhooks alone leave us wrong: that is what the resync is for.
    expect(known).not.toEqual(truth);

    const listed = await scenario.host().listBranchHeads(target.repo);
    const missed = diffHeads(known, listed);
    expect(missed.length).toBeGreaterThan(0);
    for (const change of missed) {
      expect(change.after).toBe(truth.get(change.branch));
    }
    known = headsOf(listed);
    expect(known).toEqual(truth);
    // A resync with nothing missed finds nothing.
    expect(diffHeads(known, await scenario.host().listBranchHeads(target.repo))).toEqual([]);
  });
});
