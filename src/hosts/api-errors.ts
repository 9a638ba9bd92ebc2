import { HostApiError, retryDelayMs } from './errors.js';
import { redactHostText } from './redact.js';
import type { HostProvider } from './event.js';

/** The API calls diploid makes, each with the permission it needs. */
export type HostOperation = 'registerWebhook' | 'setCommitStatus' | 'listBranchHeads';

const operationText: Record<HostOperation, string> = {
  registerWebhook: 'manage webhooks',
  setCommitStatus: 'set commit statuses',
  listBranchHeads: 'list branches',
};

/** What a token needs per operation, in the words of each host's token settings page. */
const neededScope: Record<HostProvider, Record<HostOperation, string>> = {
  github: {
    registerWebhook: 'the "admin:repo_hook" scope (classic token) or "Webhooks: Read and write" (fine-grained token), and admin rights on the repository',
    setCommitStatus: 'the "repo:status" scope (classic token) or "Commit statuses: Read and write" (fine-grained token)',
    listBranchHeads: 'the "repo" scope for a private repository (classic token) or "Contents: Read-only" (fine-grained token)',
  },
  gitlab: {
    registerWebhook: 'the "api" scope and the Maintainer role on the project',
    setCommitStatus: 'the "api" scope and at least the Developer role on the project',
    listBranchHeads: 'the "read_api" scope and at least the Reporter role on the project',
  },
};

/** A failed HTTP exchange, reduced to what classification reads. */
export interface FailedCall {
  readonly provider: HostProvider;
  /** Name of the `git.hosts` entry. */
  readonly host: string;
  readonly operation: HostOperation;
  readonly repoPath: string;
  /** Where the token was read from, e.g. `env GITHUB_TOKEN`; never the token. */
  readonly tokenSource: string;
  /** Undefined when no response came (connection refused, timeout). */
  readonly status: number | undefined;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The host's own message, if any: untrusted, redacted before it is shown. */
  readonly message: string;
  /** Values that must never appear in the error: the token, the webhook secret being set. */
  readonly secrets?: readonly string[];
  readonly nowMs: number;
}

/** Turns a failed call into an error that says what to do about it. Pure. */
export function classifyFailure(call: FailedCall): HostApiError {
  const { provider, host, operation, repoPath, status, headers } = call;
  const message = redactHostText(call.message, call.secrets);
  const where = `${provider === 'github' ? 'GitHub' : 'GitLab'} host "${host}"`;
  const doing = `could not ${operationText[operation]} on ${repoPath}`;
  const said = message ? ` (${status ?? 'no response'}: ${message})` : status ? ` (${status})` : '';
  const wait = retryDelayMs(headers['retry-after'], headers['x-ratelimit-reset'] ?? headers['ratelimit-reset'], call.nowMs);

  if (status === undefined) return new HostApiError(`${where} ${doing}: the API did not answer${said}; will retry`, 'unavailable', status);
  if (status === 429 || (status === 403 && isRateLimit(headers, message))) {
    return new HostApiError(`${where} ${doing}: rate limited${said}; will retry`, 'rate-limited', status, wait);
  }
  if (status >= 500) return new HostApiError(`${where} ${doing}: the API failed${said}; will retry`, 'unavailable', status, wait);
  if (status === 401) {
    return new HostApiError(`${where} rejected the token from ${call.tokenSource}${said}: it is invalid, expired or revoked`, 'auth', status);
  }
  const scope = grantedScopeHint(headers);
  if ((status === 403 || status === 404) && lacksAcceptedScope(headers)) {
    return new HostApiError(`${where} ${doing}: the token from ${call.tokenSource} lacks the scope${said}; it needs ${scope}`, 'scope', status);
  }
  if (status === 403) {
    return new HostApiError(`${where} ${doing}: the token from ${call.tokenSource} lacks permission${said}; it needs ${scope ?? neededScope[provider][operation]}`, 'scope', status);
  }
  if (status === 404) {
    // Both hosts answer 404 rather than 403 for a repository the token may not see.
    return new HostApiError(
      `${where} ${doing}: repository not found${said}; check repos.*.path, or the token from ${call.tokenSource} cannot see it (it needs ${neededScope[provider][operation]})`,
      'not-found',
      status,
    );
  }
  return new HostApiError(`${where} ${doing}: the request was refused${said}`, 'rejected', status);
}

/** GitHub says which scopes an endpoint accepts and which the token has: none in common is a scope problem. */
function lacksAcceptedScope(headers: FailedCall['headers']): boolean {
  const accepted = splitScopes(headers['x-accepted-oauth-scopes']);
  const granted = headers['x-oauth-scopes'];
  if (accepted.length === 0 || granted === undefined) return false;
  const has = new Set(splitScopes(granted));
  return !accepted.some((scope) => has.has(scope));
}

function splitScopes(header: string | undefined): string[] {
  return (header ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function isRateLimit(headers: FailedCall['headers'], message: string): boolean {
  return headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(message);
}

/**
 * The scope a host says was missing. GitHub lists what the endpoint accepts in
 * `X-Accepted-OAuth-Scopes`; GitLab names it in `WWW-Authenticate: ... scope="api"`.
 */
function grantedScopeHint(headers: FailedCall['headers']): string | undefined {
  const accepted = splitScopes(headers['x-accepted-oauth-scopes']);
  if (accepted.length > 0) return `one of the scopes ${accepted.map((s) => `"${s}"`).join(', ')}`;
  const scope = /scope="([^"]+)"/.exec(headers['www-authenticate'] ?? '')?.[1];
  if (scope) return `the ${scope.split(/\s+/).map((s) => `"${s}"`).join(' or ')} scope`;
  return undefined;
}
