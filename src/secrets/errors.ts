import { UserError } from '../errors.js';

/**
 * A secret file that cannot be read, decrypted or written: names the file and, where there is
 * one, the key inside it. Never carries a secret value.
 */
export class SecretFileError extends UserError {
  override readonly name: string = 'SecretFileError';
  constructor(readonly file: string, readonly path: string, readonly problem: string, options?: { cause?: unknown }) {
    super(`${file}${path === '' ? '' : ` ${path}`}: ${problem}`, options);
  }
}

/** No identity (private key) given can open a secret file's data key. */
export class NoMatchingKeyError extends SecretFileError {
  override readonly name = 'NoMatchingKeyError';
}
