import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/controller/event-queue.js';
import type { InboxEntry } from '../../../src/controller/inbox.js';
import { ControllerLoop } from '../../../src/controller/loop.js';
import { startWebhookServer } from '../../../src/controller/webhook-server.js';
import type { Reconciler, ReconcileRequest, ReconcileResult } from '../../../src/controller/reconciler.js';

function fakeReconciler(results: (request: ReconcileRequest) => ReconcileResult) {
  const calls: ReconcileRequest[] = [];
  const reconciler = {
    reconcile: async (request: ReconcileRequest) => {
      calls.push(request);
      return results(request);
    },
    expire: async () => [],
  } as unknown as Reconciler;
  return { reconciler, calls };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the controller loop', () => {
  it('resyncs first, then reconciles webhook events one by one, and retries a retryable failure', async () => {
    const queue = new EventQueue();
    let failOnce = true;
    const { reconciler, calls } = fakeReconciler((request) => {
      if (request.branch === 'flaky' && failOnce) {
        failOnce = false;
        return { outcomes: [{ environment: 'e', result: 'retry', reason: 'RetryScheduled', message: '503', jobsCreated: 0 }], notes: [] };
      }
      return { outcomes: [], notes: [] };
    });
    const loop = new ControllerLoop({ queue, reconciler, resync: async () => [{ repo: 'ops', branch: 'main', to: 'a', resync: true }], resyncMs: 60_000 });
    loop.start();
    const source = { host: 'h', repo: 'web', provider: 'github' as const, repoPath: 'o/web' };
    queue.offer({ ...source, deliveryId: '1', kind: 'push', branch: 'flaky', before: '0'.repeat(40), after: 'b'.repeat(40), created: true });
    queue.offer({ ...source, deliveryId: '2', kind: 'tag', tag: 'v1', before: '0'.repeat(40), after: 'c'.repeat(40), deleted: false });
    await until(() => calls.length >= 3, 10_000);
    await loop.stop();
    expect(calls.map((call) => `${call.repo}:${call.branch}`)).toEqual(['ops:main', 'web:flaky', 'web:flaky']);
    expect(calls[0]?.resync).toBe(true);
  });

  it('is unhealthy while one piece of work runs past maxBusyMs, and /healthz says so with 503', async () => {
    let clock = 0;
    let release: () => void = () => {};
    let started = false;
    const reconciler = {
      reconcile: () => {
        started = true;
        return new Promise((resolve) => (release = () => resolve({ outcomes: [], notes: [] })));
      },
      expire: async () => [],
    } as unknown as Reconciler;
    const loop = new ControllerLoop({ queue: new EventQueue(), reconciler, resync: async () => [{ repo: 'ops', branch: 'main', to: 'a', resync: true }], resyncMs: 60_000, maxBusyMs: 1_000, now: () => clock });
    const server = await startWebhookServer({ routes: new Map(), queue: new EventQueue(), port: 0, healthy: () => loop.healthy() });
    try {
      loop.start();
      await until(() => started);
      // Busy, but not for long yet: healthy.
      expect(loop.healthy()).toBe(true);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      // The resync's reconcile never returns: past maxBusyMs, the worker counts as stuck.
      clock = 5_000;
      expect(loop.healthy()).toBe(false);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      release();
      await until(() => loop.healthy());
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      release();
      await loop.stop();
      await server.close();
    }
  });

  it('reads the inbox at once when told it was written, not at the next poll', async () => {
    const { reconciler, calls } = fakeReconciler(() => ({ outcomes: [], notes: [] }));
    let waiting: InboxEntry[] = [];
    let reads = 0;
    const inbox = {
      entries: async () => {
        reads++;
        return waiting;
      },
      ack: async (entry: InboxEntry) => {
        waiting = waiting.filter((other) => other !== entry);
      },
    };
    // A poll a minute apart: only the wake-up can pick the entry up within the test's time.
    const loop = new ControllerLoop({ inbox, inboxPollMs: 60_000, reconciler, resync: async () => [], resyncMs: 60_000 });
    loop.start();
    try {
      await until(() => reads >= 1);
      const request = { repo: 'ops', branch: 'main', to: 'b'.repeat(40) };
      waiting = [{ key: 'k', value: 'v', request }];
      loop.readInbox();
      await until(() => calls.length === 1, 2_000);
      expect(calls[0]).toEqual(request);
      await until(() => waiting.length === 0, 2_000);
    } finally {
      await loop.stop();
    }
  });

  it('tells when it runs out of work after doing some, once each time, not while it waits', async () => {
    const { reconciler, calls } = fakeReconciler(() => ({ outcomes: [], notes: [] }));
    const queue = new EventQueue();
    let idle = 0;
    const loop = new ControllerLoop({ queue, reconciler, resync: async () => [{ repo: 'ops', branch: 'main', to: 'a', resync: true }], resyncMs: 60_000, idle: () => idle++ });
    loop.start();
    try {
      await until(() => idle === 1);
      expect(calls).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(idle).toBe(1);
      queue.offer({ host: 'h', repo: 'web', provider: 'github', repoPath: 'o/web', deliveryId: '1', kind: 'push', branch: 'main', before: '0'.repeat(40), after: 'b'.repeat(40), created: false });
      await until(() => idle === 2);
      expect(calls).toHaveLength(2);
    } finally {
      await loop.stop();
    }
  });
});
