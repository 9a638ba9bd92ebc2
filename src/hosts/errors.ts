import { UserError } from '../errors.js';

/**
 * Why a host API call failed. `auth`, `scope` and `not-found` need a person to act (a new
 * token, a wider scope, a right path); `rate-limited` and `unavailable` pass by themselves, so
 * callers retry them later and do not give up on the deploy.
 */
export type HostApiErrorKind = 'auth' | 'scope' | 'not-found' | 'rejected' | 'rate-limited' | 'unavailable';

/** A failed call to a GitLab or GitHub API, with advice in its message and no token in it. */
export class HostApiError extends UserError {
  override readonly name = 'HostApiError';
  constructor(
    message: string,
    readonly kind: HostApiErrorKind,
    /** HTTP status, when there was a response. */
    readonly status: number | undefined,
    /** How long the host asked us to wait (`Retry-After`, rate-limit reset), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** Worth trying again later without anyone changing anything. */
  get retryable(): boolean {
    return this.kind === 'rate-limited' || this.kind === 'unavailable';
  }
}

/** A webhook body that verified but is not the JSON the event header promised: answered with 400. */
export class MalformedPayloadError extends Error {
  override readonly name = 'MalformedPayloadError';
}

/** Milliseconds to wait from a `Retry-After` (seconds) or a rate-limit reset (epoch seconds) header. */
export function retryDelayMs(retryAfter: string | null | undefined, resetEpochSeconds: string | null | undefined, nowMs: number): number | undefined {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  }
  if (resetEpochSeconds) {
    const reset = Number(resetEpochSeconds);
    if (Number.isFinite(reset)) return Math.max(0, reset * 1000 - nowMs);
  }
  return undefined;
}
