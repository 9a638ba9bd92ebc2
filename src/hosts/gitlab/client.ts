import { Branches, Commits, GitbeakerRequestError, GitbeakerRetryError, GitbeakerTimeoutError, ProjectHooks } from '@gitbeaker/rest';
import { UserError } from '../../errors.js';
import { classifyFailure, type HostOperation } from '../api-errors.js';
import { gitlabStatusState, statusContext, statusDescription } from '../status.js';
import type { BranchHead, CommitStatus, GitHost, RepoRef, WebhookRegistration, WebhookSpec } from '../types.js';
import { gitlabWebhooks } from './webhook.js';

export interface GitlabHostOptions {
  /** Name of the `git.hosts` entry. */
  readonly name: string;
  /** Base URL of the instance (`https://gitlab.com`, `https://gitlab.example.com`); `/api/v4` is appended. */
  readonly baseUrl: string;
  readonly token: string;
  /** Where the token came from, for error messages (`env GITLAB_TOKEN`). */
  readonly tokenSource: string;
  readonly now?: () => number;
}

/** Instance base URL for a `git.hosts` entry; an `apiUrl` must end in `/api/v4` (what gitbeaker appends). */
export function gitlabBaseUrl(host: { url?: string | undefined; apiUrl?: string | undefined }): string {
  if (host.apiUrl) {
    const api = host.apiUrl.replace(/\/+$/, '');
    if (!api.endsWith('/api/v4')) throw new UserError(`git host apiUrl ${host.apiUrl}: a GitLab API URL ends in /api/v4`);
    return api.slice(0, -'/api/v4'.length);
  }
  return (host.url ?? 'https://gitlab.com').replace(/\/+$/, '');
}

/** A GitLab (gitlab.com or self-managed) host, through `@gitbeaker/rest`. */
export class GitlabHost implements GitHost {
  readonly provider = 'gitlab' as const;
  readonly webhooks = gitlabWebhooks;
  readonly name: string;
  private readonly options: GitlabHostOptions;
  private readonly hooks: InstanceType<typeof ProjectHooks>;
  private readonly commits: InstanceType<typeof Commits>;
  private readonly branches: InstanceType<typeof Branches>;

  constructor(options: GitlabHostOptions) {
    this.name = options.name;
    this.options = options;
    const client = { host: options.baseUrl, token: options.token };
    this.hooks = new ProjectHooks(client);
    this.commits = new Commits(client);
    this.branches = new Branches(client);
  }

  async registerWebhook(repo: RepoRef, spec: WebhookSpec): Promise<WebhookRegistration> {
    const settings = {
      token: spec.secret,
      pushEvents: true,
      tagPushEvents: true,
      mergeRequestsEvents: true,
      enableSslVerification: true,
    };
    return this.call(
      'registerWebhook',
      repo,
      async () => {
        const hooks = await this.hooks.all(repo.path, { perPage: 100 });
        const ours = hooks.filter((hook) => hook.url === spec.url).sort((a, b) => a.id - b.id);
        const [first, ...extra] = ours;
        if (first === undefined) {
          const created = await this.hooks.add(repo.path, spec.url, settings);
          return { action: 'created', hookId: created.id };
        }
        // GitLab never returns a hook's token, so an existing hook is always rewritten to hold the current one.
        await this.hooks.edit(repo.path, first.id, spec.url, settings);
        for (const hook of extra) await this.hooks.remove(repo.path, hook.id);
        return { action: 'updated', hookId: first.id };
      },
      [spec.secret],
    );
  }

  async setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<void> {
    try {
      await this.call('setCommitStatus', repo, () =>
        this.commits.editStatus(repo.path, sha, gitlabStatusState(status.phase), {
          name: statusContext(status.environment),
          description: statusDescription(status),
          ...(status.branch ? { ref: status.branch } : {}),
          ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}),
        }),
      );
    } catch (error) {
      // GitLab refuses to set a status to the state it already has ("Cannot transition status
      // via :run from :running"); reporting the same phase twice is not a failure.
      if (error instanceof UserError && 'status' in error && error.status === 400 && /cannot transition status/i.test(error.message)) return;
      throw error;
    }
  }

  async listBranchHeads(repo: RepoRef): Promise<BranchHead[]> {
    return this.call('listBranchHeads', repo, async () => {
      const branches = await this.branches.all(repo.path, { perPage: 100 });
      return branches.map((branch) => ({ branch: branch.name, sha: branch.commit.id as string })).sort((a, b) => (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0));
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
    const base = { provider: 'gitlab' as const, host: this.name, operation, repoPath: repo.path, tokenSource: this.options.tokenSource, secrets, nowMs: (this.options.now ?? Date.now)() };
    if (error instanceof GitbeakerRequestError && error.cause?.response) {
      const headers: Record<string, string> = {};
      error.cause.response.headers.forEach((value, key) => (headers[key.toLowerCase()] = value));
      return classifyFailure({ ...base, status: error.cause.response.status, headers, message: error.cause.description });
    }
    if (error instanceof GitbeakerRetryError) {
      // gitbeaker already retried 429 and 502 itself before giving up.
      const status = Number(/last status code: (\d+)/.exec(error.message)?.[1]) || 503;
      return classifyFailure({ ...base, status, headers: {}, message: 'still failing after retries' });
    }
    if (error instanceof GitbeakerTimeoutError || (error instanceof TypeError && error.message === 'fetch failed')) {
      return classifyFailure({ ...base, status: undefined, headers: {}, message: error.message });
    }
    return error as Error;
  }
}
