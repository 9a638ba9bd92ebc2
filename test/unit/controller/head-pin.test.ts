import { describe, expect, it } from 'vitest';
import { pinToHead } from '../../../src/controller/head-pin.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const ZERO = '0'.repeat(40);

describe('pinning a request to the branch head in git', () => {
  it('leaves a push of the current head as it is', () => {
    const request = { repo: 'app', branch: 'main', from: A, to: B };
    expect(pinToHead(request, B)).toEqual({ request });
  });

  it('replaces an old or unknown commit with the head, and drops the claimed `from`', () => {
    const pinned = pinToHead({ repo: 'app', branch: 'main', from: ZERO, to: A }, B);
    expect(pinned.request).toEqual({ repo: 'app', branch: 'main', to: B });
    expect(pinned.note).toContain('deploying the head');
  });

  it('keeps the resync flag when it pins', () => {
    expect(pinToHead({ repo: 'ops', branch: 'main', to: A, resync: true }, B).request).toEqual({ repo: 'ops', branch: 'main', to: B, resync: true });
  });

  it('turns a push to a branch git does not have into a deletion', () => {
    const pinned = pinToHead({ repo: 'app', branch: 'feature/x', from: A, to: B }, undefined);
    expect(pinned.request).toEqual({ repo: 'app', branch: 'feature/x' });
    expect(pinned.note).toContain('no longer exists');
  });

  it('refuses a forged deletion of a branch git still has: its head is reconciled instead', () => {
    for (const to of [undefined, ZERO]) {
      const pinned = pinToHead({ repo: 'app', branch: 'feature/x', from: A, ...(to === undefined ? {} : { to }) }, B);
      expect(pinned.request).toEqual({ repo: 'app', branch: 'feature/x', to: B });
    }
  });

  it('a real deletion (git agrees) stays a deletion', () => {
    const request = { repo: 'app', branch: 'feature/x', from: A };
    expect(pinToHead(request, undefined)).toEqual({ request });
  });

  it('leaves a closed merge request alone: it names no commit', () => {
    const request = { repo: 'app', branch: 'feature/x', closed: true };
    expect(pinToHead(request, B)).toEqual({ request });
  });
});
