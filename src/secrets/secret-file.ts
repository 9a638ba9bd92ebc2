/**
 * Opening and sealing a secret file: the data key from age, each value with AES-256-GCM, the MAC
 * over all of them. An open file is a list of keys and values in file order; sealing it again
 * with the same data key (set, unset, re-encrypt) or a new one (rotate) gives a file `sops` reads.
 */
import { unwrapDataKey, wrapDataKey } from './age-keys.js';
import { NoMatchingKeyError, SecretFileError } from './errors.js';
import { additionalData, computeMac, decryptValue, encryptValue, ValueDecryptError, type DecryptedValue } from './sops-cipher.js';
import { DEFAULT_UNENCRYPTED_SUFFIX, formatSopsFile, parseSopsFile, SECRET_KEY, SOPS_FORMAT_VERSION, type SopsFile } from './sops-file.js';

/** A decrypted secret file. Holds values in memory only; never log it. */
export interface OpenSecretFile {
  /** Keys and values in file order. */
  readonly values: ReadonlyArray<readonly [string, string]>;
  readonly dataKey: Uint8Array;
  /** Recipients the file is encrypted to now. */
  readonly recipients: readonly string[];
  readonly unencryptedSuffix: string;
}

/** Decrypts a file and checks its MAC: a changed, added, removed or reordered value fails. */
export async function openSecretFile(text: string, file: string, identities: readonly string[]): Promise<OpenSecretFile> {
  const parsed = parseSopsFile(text, file);
  let dataKey: Uint8Array | undefined;
  try {
    dataKey = await unwrapDataKey(parsed.age, identities);
  } catch (error) {
    throw new SecretFileError(file, 'sops.age', `the data key could not be decrypted (a damaged or forged entry): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (dataKey === undefined) {
    throw new NoMatchingKeyError(file, '', `is not encrypted to any of the given keys (it is encrypted to ${parsed.age.map((entry) => entry.recipient).join(', ') || 'no age recipient'}); run \`diploid secrets reencrypt\` with a key that can open it`);
  }
  if (dataKey.length !== 32) throw new SecretFileError(file, 'sops.age', 'the data key is not 32 bytes');
  const decrypted: DecryptedValue[] = [];
  const values: Array<readonly [string, string]> = [];
  for (const entry of parsed.entries) {
    let value: DecryptedValue;
    if (entry.key.endsWith(parsed.unencryptedSuffix)) value = { text: entry.stored, type: 'str' };
    else {
      try {
        value = decryptValue(entry.stored, dataKey, additionalData([entry.key]));
      } catch (error) {
        if (error instanceof ValueDecryptError) throw new SecretFileError(file, entry.key, error.message, { cause: error });
        throw error;
      }
    }
    decrypted.push(value);
    // A boolean is stored as `True` / `False` (SOPS' Python heritage); a Secret gets YAML's spelling.
    values.push([entry.key, value.type === 'bool' ? value.text.toLowerCase() : value.text]);
  }
  let mac: DecryptedValue;
  try {
    mac = decryptValue(parsed.mac, dataKey, parsed.lastModified);
  } catch (error) {
    if (error instanceof ValueDecryptError) throw new SecretFileError(file, 'sops.mac', `${error.message} (or sops.lastmodified was changed)`, { cause: error });
    throw error;
  }
  if (mac.text !== computeMac(decrypted)) throw new SecretFileError(file, 'sops.mac', 'does not match the values: the file was changed without its key (a value added, removed, reordered or edited by hand)');
  return { values, dataKey, recipients: parsed.age.map((entry) => entry.recipient), unencryptedSuffix: parsed.unencryptedSuffix };
}

/** What `sealSecretFile` writes. */
export interface SealInput {
  readonly values: ReadonlyArray<readonly [string, string]>;
  readonly dataKey: Uint8Array;
  readonly recipients: readonly string[];
  readonly now: Date;
  readonly unencryptedSuffix?: string;
}

/** Encrypts every value (all as `str`), wraps the data key to each recipient and writes the MAC. */
export async function sealSecretFile(input: SealInput, file: string): Promise<string> {
  if (input.recipients.length === 0) throw new SecretFileError(file, '', 'no recipients: set secrets.recipients in .diploid.conf.js');
  const suffix = input.unencryptedSuffix ?? DEFAULT_UNENCRYPTED_SUFFIX;
  const seen = new Set<string>();
  for (const [key] of input.values) {
    if (!SECRET_KEY.test(key) || key === 'sops') throw new SecretFileError(file, key, 'is not a valid Secret key (letters, digits, "-", "_" and "."; not "sops")');
    if (seen.has(key)) throw new SecretFileError(file, key, 'appears twice');
    seen.add(key);
  }
  const lastModified = input.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const entries = input.values.map(([key, value]) => ({ key, stored: key.endsWith(suffix) ? value : encryptValue(value, input.dataKey, additionalData([key])) }));
  const mac = encryptValue(computeMac(input.values.map(([, text]) => ({ text, type: 'str' as const }))), input.dataKey, lastModified);
  const age = [];
  for (const recipient of [...new Set(input.recipients)]) age.push({ recipient, enc: await wrapDataKey(input.dataKey, recipient) });
  return formatSopsFile({ entries, age, lastModified, mac, version: SOPS_FORMAT_VERSION, unencryptedSuffix: suffix });
}

/** Refuses to rewrite a file that also names keys of other kinds (pgp, kms, ...), which would be lost. */
export function assertRewritable(parsed: Pick<SopsFile, 'otherKeyTypes'>, file: string): void {
  if (parsed.otherKeyTypes.length > 0) throw new SecretFileError(file, 'sops', `also uses ${parsed.otherKeyTypes.join(', ')} keys, which diploid does not manage; edit it with sops`);
}
