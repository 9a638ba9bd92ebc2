import { createHmac, randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';

/** Bytes of entropy in a master secret; 32 matches the HMAC-SHA256 block it keys. */
const MASTER_SECRET_BYTES = 32;

/** A fresh master secret, base64url: what `diploid webhooks secret` writes for users to store. */
export function generateMasterSecret(): string {
  return randomBytes(MASTER_SECRET_BYTES).toString('base64url');
}

/**
 * The webhook secret of one repository, derived from the master secret rather than stored: a
 * restart (or a second replica) computes the same value, and one leaked repo secret reveals
 * neither the master nor its siblings. Keyed by host name and repo path, so renaming the config's
 * repo key keeps the hook valid.
 */
export function deriveWebhookSecret(masterSecret: string, host: string, repoPath: string): string {
  if (masterSecret.length < 16) {
    throw new UserError('the webhook master secret is too short: use at least 16 characters (generate one with `diploid webhooks secret`)');
  }
  return createHmac('sha256', masterSecret).update(`diploid-webhook-v1\0${host}\0${repoPath}`).digest('hex');
}
