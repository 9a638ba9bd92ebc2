/**
 * SOPS' value encryption, byte for byte: AES-256-GCM with a 32-byte IV, the value's key path
 * (`a:b:`) as additional data, written as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` in
 * standard base64. The MAC is SHA-512 over every value in document order, upper-case hex,
 * encrypted with the file's `lastmodified` as additional data. Follows getsops/sops v3
 * (`aes/cipher.go`, `sops.go`), so files written here decrypt with `sops` and the other way round.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** The value types SOPS writes in `type:`; diploid writes `str` only, and reads all scalars. */
export type SopsType = 'str' | 'int' | 'float' | 'bool' | 'bytes';

const ENCRYPTED = /^ENC\[AES256_GCM,data:([^,]*),iv:([^,]+),tag:([^,]+),type:([a-z]+)\]$/;
const IV_BYTES = 32;
const TAG_BYTES = 16;

/** True for a string in SOPS' encrypted-value form. */
export function isEncryptedValue(text: string): boolean {
  return ENCRYPTED.test(text);
}

/** The additional data SOPS binds each value to: its key path joined by `:`, plus a final `:`. */
export function additionalData(path: readonly string[]): string {
  return `${path.join(':')}:`;
}

/** Encrypts one value; the empty string stays empty, as in SOPS. */
export function encryptValue(plaintext: string, dataKey: Uint8Array, aad: string, type: SopsType = 'str'): string {
  if (plaintext === '') return '';
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${tag.toString('base64')},type:${type}]`;
}

/** A decrypted value and the type SOPS recorded for it. */
export interface DecryptedValue {
  readonly text: string;
  readonly type: SopsType;
}

/** Why a value could not be decrypted; the caller adds the file and key. */
export class ValueDecryptError extends Error {
  override readonly name = 'ValueDecryptError';
}

/** Decrypts one value; throws ValueDecryptError when it is malformed or was tampered with. */
export function decryptValue(ciphertext: string, dataKey: Uint8Array, aad: string): DecryptedValue {
  if (ciphertext === '') return { text: '', type: 'str' };
  const match = ENCRYPTED.exec(ciphertext);
  if (match === null) throw new ValueDecryptError('not a SOPS encrypted value (ENC[AES256_GCM,data:…,iv:…,tag:…,type:…])');
  const [, data = '', iv = '', tag = '', type = ''] = match;
  if (!['str', 'int', 'float', 'bool', 'bytes'].includes(type)) throw new ValueDecryptError(`unsupported value type "${type}" (expected str, int, float, bool or bytes)`);
  const ivBytes = Buffer.from(iv, 'base64');
  const tagBytes = Buffer.from(tag, 'base64');
  if (tagBytes.length !== TAG_BYTES || ivBytes.length === 0) throw new ValueDecryptError('malformed iv or tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, ivBytes);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tagBytes);
    const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]);
    return { text: plain.toString('utf8'), type: type as SopsType };
  } catch (error) {
    throw new ValueDecryptError('authentication failed: wrong data key, or the value or its key was changed', { cause: error });
  }
}

/**
 * The bytes SOPS hashes for a value of a type (`ToBytes` in sops.go): booleans as `True` /
 * `False`, everything else as its text.
 */
export function macBytes(value: DecryptedValue): string {
  if (value.type === 'bool') return /^(1|t|true)$/i.test(value.text) ? 'True' : 'False';
  return value.text;
}

/** SHA-512 over the values in document order, upper-case hex (SOPS' unencrypted MAC). */
export function computeMac(values: readonly DecryptedValue[]): string {
  const hash = createHash('sha512');
  for (const value of values) hash.update(Buffer.from(macBytes(value), 'utf8'));
  return hash.digest('hex').toUpperCase();
}

/** A fresh 32-byte data key. */
export function newDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}
