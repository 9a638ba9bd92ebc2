import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/controller/event-queue.js';
import { startWebhookServer, type RunningWebhookServer } from '../../../src/controller/webhook-server.js';
import { webhookPath, webhookRoutes } from '../../../src/hosts/routes.js';
import { githubSignature } from '../../../src/hosts/signature.js';
import type { RepoTarget } from '../../../src/hosts/targets.js';
import { deriveWebhookSecret } from '../../../src/hosts/webhook-secret.js';
import { githubExamples, gitlabFixture } from '../hosts/helpers.js';
import { random } from './mutate.js';

/**
 * A seeded, bounded fuzz of the webhook endpoint, over real HTTP: forged deliveries (mutated
 * bodies, signatures, tokens, headers, routes) are never accepted, and nothing, forged or signed,
 * gets a 5xx. Same seed, same requests: a failure reproduces.
 */
const SEED = 0x5eed_1234;
const FORGERIES = 3_000;
const SIGNED_MUTATIONS = 1_000;

const MASTER = 'fuzz-master-secret-0123456789abcdef';
const targets: RepoTarget[] = [
  { hostName: 'hub', host: { provider: 'github', token: { env: 'GH' } }, repo: { name: 'hello', path: 'Codertocat/Hello-World' } },
  { hostName: 'hub', host: { provider: 'github', token: { env: 'GH' } }, repo: { name: 'other', path: 'Codertocat/Other' } },
  { hostName: 'lab', host: { provider: 'gitlab', token: { env: 'GL' } }, repo: { name: 'diaspora', path: 'mike/diaspora' } },
];
const secrets = {
  hello: deriveWebhookSecret(MASTER, 'hub', 'Codertocat/Hello-World'),
  other: deriveWebhookSecret(MASTER, 'hub', 'Codertocat/Other'),
  diaspora: deriveWebhookSecret(MASTER, 'lab', 'mike/diaspora'),
};
const githubPush = Buffer.from(JSON.stringify(githubExamples('push').find((payload) => payload.ref === 'refs/heads/master')!));
const gitlabPush = gitlabFixture('push');

