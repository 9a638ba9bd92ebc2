import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/controller/event-queue.js';
import { startWebhookServer, type RunningWebhookServer } from '../../../src/controller/webhook-server.js';
import { webhookPath, webhookRoutes } from '../../../src/hosts/routes.js';
import { githubSignature } from '../../../src/hosts/signature.js';
import { deriveWebhookSecret } from '../../../src/hosts/webhook-secret.js';
import type { RepoTarget } from '../../../src/hosts/targets.js';
import { githubExamples, gitlabFixture } from './helpers.js';

const MASTER = 'master-secret-for-tests-0123456789';
const targets: RepoTarget[] = [
  { hostName: 'hub', host: { provider: 'github', token: { env: 'GH' } }, repo: { name: 'hello', path: 'Codertocat/Hello-World' } },
  { hostName: 'lab', host: { provider: 'gitlab', token: { env: 'GL' } }, repo: { name: 'diaspora', path: 'mike/diaspora' } },
];
const githubSecret = deriveWebhookSecret(MASTER, 'hub', 'Codertocat/Hello-World');
const gitlabSecret = deriveWebhookSecret(MASTER, 'lab', 'mike/diaspora');
const pushPayload = githubExamples('push').find((p) => p.ref === 'refs/heads/master')!;

interface Reply {
  status: number;
  body: string;
}

/** One HTTP request over loopback; a connection the server closes early still yields its answer. */
function post(url: string, body: Buffer | string, headers: Record<string, string>, options: { contentLength?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(options.contentLength ?? Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    // The server may close the connection while we still write (413): the answer is what counts.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    req.end(body);
  });
}

function githubDelivery(payload: unknown, delivery: string, secret = githubSecret) {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': githubSignature(body, secret) },
  };
}

