import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GithubHost, githubApiUrl } from '../../../src/hosts/github/client.js';
import { HostApiError } from '../../../src/hosts/errors.js';
import { FakeGithubApi } from '../../support/fake-github-api.js';

const repo = { name: 'hello', path: 'octo/hello' };
const hook = { url: 'https://diploid.example.com/hooks/hub/hello', secret: 'derived-secret-1' };

describe('GitHub host against the loopback GitHub API stand-in', () => {
  let api: FakeGithubApi;
  let host: GithubHost;

  beforeEach(async () => {
    api = new FakeGithubApi();
    await api.start();
    api.repo('octo/hello');
    host = new GithubHost({ name: 'hub', apiUrl: api.url, token: api.token, tokenSource: 'env GITHUB_TOKEN', now: () => 1_700_000_000_000 });
  });
  afterEach(async () => {
    await api.stop();
    // Every request made and every response served matched GitHub's OpenAPI description.
    expect(api.violations).toEqual([]);
  });

  it('creates the webhook once, then updates it in place: never a duplicate', async () => {
    await expect(host.registerWebhook(repo, hook)).resolves.toEqual({ action: 'created', hookId: 1 });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /repos/octo/hello/hooks', 'POST /repos/octo/hello/hooks']);
    expect(api.requests[0]?.query.get('per_page')).toBe('100');
    expect(api.requests[1]?.body).toEqual({
      name: 'web',
      active: true,
      events: ['delete', 'pull_request', 'push'],
      config: { url: hook.url, content_type: 'json', secret: 'derived-secret-1', insecure_ssl: '0' },
    });
    expect(api.requests[1]?.headers.authorization).toBe(`token ${api.token}`);

    api.requests.length = 0;
    await expect(host.registerWebhook(repo, { ...hook, secret: 'rotated' })).resolves.toEqual({ action: 'updated', hookId: 1 });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /repos/octo/hello/hooks', 'PATCH /repos/octo/hello/hooks/1']);
    expect(api.repo('octo/hello').hooks).toHaveLength(1);
    expect(api.repo('octo/hello').hooks[0]?.config.secret).toBe('rotated');
  });

  it('leaves other hooks alone and removes duplicates of its own', async () => {
    const r = api.repo('octo/hello');
    const base = { name: 'web', active: true, events: ['push'], created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };
    r.hooks.push({ ...base, id: 7, config: { url: 'https://ci.example.com/hook', content_type: 'json', insecure_ssl: '0' } });
    r.hooks.push({ ...base, id: 8, config: { url: hook.url, content_type: 'form', insecure_ssl: '0' } });
    r.hooks.push({ ...base, id: 9, config: { url: hook.url, content_type: 'json', insecure_ssl: '0' } });
    await expect(host.registerWebhook(repo, hook)).resolves.toEqual({ action: 'updated', hookId: 8 });
    expect(api.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /repos/octo/hello/hooks', 'PATCH /repos/octo/hello/hooks/8', 'DELETE /repos/octo/hello/hooks/9']);
    expect(r.hooks.map((h) => [h.id, h.config.content_type])).toEqual([[7, 'json'], [8, 'json']]);
  });

  it('reports commit statuses through pending, building, deployed and failed', async () => {
    const sha = '0000000000000000000000000000000000000001';
    await host.setCommitStatus(repo, sha, { phase: 'pending', environment: 'staging' });
    await host.setCommitStatus(repo, sha, { phase: 'building', environment: 'staging' });
    await host.setCommitStatus(repo, sha, { phase: 'deployed', environment: 'staging', targetUrl: 'https://staging.shop.example.com' });
    await host.setCommitStatus(repo, sha, { phase: 'failed', environment: 'preview-x', description: 'x'.repeat(200) });
    expect(api.requests.every((r) => r.method === 'POST' && r.path === `/repos/octo/hello/statuses/${sha}`)).toBe(true);
    expect(api.requests.map((r) => r.body)).toEqual([
      { state: 'pending', context: 'diploid/staging', description: 'Waiting to deploy to staging' },
      { state: 'pending', context: 'diploid/staging', description: 'Building for staging' },
      { state: 'success', context: 'diploid/staging', description: 'Deployed to staging', target_url: 'https://staging.shop.example.com' },
      { state: 'failure', context: 'diploid/preview-x', description: `${'x'.repeat(139)}…` },
    ]);
  });

  it('lists every branch head across pages, sorted', async () => {
    const r = api.repo('octo/hello');
    for (let i = 0; i < 230; i++) r.branches.set(`b-${String(i).padStart(3, '0')}`, i.toString(16).padStart(40, '0'));
    const heads = await host.listBranchHeads(repo);
    expect(heads).toHaveLength(230);
    expect(heads[0]).toEqual({ branch: 'b-000', sha: '0'.repeat(40) });
    expect(heads[229]).toEqual({ branch: 'b-229', sha: (229).toString(16).padStart(40, '0') });
    expect(api.requests.map((q) => q.query.get('page') ?? '1')).toEqual(['1', '2', '3']);
  });

  it('names the token source but never the token when it is rejected (401)', async () => {
    const bad = new GithubHost({ name: 'hub', apiUrl: api.url, token: 'ghp_wrong_secret_value', tokenSource: 'env GITHUB_TOKEN' });
    const error = await bad.listBranchHeads(repo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostApiError);
    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect((error as Error).message).toContain('env GITHUB_TOKEN');
    expect((error as Error).message).not.toContain('ghp_wrong_secret_value');
  });

  it('names the missing scope when the token lacks it', async () => {
    api.scopes = ['read:org'];
    const error = await host.registerWebhook(repo, hook).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'scope', status: 404 });
    expect((error as Error).message).toMatch(/lacks the scope.*"admin:repo_hook"/);
    const status = await host.setCommitStatus(repo, 'a'.repeat(40), { phase: 'pending', environment: 'prod' }).catch((e: unknown) => e);
    expect(status).toMatchObject({ kind: 'scope', status: 403 });
    expect((status as Error).message).toMatch(/"repo:status"/);
  });

  it('names the needed permission on a 403 without scope headers (fine-grained tokens)', async () => {
    api.faults.push({ status: 403, body: { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest' } });
    const error = await host.registerWebhook(repo, hook).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'scope', status: 403 });
    expect((error as Error).message).toMatch(/"Webhooks: Read and write"/);
  });

  it('says what may be wrong on 404', async () => {
    const error = await host.setCommitStatus({ name: 'x', path: 'octo/missing' }, 'a'.repeat(40), { phase: 'pending', environment: 'prod' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'not-found', status: 404 });
    expect((error as Error).message).toMatch(/octo\/missing.*repos\.\*\.path.*"repo:status"/s);
  });

  it('treats 429, rate-limit 403 and 5xx as retryable, with the wait the host asked for', async () => {
    api.faults.push({ status: 429, headers: { 'retry-after': '7' }, body: { message: 'Too many requests' } });
    await expect(host.listBranchHeads(repo)).rejects.toMatchObject({ kind: 'rate-limited', retryable: true, retryAfterMs: 7000 });
    api.faults.push({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000060' }, body: { message: 'API rate limit exceeded', documentation_url: 'https://docs.github.com' } });
    await expect(host.listBranchHeads(repo)).rejects.toMatchObject({ kind: 'rate-limited', retryAfterMs: 60_000 });
    api.faults.push({ status: 502, body: { message: 'Server Error' } });
    await expect(host.setCommitStatus(repo, 'a'.repeat(40), { phase: 'pending', environment: 'prod' })).rejects.toMatchObject({ kind: 'unavailable', status: 502, retryable: true });
    // One request per call: the caller decides when to retry.
    expect(api.requests).toHaveLength(3);
  });

  it('reports an API that does not answer as unavailable', async () => {
    await api.stop();
    await expect(host.listBranchHeads(repo)).rejects.toMatchObject({ kind: 'unavailable', retryable: true });
  });
});

describe('GitHub Enterprise Server', () => {
  it('derives the API root from the web URL, and works under /api/v3', async () => {
    expect(githubApiUrl({})).toBe('https://api.github.com');
    expect(githubApiUrl({ url: 'https://github.com' })).toBe('https://api.github.com');
    expect(githubApiUrl({ url: 'https://ghe.example.com' })).toBe('https://ghe.example.com/api/v3');
    expect(githubApiUrl({ url: 'https://ghe.example.com', apiUrl: 'https://api.ghe.example.com/' })).toBe('https://api.ghe.example.com');

    const api = new FakeGithubApi('/api/v3');
    const root = await api.start();
    try {
      api.repo('octo/hello').branches.set('main', 'f'.repeat(40));
      const host = new GithubHost({ name: 'ghe', apiUrl: root, token: api.token, tokenSource: 'file /run/token' });
      await expect(host.listBranchHeads(repo)).resolves.toEqual([{ branch: 'main', sha: 'f'.repeat(40) }]);
      expect(api.violations).toEqual([]);
    } finally {
      await api.stop();
    }
  });
});
