/**
 * age, through its reference TypeScript implementation (`age-encryption`): key pairs, and the
 * data key of a secret file wrapped to each recipient the way SOPS does (one armored age file
 * per recipient, holding the 32 raw bytes of the data key).
 */
import * as age from 'age-encryption';

/** An X25519 age recipient: `age1` and 58 bech32 characters. */
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** A new key pair; X25519, which every age and SOPS release reads (post-quantum keys are newer). */
export async function generateKeyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await age.generateX25519Identity();
  return { identity, recipient: await age.identityToRecipient(identity) };
}

/** The public key of an identity. */
export function recipientOf(identity: string): Promise<string> {
  return age.identityToRecipient(identity);
}

/**
 * The identities in the text of an age key file (`age-keygen`'s format): one
 * `AGE-SECRET-KEY-1…` per line, `#` comments ignored.
 */
export function parseIdentities(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A key file in `age-keygen`'s format, which `age -i` and `SOPS_AGE_KEY_FILE` read. */
export function formatKeyFile(identity: string, recipient: string, created: Date): string {
  return `# created: ${created.toISOString().replace(/\.\d{3}Z$/, 'Z')}\n# public key: ${recipient}\n${identity}\n`;
}

/** The data key, encrypted to one recipient and armored (SOPS' `enc` field). */
export async function wrapDataKey(dataKey: Uint8Array, recipient: string): Promise<string> {
  const encrypter = new age.Encrypter();
  encrypter.addRecipient(recipient);
  return age.armor.encode(await encrypter.encrypt(dataKey));
}

/**
 * The data key from the first entry whose recipient is the public key of one of the identities,
 * or undefined when the file is not encrypted to any of them. Entries are chosen by recipient,
 * so a failure to decrypt a chosen one is a real error (a damaged or forged entry), not a miss.
 */
export async function unwrapDataKey(entries: ReadonlyArray<{ readonly recipient: string; readonly enc: string }>, identities: readonly string[]): Promise<Uint8Array | undefined> {
  const mine = new Map<string, string>();
  for (const identity of identities) mine.set(await age.identityToRecipient(identity), identity);
  for (const entry of entries) {
    const identity = mine.get(entry.recipient);
    if (identity === undefined) continue;
    const decrypter = new age.Decrypter();
    decrypter.addIdentity(identity);
    return decrypter.decrypt(age.armor.decode(entry.enc));
  }
  return undefined;
}
