import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MalformedPayloadError } from './errors.js';

/** Parses a verified body as JSON and checks the fields diploid reads; extra fields are ignored. */
export function readPayload<T>(body: Buffer, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedPayloadError(`${what}: the body is not valid JSON`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    throw new MalformedPayloadError(`${what}: ${path}: ${issue?.message ?? 'unexpected shape'}`);
  }
  return result.data;
}

/** A delivery id for hosts that send none: a redelivery resends the same bytes, so it hashes alike. */
export function bodyDigest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * A commit id as hosts send it: 40 hex digits (SHA-1) or 64 (SHA-256 repositories). Anything else
 * in a payload is refused before it could reach a git command line.
 */
export const commitIdSchema = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a commit id of 40 or 64 hex digits');

