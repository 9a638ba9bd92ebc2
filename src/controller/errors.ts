import * as k8s from '@kubernetes/client-node';
import { ApplyError } from '../cluster/apply.js';
import { ConfigError, RetryableError, TerminalError, UserError } from '../errors.js';
import { GitError } from '../sources/git/git.js';

export type ErrorClass = { readonly retryable: true; readonly message: string; /** Set when the error names a cause better than `RetryScheduled`. */ readonly reason?: string } | { readonly retryable: false; readonly reason: string; readonly message: string };

/**
 * Tells retryable from terminal failures. API 5xx, 429 and 409 (a conflict a re-read resolves),
 * timeouts and connection errors are retried; 4xx answers, configuration and user errors are
 * terminal for the commit. Anything unknown is retried: a bug should not stall a deploy for good.
 */
export function classifyError(error: unknown): ErrorClass {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TerminalError) return { retryable: false, reason: error.reason, message };
  if (error instanceof RetryableError) return { retryable: true, message, ...(error.reason === undefined ? {} : { reason: error.reason }) };
  if (error instanceof k8s.ApiException) {
    const code = error.code;
    if (!isRefusal(code)) return { retryable: true, message };
    return { retryable: false, reason: code === 401 || code === 403 ? 'Forbidden' : 'ObjectRefused', message };
  }
  if (error instanceof ConfigError) return { retryable: false, reason: 'ConfigInvalid', message };
  if (error instanceof ApplyError) {
    // Only a 4xx answer is about the object; a 5xx or no answer at all is the API server's trouble.
    return error.status !== undefined && isRefusal(error.status) ? { retryable: false, reason: 'ObjectRefused', message } : { retryable: true, message };
  }
  // Git that could not be reached (wrapped in a user-facing message, or not) may answer later.
  if (causes(error).some((item) => item instanceof GitError)) return { retryable: true, message };
  if (error instanceof UserError) return { retryable: false, reason: 'InvalidInput', message };
  // Connection errors, and anything unknown (a bug should not stall a deploy for good), are retried.
  return { retryable: true, message };
}

/** An HTTP answer that is about the request itself, not the server's state: retrying it cannot help. */
function isRefusal(code: number): boolean {
  return code >= 400 && code < 500 && ![408, 409, 429].includes(code);
}

/** An error and its chain of causes, outermost first (bounded: a cycle must not hang us). */
export function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let item = error; item !== undefined && item !== null && chain.length < 10; item = (item as { cause?: unknown }).cause) {
    chain.push(item);
    if (typeof item !== 'object') break;
  }
  return chain;
}

/** Delay before retry `attempt` (1-based): doubling from `baseMs`, capped, with up to 20% jitter from `random`. Pure given `random`. */
export function backoffMs(attempt: number, options: { baseMs?: number; maxMs?: number; random?: () => number } = {}): number {
  const base = options.baseMs ?? 2_000;
  const max = options.maxMs ?? 5 * 60_000;
  const plain = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jitter = 1 + 0.2 * (options.random?.() ?? 0);
  return Math.min(max, Math.round(plain * jitter));
}
