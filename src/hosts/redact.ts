/**
 * Text a git host (or a proxy in front of it) sent back is untrusted: one that echoes the
 * request would hand back the token or the webhook secret. Anything from a host passes through
 * here before it is printed or kept in an error.
 */

/** Longest host text kept; the rest of an answer adds nothing to an error message. */
const MAX_KEPT = 300;
/** Longest text looked at, so a huge answer costs a bounded scan. */
const MAX_SCANNED = 16 * 1024;
const REDACTED = '[redacted]';

const TOKEN_PATTERNS: readonly RegExp[] = [
  // GitLab tokens (personal, deploy, trigger, runner, service account, OAuth) and GitHub tokens.
  /\b(?:glpat|gldt|glptt|glrt|glsoat|gloas)-[A-Za-z0-9_-]{8,}/g,
  /\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})/g,
  // `Authorization: Bearer x`, `token x`, `Basic x`.
  /\b(?:bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi,
  // `private-token: x`, `"secret":"x"`, `password=x` and the like, as headers, JSON or form fields.
  /((?:private[-_]token|authorization|x-gitlab-token|x-hub-signature(?:-256)?|cookie|secret|token|password)["']?\s*[:=]\s*["']?)[^\s"',;}&]+/gi,
];

/** The text without known secrets, token-like strings and control characters, cut to a readable length. */
export function redactHostText(text: string, secrets: readonly string[] = []): string {
  // Control characters could rewrite the terminal line the message is printed on.
  // eslint-disable-next-line no-control-regex
  let result = text.slice(0, MAX_SCANNED).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  for (const secret of secrets) if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  for (const pattern of TOKEN_PATTERNS) {
    result = result.replace(pattern, (whole: string, prefix?: string) => (typeof prefix === 'string' ? `${prefix}${REDACTED}` : whole.length > 0 ? REDACTED : whole));
  }
  return result.length > MAX_KEPT ? `${result.slice(0, MAX_KEPT)}...` : result;
}
