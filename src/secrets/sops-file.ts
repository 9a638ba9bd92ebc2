/**
 * The SOPS YAML file format, limited to what a Kubernetes Secret is: a flat map of keys to
 * values, plus SOPS' `sops` metadata block with its age recipients. Parsing checks the shape and
 * reports the file and key of every mistake; it decrypts nothing.
 */
import { Document, isMap, isScalar, parseDocument } from 'yaml';
import { SecretFileError } from './errors.js';
import { isEncryptedValue } from './sops-cipher.js';

/** The SOPS release whose format this follows; written into `sops.version`. */
export const SOPS_FORMAT_VERSION = '3.11.0';
/** SOPS' default: keys ending with it are stored in clear (and still covered by the MAC). */
export const DEFAULT_UNENCRYPTED_SUFFIX = '_unencrypted';

/** One age recipient and the data key encrypted to it (an armored age file). */
export interface AgeEntry {
  readonly recipient: string;
  readonly enc: string;
}

/** A parsed, still encrypted, secret file. */
export interface SopsFile {
  /** Keys and their stored values (`ENC[…]`, or clear text for keys with the unencrypted suffix), in file order. */
  readonly entries: ReadonlyArray<{ readonly key: string; readonly stored: string }>;
  readonly age: readonly AgeEntry[];
  /** RFC 3339, UTC, whole seconds: the MAC's additional data. */
  readonly lastModified: string;
  readonly mac: string;
  readonly version: string;
  readonly unencryptedSuffix: string;
  /** Key types besides age that the file names (pgp, kms, ...): diploid keeps none of them, so it refuses to rewrite such a file. */
  readonly otherKeyTypes: readonly string[];
}

/** A Kubernetes Secret key: letters, digits, `-`, `_` and `.`. */
export const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

const OTHER_KEY_TYPES = ['pgp', 'kms', 'gcp_kms', 'azure_kv', 'hc_vault'];
const UNSUPPORTED_RULES = ['encrypted_suffix', 'encrypted_regex', 'unencrypted_regex', 'mac_only_encrypted'];

/** Parses a SOPS-encrypted YAML file; `file` names it in errors. */
export function parseSopsFile(text: string, file: string): SopsFile {
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) throw new SecretFileError(file, '', `is not valid YAML: ${document.errors[0]?.message ?? ''}`);
  const root = document.contents;
  if (!isMap(root)) throw new SecretFileError(file, '', 'expected a map of key: value with a "sops" block (a file written by `diploid secrets` or `sops`)');
  const entries: Array<{ key: string; stored: string }> = [];
  let metadata: unknown;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) throw new SecretFileError(file, '', 'expected plain keys');
    if (key === 'sops') {
      metadata = isMap(pair.value) ? (pair.value.toJSON() as unknown) : undefined;
      continue;
    }
    if (!SECRET_KEY.test(key)) throw new SecretFileError(file, key, 'is not a valid Secret key (letters, digits, "-", "_" and ".")');
    if (!isScalar(pair.value)) throw new SecretFileError(file, key, 'expected a single value; a secret file is a flat map (nested maps and lists cannot be a Secret key)');
    const value = pair.value.value;
    if (value === null) throw new SecretFileError(file, key, 'has no value');
    entries.push({ key, stored: String(value) });
  }
  if (metadata === undefined || metadata === null || typeof metadata !== 'object') throw new SecretFileError(file, 'sops', 'missing: the file is not encrypted (write it with `diploid secrets set`, never by hand)');
  const read = readMetadata(metadata as Record<string, unknown>, file);
  // A value pasted in by hand would sit in git in clear: refuse it (without repeating it).
  for (const entry of entries) {
    if (!entry.key.endsWith(read.unencryptedSuffix) && entry.stored !== '' && !isEncryptedValue(entry.stored)) throw new SecretFileError(file, entry.key, `is in clear text, not encrypted: set it with \`diploid secrets set\` (and rewrite git history if it was pushed)`);
  }
  return { entries, ...read };
}

function readMetadata(sops: Record<string, unknown>, file: string): Omit<SopsFile, 'entries'> {
  const text = (key: string): string => {
    const value = sops[key];
    if (typeof value !== 'string' || value === '') throw new SecretFileError(file, `sops.${key}`, 'missing or not a string');
    return value;
  };
  for (const rule of UNSUPPORTED_RULES) {
    if (sops[rule] !== undefined && sops[rule] !== false && sops[rule] !== '') throw new SecretFileError(file, `sops.${rule}`, 'is not supported by diploid; only unencrypted_suffix is (encrypt every value)');
  }
  const groups = Array.isArray(sops['key_groups']) ? (sops['key_groups'] as Array<Record<string, unknown>>) : [];
  const lists = [sops['age'], ...groups.map((group) => group['age'])].filter((list) => list !== undefined && list !== null);
  const age: AgeEntry[] = [];
  lists.forEach((list, index) => {
    if (!Array.isArray(list)) throw new SecretFileError(file, 'sops.age', 'expected a list of { recipient, enc }');
    list.forEach((item: unknown, position) => {
      const entry = item as { recipient?: unknown; enc?: unknown } | null;
      if (typeof entry?.recipient !== 'string' || typeof entry.enc !== 'string') throw new SecretFileError(file, `${index === 0 && sops['age'] !== undefined ? 'sops.age' : 'sops.key_groups[].age'}[${position}]`, 'expected { recipient, enc }');
      age.push({ recipient: entry.recipient, enc: entry.enc });
    });
  });
  const otherKeyTypes = [...new Set([sops, ...groups].flatMap((group) => OTHER_KEY_TYPES.filter((type) => Array.isArray(group[type]) && (group[type] as unknown[]).length > 0)))];
  if (age.length === 0 && otherKeyTypes.length === 0) throw new SecretFileError(file, 'sops.age', 'no recipients: nobody can decrypt this file');
  const suffix = sops['unencrypted_suffix'];
  return {
    age,
    lastModified: text('lastmodified'),
    mac: text('mac'),
    version: text('version'),
    unencryptedSuffix: typeof suffix === 'string' && suffix !== '' ? suffix : DEFAULT_UNENCRYPTED_SUFFIX,
    otherKeyTypes,
  };
}

/** Writes a file in the layout `sops` writes: the values, then the `sops` block. */
export function formatSopsFile(file: Omit<SopsFile, 'otherKeyTypes'>): string {
  const body: Record<string, unknown> = {};
  for (const entry of file.entries) body[entry.key] = entry.stored;
  body['sops'] = {
    age: file.age.map((entry) => ({ recipient: entry.recipient, enc: entry.enc.endsWith('\n') ? entry.enc : `${entry.enc}\n` })),
    lastmodified: file.lastModified,
    mac: file.mac,
    unencrypted_suffix: file.unencryptedSuffix,
    version: file.version,
  };
  const document = new Document(body);
  // Quoted, as sops writes it: unquoted, a YAML 1.1 reader would take it for a timestamp.
  const lastModified = document.getIn(['sops', 'lastmodified'], true);
  if (isScalar(lastModified)) lastModified.type = 'QUOTE_DOUBLE';
  return document.toString({ indent: 4, lineWidth: 0 });
}
