import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { classifyFailure } from '../../../src/hosts/api-errors.js';
import { constantTimeEqual } from '../../../src/hosts/signature.js';
import { resolveRepoTargets } from '../../../src/hosts/targets.js';
import { readSecret } from '../../../src/hosts/token.js';
import { deriveWebhookSecret, generateMasterSecret } from '../../../src/hosts/webhook-secret.js';

describe('webhook secrets', () => {
  it('derives a stable secret per host and repo, that differs between repos and masters', () => {
    const master = 'a-master-secret-of-enough-length';
    const cart = deriveWebhookSecret(master, 'lab', 'shop/cart');
    expect(deriveWebhookSecret(master, 'lab', 'shop/cart')).toBe(cart);
    expect(cart).toMatch(/^[0-9a-f]{64}$/);
    expect(deriveWebhookSecret(master, 'lab', 'shop/web')).not.toBe(cart);
    expect(deriveWebhookSecret(master, 'hub', 'shop/cart')).not.toBe(cart);
    expect(deriveWebhookSecret(`${master}!`, 'lab', 'shop/cart')).not.toBe(cart);
    expect(cart).not.toContain(master);
    expect(() => deriveWebhookSecret('short', 'lab', 'shop/cart')).toThrow(UserError);
  });

  it('generates distinct master secrets', () => {
    expect(generateMasterSecret()).not.toBe(generateMasterSecret());
  });

  it('compares in constant time whatever the lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
  });
});

describe('reading tokens', () => {
  const reader = (env: Record<string, string>, files: Record<string, string> = {}) => ({
    env,
    readFile: async (path: string) => {
      if (path in files) return files[path]!;
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    },
  });

  it('reads from an env var or a file, trimmed', async () => {
    await expect(readSecret({ env: 'T' }, 'token', reader({ T: ' tok \n' }))).resolves.toBe('tok');
    await expect(readSecret({ file: '/t' }, 'token', reader({}, { '/t': 'tok\n' }))).resolves.toBe('tok');
  });

  it('names the source of a missing or empty token', async () => {
    await expect(readSecret({ env: 'T' }, 'token of git host "lab"', reader({}))).rejects.toThrow('token of git host "lab": environment variable T is not set or empty');
    await expect(readSecret({ file: '/nope' }, 'token', reader({}))).rejects.toThrow('token: file /nope does not exist');
    await expect(readSecret({ file: '/empty' }, 'token', reader({}, { '/empty': '\n' }))).rejects.toThrow('token: file /empty is empty');
  });
});

describe('repo targets', () => {
  const token = { env: 'T' };
  it('uses the only host when a repo names none, sorted by repo', () => {
    const targets = resolveRepoTargets({ git: { hosts: { lab: { provider: 'gitlab', token } } }, repos: { web: { path: 'shop/web' }, cart: { path: 'shop/cart' } } });
    expect(targets.map((t) => [t.repo.name, t.hostName, t.repo.path])).toEqual([['cart', 'lab', 'shop/cart'], ['web', 'lab', 'shop/web']]);
  });

  it('includes the ops repo first, as repo "ops", when the config says where it lives', () => {
    const targets = resolveRepoTargets({ git: { hosts: { lab: { provider: 'gitlab', token } } }, ops: { path: 'shop/ops' }, repos: { web: { path: 'shop/web' } } });
    expect(targets.map((t) => [t.repo.name, t.hostName, t.repo.path])).toEqual([['ops', 'lab', 'shop/ops'], ['web', 'lab', 'shop/web']]);
  });

  it('reports every repo without a clear host at once', () => {
    const config = {
      git: { hosts: { lab: { provider: 'gitlab' as const, token }, hub: { provider: 'github' as const, token } } },
      repos: { a: { path: 'x/a' }, b: { path: 'x/b', host: 'gitea' }, c: { path: 'x/c', host: 'hub' } },
    };
    expect(() => resolveRepoTargets(config)).toThrow('repos.a: set host to one of hub, lab (there is more than one git host)\nrepos.b.host: unknown git host "gitea"; expected one of hub, lab');
  });

  it('takes no host from what every object has (host: "constructor")', () => {
    const config = { git: { hosts: { lab: { provider: 'gitlab' as const, token } } }, repos: { a: { path: 'x/a', host: 'constructor' } } };
    expect(() => resolveRepoTargets(config)).toThrow('repos.a.host: unknown git host "constructor"; expected one of lab');
  });
});

describe('classifying failures', () => {
  const base = { provider: 'gitlab' as const, host: 'lab', operation: 'registerWebhook' as const, repoPath: 'shop/cart', tokenSource: 'env GITLAB_TOKEN', headers: {}, message: '', nowMs: 0 };
  it('tells terminal from retryable errors', () => {
    expect(classifyFailure({ ...base, status: 401 }).retryable).toBe(false);
    expect(classifyFailure({ ...base, status: 422, message: 'bad url' })).toMatchObject({ kind: 'rejected', retryable: false });
    expect(classifyFailure({ ...base, status: 503 })).toMatchObject({ kind: 'unavailable', retryable: true });
    expect(classifyFailure({ ...base, status: 403 }).message).toMatch(/needs the "api" scope and the Maintainer role/);
  });
});
