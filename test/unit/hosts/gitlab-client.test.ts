import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitlabHost, gitlabBaseUrl } from '../../../src/hosts/gitlab/client.js';
import { HostApiError } from '../../../src/hosts/errors.js';
import { FakeGitlabApi } from '../../support/fake-gitlab-api.js';

const repo = { name: 'cart', path: 'shop/backend/cart' };
const encoded = '/projects/shop%2Fbackend%2Fcart';
const hook = { url: 'https://diploid.example.com/hooks/lab/cart', secret: 'derived-secret-1' };

describe('GitLab host against the loopback GitLab API stand-in', () => {
  let api: FakeGitlabApi;
  let host: GitlabHost;

  beforeEach(async () => {
    api = new FakeGitlabApi();
    await api.start();
    api.project('shop/backend/cart');
    host = new GitlabHost({ name: 'lab', baseUrl: api.url, token: api.token, tokenSource: 'env GITLAB_TOKEN', now: () => 1_700_000_000_000 });
  });
  afterEach(async () => {
    await api.stop();
    // Every request used only attributes GitLab's REST API reference documents, with their types.
    expect(api.violations).toEqual([]);
  });

  it('creates the project hook once, then updates it in place: never a duplicate', async () => {
    await expect(host.registerWebhook(repo, hook)).resolves.toEqual({ action: 'created', hookId: 1 });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${encoded}/hooks`, `POST ${encoded}/hooks`]);
    expect(api.requests[0]?.headers['private-token']).toBe(api.token);
    expect(api.requests[1]?.body).toEqual({
      url: hook.url,
      token: 'derived-secret-1',
      push_events: true,
      tag_push_events: true,
      merge_requests_events: true,
      enable_ssl_verification: true,
    });

    api.requests.length = 0;
    await expect(host.registerWebhook(repo, { ...hook, secret: 'rotated' })).resolves.toEqual({ action: 'updated', hookId: 1 });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${encoded}/hooks`, `PUT ${encoded}/hooks/1`]);
    const hooks = api.project('shop/backend/cart').hooks;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]?.token).toBe('rotated');
  });

  it('removes duplicates of its own hook and leaves other hooks alone', async () => {
    const project = api.project('shop/backend/cart');
    const base = { push_events: true, tag_push_events: false, merge_requests_events: false, enable_ssl_verification: true, created_at: '2024-01-01T00:00:00Z' };
    project.hooks.push({ ...base, id: 11, url: 'https://ci.example.com/hook' }, { ...base, id: 12, url: hook.url }, { ...base, id: 13, url: hook.url });
    await expect(host.registerWebhook(repo, hook)).resolves.toEqual({ action: 'updated', hookId: 12 });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${encoded}/hooks`, `PUT ${encoded}/hooks/12`, `DELETE ${encoded}/hooks/13`]);
    expect(project.hooks.map((h) => [h.id, h.merge_requests_events])).toEqual([[11, false], [12, true]]);
  });

  it('reports commit statuses pending -> running -> success / failed, on the branch, with the link', async () => {
    const sha = 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7';
    await host.setCommitStatus(repo, sha, { phase: 'pending', environment: 'staging', branch: 'main' });
    await host.setCommitStatus(repo, sha, { phase: 'building', environment: 'staging', branch: 'main' });
    // Reporting the same phase twice is not an error, although GitLab refuses the transition.
    await host.setCommitStatus(repo, sha, { phase: 'building', environment: 'staging', branch: 'main' });
    await host.setCommitStatus(repo, sha, { phase: 'deployed', environment: 'staging', branch: 'main', targetUrl: 'https://staging.shop.example.com' });
    await host.setCommitStatus(repo, sha, { phase: 'failed', environment: 'preview-feature-x', branch: 'feature-x', targetUrl: 'https://feature-x.preview.shop.example.com' });
    expect(api.requests.every((r) => r.method === 'POST' && r.path === `${encoded}/statuses/${sha}`)).toBe(true);
    expect(api.requests.map((r) => r.body)).toEqual([
      { state: 'pending', name: 'diploid/staging', description: 'Waiting to deploy to staging', ref: 'main' },
      { state: 'running', name: 'diploid/staging', description: 'Building for staging', ref: 'main' },
      { state: 'running', name: 'diploid/staging', description: 'Building for staging', ref: 'main' },
      { state: 'success', name: 'diploid/staging', description: 'Deployed to staging', ref: 'main', target_url: 'https://staging.shop.example.com' },
      { state: 'failed', name: 'diploid/preview-feature-x', description: 'Deploy to preview-feature-x failed', ref: 'feature-x', target_url: 'https://feature-x.preview.shop.example.com' },
    ]);
    expect(api.project('shop/backend/cart').statuses.map((s) => s.status)).toEqual(['pending', 'running', 'success', 'failed']);
  });

  it('lists every branch head across pages (Link header), sorted', async () => {
    const project = api.project('shop/backend/cart');
    for (let i = 0; i < 250; i++) project.branches.set(`b-${String(i).padStart(3, '0')}`, i.toString(16).padStart(40, '0'));
    const heads = await host.listBranchHeads(repo);
    expect(heads).toHaveLength(250);
    expect(heads[249]).toEqual({ branch: 'b-249', sha: (249).toString(16).padStart(40, '0') });
    expect(api.requests.map((r) => `${r.path} page=${r.query.get('page') ?? '1'} per_page=${r.query.get('per_page')}`)).toEqual([
      `${encoded}/repository/branches page=1 per_page=100`,
      `${encoded}/repository/branches page=2 per_page=100`,
      `${encoded}/repository/branches page=3 per_page=100`,
    ]);
  });

  it('names the token source but never the token on 401', async () => {
    const bad = new GitlabHost({ name: 'lab', baseUrl: api.url, token: 'glpat-wrong-secret-value', tokenSource: 'file /run/secrets/gitlab' });
    const error = await bad.listBranchHeads(repo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostApiError);
    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect((error as Error).message).toContain('file /run/secrets/gitlab');
    expect((error as Error).message).not.toContain('glpat-wrong-secret-value');
  });

  it('names the missing scope on 403 insufficient_scope', async () => {
    api.scopes = ['read_api'];
    await expect(host.listBranchHeads(repo)).resolves.toEqual([]);
    const error = await host.registerWebhook({ ...repo }, hook).catch((e: unknown) => e);
    // Listing hooks is a read, so it passes; creating one needs `api`.
    expect(error).toMatchObject({ kind: 'scope', status: 403 });
    expect((error as Error).message).toMatch(/needs the "api" scope/);
  });

  it('says what may be wrong on 404', async () => {
    const error = await host.listBranchHeads({ name: 'x', path: 'shop/missing' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'not-found', status: 404 });
    expect((error as Error).message).toMatch(/shop\/missing.*404 Project Not Found.*"read_api"/s);
  });

  it('lets gitbeaker retry a 429, and reports a persistent 429 or a 5xx as retryable', async () => {
    api.faults.push({ status: 429, times: 1, headers: { 'retry-after': '1' }, body: { message: '429 Too Many Requests' } });
    await expect(host.listBranchHeads(repo)).resolves.toEqual([]);
    expect(api.requests).toHaveLength(2);

    api.requests.length = 0;
    api.faults.push({ status: 429, times: 100, body: { message: '429 Too Many Requests' } });
    await expect(host.listBranchHeads(repo)).rejects.toMatchObject({ kind: 'rate-limited', retryable: true });
    expect(api.requests).toHaveLength(10);
    api.faults.length = 0;

    api.faults.push({ status: 503, body: { message: '503 Service Unavailable' } });
    await expect(host.setCommitStatus(repo, 'a'.repeat(40), { phase: 'pending', environment: 'prod' })).rejects.toMatchObject({ kind: 'unavailable', status: 503, retryable: true });
    api.faults.push({ status: 500, body: { message: '500 Internal Server Error' } });
    await expect(host.registerWebhook(repo, hook)).rejects.toMatchObject({ kind: 'unavailable', status: 500 });
  });

  it('reports an API that does not answer as unavailable', async () => {
    await api.stop();
    await expect(host.listBranchHeads(repo)).rejects.toMatchObject({ kind: 'unavailable', retryable: true });
  });
});

describe('GitLab base URL', () => {
  it('defaults to gitlab.com and takes self-managed URLs and /api/v4 API URLs', () => {
    expect(gitlabBaseUrl({})).toBe('https://gitlab.com');
    expect(gitlabBaseUrl({ url: 'https://gitlab.example.com/' })).toBe('https://gitlab.example.com');
    expect(gitlabBaseUrl({ apiUrl: 'https://gitlab.example.com/gitlab/api/v4' })).toBe('https://gitlab.example.com/gitlab');
    expect(() => gitlabBaseUrl({ apiUrl: 'https://gitlab.example.com/api' })).toThrow(/ends in \/api\/v4/);
  });
});