describe('webhook server over loopback HTTP', () => {
  let queue: EventQueue;
  let server: RunningWebhookServer;
  let logs: string[];
  const hub = () => `${server.url}${webhookPath('hub', 'hello')}`;
  const lab = () => `${server.url}${webhookPath('lab', 'diaspora')}`;

  beforeEach(async () => {
    queue = new EventQueue();
    logs = [];
    server = await startWebhookServer({ routes: webhookRoutes(targets, MASTER), queue, port: 0, maxBodyBytes: 64 * 1024, log: (line) => logs.push(line) });
  });
  afterEach(async () => {
    await server.close();
    // Secrets never reach the log.
    for (const line of logs) {
      expect(line).not.toContain(githubSecret);
      expect(line).not.toContain(gitlabSecret);
      expect(line).not.toContain(MASTER);
    }
  });

  it('accepts a valid GitHub delivery with 202 and enqueues one normalized event', async () => {
    const { body, headers } = githubDelivery(pushPayload, 'gh-1');
    const reply = await post(hub(), body, headers);
    expect(reply).toEqual({ status: 202, body: '{"status":"queued"}' });
    expect(queue.drain()).toEqual([expect.objectContaining({ host: 'hub', repo: 'hello', kind: 'push', branch: 'master', deliveryId: 'gh-1' })]);
  });

  it('accepts a valid GitLab delivery, including a charset on the content type', async () => {
    const reply = await post(lab(), gitlabFixture('push'), { 'content-type': 'application/json; charset=utf-8', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': gitlabSecret, 'idempotency-key': 'gl-1' });
    expect(reply.status).toBe(202);
    expect(queue.drain()).toEqual([expect.objectContaining({ host: 'lab', repo: 'diaspora', kind: 'push', branch: 'master', deliveryId: 'gl-1' })]);
  });

  it('answers 401 to forged, missing and other-repo signatures, and enqueues nothing', async () => {
    const forged = githubDelivery(pushPayload, 'gh-forged', 'not-the-secret-at-all');
    expect((await post(hub(), forged.body, forged.headers)).status).toBe(401);
    const { body, headers } = githubDelivery(pushPayload, 'gh-missing');
    const { 'x-hub-signature-256': _, ...unsigned } = headers;
    expect((await post(hub(), body, unsigned)).status).toBe(401);
    // A body signed for one repo does not pass on another repo's hook.
    const otherRepo = githubDelivery(pushPayload, 'gh-other', gitlabSecret);
    expect((await post(hub(), otherRepo.body, otherRepo.headers)).status).toBe(401);
    const tampered = githubDelivery(pushPayload, 'gh-tampered');
    expect((await post(hub(), Buffer.from(tampered.body.toString().replace('master', 'mister')), tampered.headers)).status).toBe(401);
    expect((await post(lab(), gitlabFixture('push'), { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'wrong' })).status).toBe(401);
    expect(queue.size).toBe(0);
  });

  it('acknowledges a replayed delivery and ignores it', async () => {
    const { body, headers } = githubDelivery(pushPayload, 'gh-replayed');
    expect(await post(hub(), body, headers)).toEqual({ status: 202, body: '{"status":"queued"}' });
    expect(await post(hub(), body, headers)).toEqual({ status: 202, body: '{"status":"duplicate"}' });
    expect(queue.size).toBe(1);
  });

  it('answers 413 to an oversized body, whether announced by Content-Length or streamed', async () => {
    const big = Buffer.alloc(200 * 1024, 'a');
    const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': githubSignature(big, githubSecret) };
    expect((await post(hub(), big, headers)).status).toBe(413);
    // Chunked, no Content-Length: the cap applies while reading.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(hub(), { method: 'POST', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      for (let i = 0; i < 10; i++) req.write(big.subarray(0, 20 * 1024));
      req.end();
    });
    expect(streamed).toBe(413);
    expect(queue.size).toBe(0);
  });

  it('answers 400 to a signed but truncated body, and drops a body cut off mid-transfer', async () => {
    const whole = Buffer.from(JSON.stringify(pushPayload));
    const cut = whole.subarray(0, 100);
    const reply = await post(hub(), cut, { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'cut', 'x-hub-signature-256': githubSignature(cut, githubSecret) });
    expect(reply.status).toBe(400);
    expect(reply.body).toContain('not valid JSON');

    // The sender announces the whole body, sends a part, and hangs up.
    const { port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST ${webhookPath('hub', 'hello')} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: ${githubSignature(whole, githubSecret)}\r\nContent-Length: ${whole.length}\r\n\r\n`,
        );
        socket.write(cut);
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
    });
    expect(queue.size).toBe(0);
    // The server is still there for the next delivery.
    const { body, headers } = githubDelivery(pushPayload, 'after-cut');
    expect((await post(hub(), body, headers)).status).toBe(202);
  });

  it('answers 415 to a wrong content type, 404 to an unknown repo and 405 to a GET', async () => {
    const { body, headers } = githubDelivery(pushPayload, 'form');
    expect((await post(hub(), `payload=${encodeURIComponent(body.toString())}`, { ...headers, 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post(hub(), body, { ...headers, 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(`${server.url}${webhookPath('hub', 'nope')}`, body, headers)).status).toBe(404);
    const get = await fetch(hub());
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(queue.size).toBe(0);
  });

  it('acknowledges a ping without enqueueing', async () => {
    const body = Buffer.from(JSON.stringify(githubExamples('ping')[0]));
    const reply = await post(hub(), body, { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'p', 'x-hub-signature-256': githubSignature(body, githubSecret) });
    expect(reply).toEqual({ status: 202, body: '{"status":"ignored: ping"}' });
    expect(queue.size).toBe(0);
  });

  it('takes a burst of hundreds of concurrent deliveries, redeliveries among them, without loss or duplicates', async () => {
    const unique = 300;
    const deliveries = Array.from({ length: unique }, (_, i) =>
      githubDelivery({ ...pushPayload, ref: `refs/heads/b-${i}`, before: 'a'.repeat(40), after: i.toString(16).padStart(40, '0') }, `burst-${i}`),
    );
    // Every tenth delivery arrives twice, as hosts do on a slow acknowledgement.
    const sends = [...deliveries, ...deliveries.filter((_, i) => i % 10 === 0)];
    const replies = await Promise.all(sends.map(({ body, headers }) => post(hub(), body, headers)));
    expect(replies.every((r) => r.status === 202)).toBe(true);
    expect(replies.filter((r) => r.body.includes('duplicate'))).toHaveLength(unique / 10);
    const events = queue.drain();
    expect(events).toHaveLength(unique);
    expect(new Set(events.map((e) => e.deliveryId)).size).toBe(unique);
    expect(new Set(events.map((e) => ('branch' in e ? e.branch : '')))).toEqual(new Set(deliveries.map((_, i) => `b-${i}`)));
  });
});

describe('event queue', () => {
  it('hands events to a waiting consumer in order and forgets the oldest delivery ids past its bound', async () => {
    const queue = new EventQueue({ rememberDeliveries: 2 });
    const base = { host: 'h', repo: 'r', provider: 'github' as const, repoPath: 'o/r', kind: 'push' as const, branch: 'main', before: 'a', after: 'b', created: false };
    const waiting = queue.take();
    expect(queue.offer({ ...base, deliveryId: '1' })).toBe('queued');
    await expect(waiting).resolves.toMatchObject({ deliveryId: '1' });
    expect(queue.offer({ ...base, deliveryId: '2' })).toBe('queued');
    expect(queue.offer({ ...base, deliveryId: '3' })).toBe('queued');
    expect(queue.offer({ ...base, deliveryId: '3' })).toBe('duplicate');
    // '1' was forgotten: a very late redelivery is taken again, which the reconciler tolerates.
    expect(queue.offer({ ...base, deliveryId: '1' })).toBe('queued');
    // The same delivery id on another repo is another delivery.
    expect(queue.offer({ ...base, repo: 'other', deliveryId: '1' })).toBe('queued');
    expect(queue.drain().map((e) => e.deliveryId)).toEqual(['2', '3', '1', '1']);
  });

  it('refuses events beyond its pending bound', () => {
    const queue = new EventQueue({ maxPending: 1 });
    const base = { host: 'h', repo: 'r', provider: 'github' as const, repoPath: 'o/r', kind: 'push' as const, branch: 'main', before: 'a', after: 'b', created: false };
    expect(queue.offer({ ...base, deliveryId: '1' })).toBe('queued');
    expect(queue.offer({ ...base, deliveryId: '2' })).toBe('full');
  });
});
