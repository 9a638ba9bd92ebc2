import * as k8s from '@kubernetes/client-node';
import { ApplyError } from '../cluster/apply.js';
import { ConfigError, UserError } from '../errors.js';

/**
 * A failure that may go away on its own (an API server answering 5xx, a timeout, a registry that
 * did not answer): the reconciler tries the same work again later, with backoff.
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
}

/**
 * A failure that retrying the same commit cannot fix (a configuration problem, an object the API
 * server refuses, a failed build): the environment is marked Stalled until a new commit arrives.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** A CamelCase reason for the status condition, e.g. `BuildFailed`. */
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

export type ErrorClass = { readonly retryable: true; readonly message: string } | { readonly retryable: false; readonly reason: string; readonly message: string };

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/**
 * Tells retryable from terminal failures. API 5xx, 429 and 409 (a conflict a re-read resolves),
 * timeouts and connection errors are retried; 4xx answers, configuration and user errors are
 * terminal for the commit. Anything unknown is retried: a bug should not stall a deploy for good.
 */
export function classifyError(error: unknown): ErrorClass {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TerminalError) return { retryable: false, reason: error.reason, message };
  if (error instanceof RetryableError) return { retryable: true, message };
  if (error instanceof k8s.ApiException) {
    const code = error.code;
    if (code >= 500 || code === 429 || code === 409 || code === 408) return { retryable: true, message };
    return { retryable: false, reason: code === 401 || code === 403 ? 'Forbidden' : 'ObjectRefused', message };
  }
  if (error instanceof ConfigError) return { retryable: false, reason: 'ConfigInvalid', message };
  if (error instanceof ApplyError) {
    // Only a 4xx answer is about the object; a 5xx or no answer is the API server's trouble.
    const code = Number(/^(\d{3})\b/.exec(error.reason)?.[1]);
    const refused = code >= 400 && code < 500 && ![408, 409, 429].includes(code);
    return refused ? { retryable: false, reason: 'ObjectRefused', message } : { retryable: true, message };
  }
  if (error instanceof UserError) return { retryable: false, reason: 'InvalidInput', message };
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return { retryable: true, message };
  return { retryable: true, message };
}

/** Delay before retry `attempt` (1-based): doubling from `baseMs`, capped, with up to 20% jitter from `random`. Pure given `random`. */
export function backoffMs(attempt: number, options: { baseMs?: number; maxMs?: number; random?: () => number } = {}): number {
  const base = options.baseMs ?? 2_000;
  const max = options.maxMs ?? 5 * 60_000;
  const plain = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jitter = 1 + 0.2 * (options.random?.() ?? 0);
  return Math.min(max, Math.round(plain * jitter));
}