interface Delivery {
  readonly path: string;
  readonly method?: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

function mutateBytes(next: () => number, body: Buffer): Buffer {
  const copy = Buffer.from(body);
  switch (Math.floor(next() * 4)) {
    case 0: {
      const at = Math.floor(next() * copy.length);
      copy[at] = (copy[at]! ^ (1 + Math.floor(next() * 255))) & 0xff;
      return copy;
    }
    case 1:
      return copy.subarray(0, Math.floor(next() * copy.length));
    case 2:
      return Buffer.concat([copy, Buffer.from(' ')]);
    default:
      return Buffer.from(copy.toString('utf8').replace('"master"', '"main"').replace('refs/heads/master', 'refs/heads/production'));
  }
}

/** A delivery nobody holding the secret made: each is one way an attacker might try. */
function forgery(next: () => number): Delivery {
  const hello = webhookPath('hub', 'hello');
  const lab = webhookPath('lab', 'diaspora');
  const github = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `d-${next()}` };
  const gitlab = { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook' };
  const signature = githubSignature(githubPush, secrets.hello);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  switch (Math.floor(next() * 10)) {
    case 0: // the body changed after signing
      return { path: hello, body: mutateBytes(next, githubPush), headers: { ...github, 'x-hub-signature-256': signature } };
    case 1: // a signature made with another repo's secret, or the master secret itself
      return { path: hello, body: githubPush, headers: { ...github, 'x-hub-signature-256': githubSignature(githubPush, pick([secrets.other, secrets.diaspora, MASTER, ''])) } };
    case 2: // malformed signatures
      return {
        path: hello,
        body: githubPush,
        headers: { ...github, 'x-hub-signature-256': pick(['', 'sha256=', signature.toUpperCase(), signature.replace('sha256=', 'sha1='), signature.slice(0, -1), `${signature}0`, `sha256=${'0'.repeat(64)}`, signature.replace('sha256=', '')]) },
      };
    case 3: // no signature at all, or one in the wrong header
      return { path: hello, body: githubPush, headers: next() < 0.5 ? github : { ...github, 'x-hub-signature': signature } };
    case 4: // a valid delivery of one repo, sent to another repo's endpoint
      return { path: webhookPath('hub', 'other'), body: githubPush, headers: { ...github, 'x-hub-signature-256': signature } };
    case 5: // GitLab tokens that are almost right
      return {
        path: lab,
        body: gitlabPush,
        headers: { ...gitlab, 'x-gitlab-token': pick([secrets.diaspora.slice(1), `${secrets.diaspora}0`, secrets.diaspora.toUpperCase(), secrets.hello, MASTER, '', secrets.diaspora.slice(0, -1) + 'x']) },
      };
    case 6: // GitHub's signature on the GitLab endpoint
      return { path: lab, body: gitlabPush, headers: { ...gitlab, 'x-hub-signature-256': githubSignature(gitlabPush, secrets.diaspora) } };
    case 7: // a repeated signature header (an HTTP library may join them)
      return { path: hello, body: githubPush, headers: { ...github, 'x-hub-signature-256': `${signature}, ${signature}` } };
    case 8: // paths that are not endpoints
      return { path: pick([`${hello}/../other`, `${hello}%2F..`, '/hooks/hub/', '/hooks', `/${'a'.repeat(5000)}`, `${hello}?x=1`.replace('hello', 'HELLO')]), body: githubPush, headers: { ...github, 'x-hub-signature-256': signature } };
    default: // content types and methods
      return { path: hello, method: pick(['POST', 'PUT', 'GET']), body: githubPush, headers: { ...github, 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', '']), 'x-hub-signature-256': next() < 0.5 ? '' : `sha256=${'f'.repeat(64)}` } };
  }
}

/** A JSON value mutated structurally: what someone holding a leaked secret could sign. */
function mutateJson(next: () => number, value: unknown, depth = 0): unknown {
  const odd = [null, 0, -1, 1e308, '', 'x'.repeat(1000), [], {}, true, '../../etc', '0'.repeat(40), { __proto__: { polluted: true } }];
  if (next() < 0.15 || depth > 6) return odd[Math.floor(next() * odd.length)];
  if (Array.isArray(value)) return value.map((item) => mutateJson(next, item, depth + 1));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (next() > 0.05) out[key] = next() < 0.3 ? mutateJson(next, item, depth + 1) : item;
    return out;
  }
  return value;
}

describe('webhook endpoint under fuzzing', { timeout: 240_000 }, () => {
  let server: RunningWebhookServer;
  let queue: EventQueue;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  beforeAll(async () => {
    queue = new EventQueue({ maxPending: 100_000 });
    server = await startWebhookServer({ routes: webhookRoutes(targets, MASTER), queue, port: 0 });
  });
  afterAll(async () => {
    agent.destroy();
    await server.close();
  });

  const send = (delivery: Delivery): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(`${server.url}${delivery.path}`, { agent, method: delivery.method ?? 'POST', headers: { ...delivery.headers, 'content-length': String(delivery.body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(delivery.body);
    });

  it(`accepts none of ${FORGERIES} forged deliveries and answers none with a 5xx`, async () => {
    const next = random(SEED);
    const statuses = new Map<number, number>();
    for (let index = 0; index < FORGERIES; index++) {
      const status = await send(forgery(next));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const accepted = queue.drain();
    console.log(`webhook fuzz: ${FORGERIES} forgeries, answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, accepted ${accepted.length}`);
    expect(accepted).toEqual([]);
    expect([...statuses.keys()].filter((status) => status >= 500 || status < 400)).toEqual([]);
  });

  it(`answers ${SIGNED_MUTATIONS} correctly signed but mutated payloads with 202 or 4xx, never 5xx, and queues only well-formed events`, async () => {
    const next = random(SEED + 1);
    const statuses = new Map<number, number>();
    const originals = [JSON.parse(githubPush.toString()) as unknown, JSON.parse(gitlabPush.toString()) as unknown];
    for (let index = 0; index < SIGNED_MUTATIONS; index++) {
      const github = index % 2 === 0;
      const body = Buffer.from(JSON.stringify(mutateJson(next, originals[github ? 0 : 1])));
      const headers: Record<string, string> = github
        ? { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': `m-${index}`, 'x-hub-signature-256': githubSignature(body, secrets.hello) }
        : { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secrets.diaspora, 'idempotency-key': `m-${index}` };
      const status = await send({ path: github ? webhookPath('hub', 'hello') : webhookPath('lab', 'diaspora'), body, headers });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const queued = queue.drain();
    console.log(`webhook fuzz: ${SIGNED_MUTATIONS} signed mutations, answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, queued ${queued.length}`);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    for (const event of queued) {
      expect(typeof event.repo).toBe('string');
      if ('branch' in event) expect(event.branch).toMatch(/^[^\0]+$/);
      if ('after' in event && event.after !== undefined) expect(event.after).toMatch(/^[0-9a-f]{40}$/);
    }
  });
});
