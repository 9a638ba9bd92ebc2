import { describe, expect, it } from 'vitest';
import { promotionVerdict, pushEndsPin, recordDeploy, rollbackTarget, type DeployRecord, type Pin } from '../../../src/controller/history.js';
import { pendingPinRequest } from '../../../src/controller/pin-watch.js';
import { environmentView, humanDuration, viewNote } from '../../../src/controller/status-view.js';
import type { EnvironmentStatus } from '../../../src/controller/status.js';

const record = (revision: string, web: string, deployedAt = '2026-11-29T01:00:00.000Z', cause: DeployRecord['cause'] = 'git'): DeployRecord => ({ revision, repo: 'web', commit: web, commits: { ops: 'o1', web }, images: { web: `reg/web:${web}` }, deployedAt, cause });

describe('deploy history', () => {
  it('keeps the newest first, at most the limit, and moves a redeployed revision to the front', () => {
    let history: DeployRecord[] = [];
    for (const n of [1, 2, 3, 4]) history = recordDeploy(history, record(`r${n}`, `c${n}`), 3);
    expect(history.map((item) => item.revision)).toEqual(['r4', 'r3', 'r2']);
    history = recordDeploy(history, record('r2', 'c2', '2026-11-29T02:00:00.000Z', 'rollback'), 3);
    expect(history.map((item) => `${item.revision}:${item.cause}`)).toEqual(['r2:rollback', 'r4:git', 'r3:git']);
  });

  it('rolls back to the one before the newest, or to a unique prefix, and says why it cannot', () => {
    const history = [record('abc123', 'c3'), record('abd456', 'c2'), record('fff789', 'c1')];
    expect(rollbackTarget(history)).toBe(history[1]);
    expect(rollbackTarget(history, 'fff')).toBe(history[2]);
    expect(rollbackTarget(history, 'ab')).toEqual({ problem: '"ab" matches 2 revisions (abc123, abd456); give more characters' });
    expect(rollbackTarget(history, '999')).toEqual({ problem: 'no recorded revision starts with "999"; recorded: abc123, abd456, fff789' });
    expect(rollbackTarget([history[0]!])).toEqual({ problem: 'only one revision is recorded: there is nothing earlier to go back to' });
    expect(rollbackTarget(undefined)).toEqual({ problem: 'no deploy is recorded yet' });
  });

  it('a push past the pinned commit ends a pin; a resync, or a push of the pinned commit itself, does not', () => {
    const pin: Pin = { commits: { ops: 'o1', web: 'c1' }, reason: 'rollback', at: '2026-11-29T01:00:00.000Z' };
    expect(pushEndsPin(pin, { repo: 'web', after: 'c2' }, false)).toBe(true);
    expect(pushEndsPin(pin, { repo: 'ops', after: 'o2' }, false)).toBe(true);
    expect(pushEndsPin(pin, { repo: 'web', after: 'c2' }, true)).toBe(false);
    expect(pushEndsPin(pin, { repo: 'web', after: 'c1' }, false)).toBe(false);
  });
});

const status = (extra: Partial<EnvironmentStatus>): EnvironmentStatus => ({ environment: 'staging', namespace: 'shop-staging', updatedAt: '2026-11-29T01:00:00.000Z', conditions: [], ...extra });

describe('pins the watcher asks the loop for', () => {
  const pin: Pin = { commits: { web: 'c1' }, reason: 'rollback', at: '2026-11-29T02:00:00.000Z' };
  it('a pin not yet deployed, once deployed no more', () => {
    expect(pendingPinRequest(status({ history: [record('r2', 'c2')] }), pin)).toBe('staging:pin:2026-11-29T02:00:00.000Z');
    expect(pendingPinRequest(status({ history: [record('r1', 'c1', '2026-11-29T02:00:01.000Z', 'rollback')] }), pin)).toBeUndefined();
  });
  it('an unpin while the environment still runs pinned commits', () => {
    expect(pendingPinRequest(status({ history: [record('r1', 'c1', '2026-11-29T02:00:01.000Z', 'rollback')] }), undefined)).toBe('staging:unpin:2026-11-29T02:00:01.000Z');
    expect(pendingPinRequest(status({ history: [record('r2', 'c2')] }), undefined)).toBeUndefined();
  });
});

describe('status view', () => {
  it('a preview shows its expiry, ttl after its last push, and the time left', () => {
    const view = environmentView(status({ preview: { mode: 'full', base: 'staging', ttl: '2h' } }), new Date('2026-11-29T02:15:00.000Z'), undefined);
    expect(view.preview).toEqual({ mode: 'full', base: 'staging', ttl: '2h', expiresAt: '2026-11-29T03:00:00.000Z', remainingMs: 45 * 60_000 });
    expect(viewNote(view)).toBe('preview, 45m left (ttl 2h)');
    const past = environmentView(status({ preview: { mode: 'full', base: 'staging', ttl: '2h' } }), new Date('2026-11-29T05:00:00.000Z'), undefined);
    expect(past.preview?.remainingMs).toBe(0);
  });
  it('the stored pin shows, not the status\' copy of it', () => {
    const pin: Pin = { commits: {}, reason: 'promotion', from: 'staging', at: '2026-11-29T02:00:00.000Z' };
    expect(viewNote(environmentView(status({}), new Date(), pin))).toBe('pinned (promotion from staging)');
    expect(environmentView(status({ pin }), new Date(), undefined).pin).toBeUndefined();
  });
  it('durations for people', () => {
    expect([15_000, 42 * 60_000, 3 * 3600_000 + 12 * 60_000, 50 * 3600_000].map(humanDuration)).toEqual(['15s', '42m', '3h 12m', '2d 2h']);
  });
});

describe('a config rule requiring promotion', () => {
  const rule = { from: 'staging' };
  const at = '2026-11-29T01:00:00.000Z';
  it('refuses git without a pin, and a promotion from elsewhere; allows a promotion from the named environment and a rollback', () => {
    expect(promotionVerdict(undefined, undefined)).toEqual({ allowed: true });
    expect(promotionVerdict(rule, undefined)).toMatchObject({ allowed: false, reason: 'PromotionRequired' });
    expect(promotionVerdict(rule, { commits: {}, reason: 'promotion', from: 'qa', at })).toEqual({ allowed: false, reason: 'PromotionRefused', message: 'promotion from qa refused: the config allows promotion from staging only' });
    expect(promotionVerdict(rule, { commits: {}, reason: 'promotion', from: 'staging', at })).toEqual({ allowed: true });
    expect(promotionVerdict(rule, { commits: {}, reason: 'rollback', at })).toEqual({ allowed: true });
  });
});
