/**
 * Secret files against the real `sops` (v3.11.0): what diploid writes, sops decrypts, and what
 * sops writes, diploid decrypts; tampering is caught by both.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatKeyFile, generateKeyPair } from '../../../src/secrets/age-keys.js';
import { NoMatchingKeyError, SecretFileError } from '../../../src/secrets/errors.js';
import { openSecretFile, sealSecretFile } from '../../../src/secrets/secret-file.js';
import { newDataKey } from '../../../src/secrets/sops-cipher.js';
import { sops } from '../../support/sops.js';
import { writeOpsRepo } from '../../support/ops-repo.js';

let dir: string;
let cluster: { identity: string; recipient: string };
let editor: { identity: string; recipient: string };
let clusterKey: string;
let editorKey: string;

beforeAll(async () => {
  cluster = await generateKeyPair();
  editor = await generateKeyPair();
  dir = writeOpsRepo({});
  clusterKey = join(dir, 'cluster.key');
  editorKey = join(dir, 'editor.key');
  writeFileSync(clusterKey, formatKeyFile(cluster.identity, cluster.recipient, new Date()));
  writeFileSync(editorKey, formatKeyFile(editor.identity, editor.recipient, new Date()));
});

describe('diploid and sops read each other\'s files', () => {
  it('sops decrypts a file diploid sealed, to every recipient, with the exact values', async () => {
    const values: Array<[string, string]> = [
      ['password', 'hunter2 with spaces: and "quotes"'],
      ['multi', 'line one\nline two\n'],
      ['unicode', 'pässwörd ✓'],
      ['empty', ''],
    ];
    const file = join(dir, 'diploid-written.yaml');
    writeFileSync(file, await sealSecretFile({ values, dataKey: newDataKey(), recipients: [cluster.recipient, editor.recipient], now: new Date('2026-11-29T10:00:00.123Z') }, 'diploid-written.yaml'));
    for (const key of [clusterKey, editorKey]) {
      const decrypted = parse(sops(['decrypt', file], key)) as Record<string, string>;
      expect(decrypted).toEqual(Object.fromEntries(values));
    }
    // No value appears in clear in the file.
    const text = readFileSync(file, 'utf8');
    for (const [, value] of values) if (value !== '') expect(text).not.toContain(value);
  });

  it('diploid decrypts a file sops encrypted: strings, numbers, booleans, empty and unencrypted keys', async () => {
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, 'token: abc\nport: 5432\nflag: true\nratio: 1.5\nempty: ""\nnote_unencrypted: visible\n');
    const encrypted = sops(['encrypt', '--age', `${cluster.recipient},${editor.recipient}`, plain], clusterKey);
    const open = await openSecretFile(encrypted, 'secrets/api.yaml', [editor.identity]);
    expect(open.values).toEqual([
      ['token', 'abc'],
      ['port', '5432'],
      ['flag', 'true'],
      ['ratio', '1.5'],
      ['empty', ''],
      ['note_unencrypted', 'visible'],
    ]);
    expect(open.recipients).toEqual([cluster.recipient, editor.recipient]);
  });

  it('a file sops edited after diploid wrote it still opens, and the other way round', async () => {
    const file = join(dir, 'round.yaml');
    writeFileSync(file, await sealSecretFile({ values: [['a', '1']], dataKey: newDataKey(), recipients: [cluster.recipient], now: new Date() }, 'round.yaml'));
    // sops set keeps the data key and rewrites the MAC.
    sops(['set', file, '["b"]', '"two"'], clusterKey);
    const open = await openSecretFile(readFileSync(file, 'utf8'), 'round.yaml', [cluster.identity]);
    expect(open.values).toEqual([['a', '1'], ['b', 'two']]);
    writeFileSync(file, await sealSecretFile({ values: [...open.values, ['c', 'three']], dataKey: open.dataKey, recipients: [cluster.recipient], now: new Date() }, 'round.yaml'));
    expect(parse(sops(['decrypt', file], clusterKey))).toEqual({ a: '1', b: 'two', c: 'three' });
  });

  it('a value moved to another key, or a changed lastmodified, fails in diploid and in sops', async () => {
    const file = join(dir, 'tamper.yaml');
    const sealed = await sealSecretFile({ values: [['user', 'admin'], ['password', 'secret']], dataKey: newDataKey(), recipients: [cluster.recipient], now: new Date() }, 'tamper.yaml');
    const lines = sealed.split('\n');
    const user = lines.findIndex((line) => line.startsWith('user: '));
    const password = lines.findIndex((line) => line.startsWith('password: '));
    // Swap the two encrypted values: each is bound to its key, so decryption fails.
    const swapped = [...lines];
    swapped[user] = `user: ${lines[password]?.slice('password: '.length)}`;
    swapped[password] = `password: ${lines[user]?.slice('user: '.length)}`;
    await expect(openSecretFile(swapped.join('\n'), 'secrets/tamper.yaml', [cluster.identity])).rejects.toThrow(/^secrets\/tamper\.yaml user: authentication failed/);
    writeFileSync(file, swapped.join('\n'));
    expect(() => sops(['decrypt', file], clusterKey)).toThrow();

    // Dropping a key leaves every remaining value valid, but the MAC no longer matches.
    const dropped = lines.filter((_, index) => index !== user).join('\n');
    const error = await openSecretFile(dropped, 'secrets/tamper.yaml', [cluster.identity]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretFileError);
    expect((error as SecretFileError).path).toBe('sops.mac');
    writeFileSync(file, dropped);
    expect(() => sops(['decrypt', file], clusterKey)).toThrow(/MAC mismatch/);
  });

  it('a key the file is not encrypted to is told apart, naming the file and its recipients', async () => {
    const sealed = await sealSecretFile({ values: [['k', 'v']], dataKey: newDataKey(), recipients: [cluster.recipient], now: new Date() }, 'x.yaml');
    const error = await openSecretFile(sealed, 'secrets/x.yaml', [editor.identity]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoMatchingKeyError);
    expect((error as Error).message).toContain(`secrets/x.yaml: is not encrypted to any of the given keys (it is encrypted to ${cluster.recipient})`);
  });
});
