import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deployEvent, notificationPayload, WebhookNotifier } from '../../../src/controller/notify.js';
import type { EnvironmentStatus } from '../../../src/controller/status.js';

/** A real HTTP receiver on loopback, as Slack's incoming webhook would be. */
async function receiver(status = 200): Promise<{ url: string; bodies: Array<{ headers: IncomingMessage['headers']; json: unknown }>; server: Server }> {
  const bodies: Array<{ headers: IncomingMessage['headers']; json: unknown }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push({ headers: req.headers, json: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(status).end(status === 200 ? 'ok' : 'invalid_token');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secret-token-in-path`, bodies, server };
}

let servers: Server[] = [];
afterEach(() => {
  for (const server of servers) server.close();
  servers = [];
});

const status: EnvironmentStatus = {
  environment: 'production', namespace: 'shop-production', repo: 'web', commit: 'abcdef0123456789abcdef0123456789abcdef01', appliedRevision: 'r1', updatedAt: '2026-11-29T01:00:00.000Z', conditions: [],
  history: [{ revision: 'r1', repo: 'web', commits: { web: 'abc' }, images: {}, deployedAt: '2026-11-29T01:00:00.000Z', cause: 'rollback' }],
};

describe('notifications', () => {
  it('posts a Slack-compatible payload to a real receiver: text, blocks, and the event', async () => {
    const sink = await receiver();
    servers.push(sink.server);
    const event = deployEvent({ environment: 'production', result: 'deployed', reason: 'Succeeded', message: 'deployed revision r1', jobsCreated: 0 }, status)!;
    await new WebhookNotifier(sink.url).notify(event);
    expect(sink.bodies).toHaveLength(1);
    expect(sink.bodies[0]!.headers['content-type']).toBe('application/json');
    expect(sink.bodies[0]!.json).toEqual({
      text: ':rewind: production: rolled back at web@abcdef012345 (Succeeded)',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '*:rewind: production: rolled back at web@abcdef012345 (Succeeded)*' } },
        { type: 'context', elements: [{ type: 'plain_text', text: 'deployed revision r1' }] },
      ],
      diploid: { kind: 'rolled-back', environment: 'production', repo: 'web', commit: status.commit, revision: 'r1', reason: 'Succeeded', message: 'deployed revision r1' },
    });
  });

  it('a failure is "failed"; unchanged and retries say nothing', () => {
    expect(deployEvent({ environment: 'p', result: 'stalled', reason: 'RolloutFailed', message: 'x', jobsCreated: 0 }, status)?.kind).toBe('failed');
    expect(deployEvent({ environment: 'p', result: 'unchanged', reason: 'UpToDate', message: 'x', jobsCreated: 0 }, status)).toBeUndefined();
    expect(deployEvent({ environment: 'p', result: 'retry', reason: 'RetryScheduled', message: 'x', jobsCreated: 0 }, status)).toBeUndefined();
    expect(notificationPayload({ kind: 'promoted', from: 'staging', environment: 'production', reason: 'Succeeded', message: '' }).text).toBe(':arrow_up: production: promoted from staging (Succeeded)');
  });

  it('a receiver that refuses, or none at all, is logged without the URL (it holds a token) and never throws', async () => {
    const sink = await receiver(403);
    servers.push(sink.server);
    const logs: string[] = [];
    const event = { kind: 'deployed' as const, environment: 'production', reason: 'Succeeded', message: '' };
    await new WebhookNotifier(sink.url, (line) => logs.push(line)).notify(event);
    sink.server.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await new WebhookNotifier(sink.url, (line) => logs.push(line), 2_000).notify(event);
    expect(logs).toEqual(['notify production deployed: the webhook answered 403', 'notify production deployed: not sent (TypeError)']);
    expect(logs.join('\n')).not.toContain('secret-token-in-path');
  });
});
