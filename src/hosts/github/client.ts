import { Octokit } from '@octokit/rest';
import { UserError } from '../../errors.js';
import { classifyFailure, type HostOperation } from '../api-errors.js';
import { githubStatusState, statusContext, statusDescription } from '../status.js';
import type { BranchHead, CommitStatus, GitHost, RepoRef, WebhookRegistration, WebhookSpec } from '../types.js';
import { githubWebhooks } from './webhook.js';

/** The events diploid asks GitHub to send. */
export const GITHUB_HOOK_EVENTS = ['delete', 'pull_request', 'push'] as const;

export interface GithubHostOptions {
  /** Name of the `git.hosts` entry. */
  readonly name: string;
  /** REST API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server. */
  readonly apiUrl: string;
  readonly token: string;
  /** Where the token came from, for error messages (`env GITHUB_TOKEN`). */
  readonly tokenSource: string;
  /** Clock for rate-limit waits; injected so tests are deterministic. */
  readonly now?: () => number;
}

/** API root for a `git.hosts` entry: explicit `apiUrl`, else github.com's or an Enterprise server's. */
export function githubApiUrl(host: { url?: string | undefined; apiUrl?: string | undefined }): string {
  if (host.apiUrl) return host.apiUrl.replace(/\/+$/, '');
  if (!host.url) return 'https://api.github.com';
  const web = new URL(host.url);
  if (web.hostname === 'github.com') return 'https://api.github.com';
  return `${web.origin}/api/v3`;
}

/** A GitHub (or GitHub Enterprise Server) host, through `@octokit/rest`. */
export class GithubHost implements GitHost {
  readonly provider = 'github' as const;
  readonly webhooks = githubWebhooks;
  readonly name: string;
  private readonly octokit: Octokit;
  private readonly options: GithubHostOptions;

  constructor(options: GithubHostOptions) {
    this.name = options.name;
    this.options = options;
    this.octokit = new Octokit({
      auth: options.token,
      baseUrl: options.apiUrl,
      userAgent: 'diploid',
      // Octokit would print request failures itself; diploid reports them once, as HostApiError.
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
  }

  async registerWebhook(repo: RepoRef, spec: WebhookSpec): Promise<WebhookRegistration> {
    const { owner, name } = splitPath(repo.path);
    const desired = {
      owner,
      repo: name,
      active: true,
      events: [...GITHUB_HOOK_EVENTS],
      config: { url: spec.url, content_type: 'json', secret: spec.secret, insecure_ssl: '0' },
    };
    return this.call(
      'registerWebhook',
      repo,
      async () => {
        const hooks = await this.octokit.paginate(this.octokit.rest.repos.listWebhooks, { owner, repo: name, per_page: 100 });
        const ours = hooks.filter((hook) => hook.config.url === spec.url).sort((a, b) => a.id - b.id);
        const [first, ...extra] = ours;
        if (first === undefined) {
          const created = await this.octokit.rest.repos.createWebhook({ ...desired, name: 'web' });
          return { action: 'created', hookId: created.data.id };
        }
        // GitHub never returns a hook's secret, so an existing hook is always rewritten: the only
        // way to be sure it holds the current one.
        await this.octokit.rest.repos.updateWebhook({ ...desired, hook_id: first.id });
        // Duplicates (left by hand or by an old bug) would deliver every event twice.
        for (const hook of extra) await this.octokit.rest.repos.deleteWebhook({ owner, repo: name, hook_id: hook.id });
        return { action: 'updated', hookId: first.id };
      },
      [spec.secret],
    );
  }

  async setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<void> {
    const { owner, name } = splitPath(repo.path);
    await this.call('setCommitStatus', repo, () =>
      this.octokit.rest.repos.createCommitStatus({
        owner,
        repo: name,
        sha,
        state: githubStatusState(status.phase),
        context: statusContext(status.environment),
        description: statusDescription(status),
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      }),
    );
  }

  async listBranchHeads(repo: RepoRef): Promise<BranchHead[]> {
    const { owner, name } = splitPath(repo.path);
    return this.call('listBranchHeads', repo, async () => {
      const branches = await this.octokit.paginate(this.octokit.rest.repos.listBranches, { owner, repo: name, per_page: 100 });
      return branches.map((branch) => ({ branch: branch.name, sha: branch.commit.sha })).sort((a, b) => (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0));
    });
  }

  private async call<T>(operation: HostOperation, repo: RepoRef, fn: () => Promise<T>, secrets: readonly string[] = []): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.describe(error, operation, repo, [this.options.token, ...secrets]);
    }
  }

  private describe(error: unknown, operation: HostOperation, repo: RepoRef, secrets: readonly string[]): Error {
    const failure = error as { status?: unknown; response?: { headers?: Record<string, unknown>; data?: unknown }; message?: unknown };
    // Octokit's RequestError carries the HTTP status (500 when no response came); anything else is a bug.
    if (!(error instanceof Error) || typeof failure.status !== 'number') return error as Error;
    const status = failure.response === undefined && failure.status === 500 ? undefined : failure.status;
    const headers: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(failure.response?.headers ?? {})) headers[key.toLowerCase()] = value === undefined ? undefined : String(value);
    const data = failure.response?.data as { message?: unknown } | undefined;
    const message = typeof data?.message === 'string' ? data.message : status === undefined ? error.message : '';
    return classifyFailure({
      provider: 'github',
      host: this.name,
      operation,
      repoPath: repo.path,
      tokenSource: this.options.tokenSource,
      status,
      headers,
      message,
      secrets,
      nowMs: (this.options.now ?? Date.now)(),
    });
  }
}

function splitPath(path: string): { owner: string; name: string } {
  const parts = path.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new UserError(`GitHub repository path "${path}" must be "owner/repo"`);
  }
  return { owner: parts[0], name: parts[1] };
}
