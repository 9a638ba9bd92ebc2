import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in time independent of where they differ. Both sides are hashed first so
 * that unequal lengths neither throw (`timingSafeEqual` demands equal lengths) nor leak the length.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/** GitHub's `X-Hub-Signature-256` value for a body: `sha256=` and the hex HMAC-SHA256. */
export function githubSignature(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Checks `X-Hub-Signature-256` over the exact bytes received. */
export function verifyGithubSignature(body: Buffer, secret: string, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith('sha256=')) return false;
  return constantTimeEqual(githubSignature(body, secret), header);
}

/** GitLab sends the hook's secret token verbatim in `X-Gitlab-Token`. */
export function verifyGitlabToken(secret: string, header: string | undefined): boolean {
  if (header === undefined || header === '') return false;
  return constantTimeEqual(secret, header);
}

/** A header's single value: a repeated header is treated as absent rather than guessed at. */
export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}
