/**
 * The CLI's side of secret files: reading identities, reading and writing the encrypted files of
 * an ops folder. Values stay in memory; files are written whole, atomically.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../errors.js';
import type { ConfigSpec } from '../model/config.js';
import { parseIdentities } from '../secrets/age-keys.js';
import { configRecipients, secretsDir } from '../secrets/layout.js';
import { newDataKey } from '../secrets/sops-cipher.js';
import { assertRewritable, openSecretFile, sealSecretFile, type OpenSecretFile } from '../secrets/secret-file.js';
import { parseSopsFile } from '../secrets/sops-file.js';

/**
 * Private keys, from `--identity FILE`s, else `DIPLOID_AGE_KEY_FILE`, `SOPS_AGE_KEY_FILE` or
 * `SOPS_AGE_KEY` (the same places `sops` looks, so one key file serves both).
 */
export function readIdentities(files: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const paths = files !== undefined && files.length > 0 ? files : [env.DIPLOID_AGE_KEY_FILE, env.SOPS_AGE_KEY_FILE].filter((path): path is string => path !== undefined && path !== '');
  const identities: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UserError(`cannot read the age key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    identities.push(...parseIdentities(text));
  }
  if (paths.length === 0 && env.SOPS_AGE_KEY !== undefined) identities.push(...parseIdentities(env.SOPS_AGE_KEY));
  return identities;
}

/** The identities, or an error saying where to put one. */
export function requireIdentities(files: readonly string[] | undefined): string[] {
  const identities = readIdentities(files);
  if (identities.length === 0) throw new UserError('no age key to decrypt with: pass --identity FILE, or set DIPLOID_AGE_KEY_FILE (or SOPS_AGE_KEY_FILE) to a key file made by `diploid secrets keygen`');
  return identities;
}

/** Every secret file of an ops folder, relative to the secrets folder (`db.yaml`, `production/db.yaml`). */
export function listSecretFiles(opsDir: string, config: Pick<ConfigSpec, 'secrets'>): string[] {
  const root = join(opsDir, secretsDir(config));
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        if (depth === 0) walk(path, 1);
      } else if (/\.ya?ml$/.test(entry)) found.push(relative(root, path).split('\\').join('/'));
    }
  };
  walk(root, 0);
  return found;
}

/** Opens a file of the ops folder (`path` relative to it), or undefined when it does not exist. */
export async function openFile(opsDir: string, path: string, identities: readonly string[], forWriting = true): Promise<OpenSecretFile | undefined> {
  const full = join(opsDir, path);
  if (!existsSync(full)) return undefined;
  const text = readFileSync(full, 'utf8');
  if (forWriting) assertRewritable(parseSopsFile(text, path), path);
  return openSecretFile(text, path, identities);
}

/** Seals values into a file of the ops folder for the config's recipients; a new data key unless one is given. */
export async function writeFile(opsDir: string, path: string, config: Pick<ConfigSpec, 'secrets'>, values: ReadonlyArray<readonly [string, string]>, dataKey: Uint8Array = newDataKey()): Promise<void> {
  const recipients = configRecipients(config);
  if (recipients.length === 0) throw new UserError('secrets.recipients in .diploid.conf.js names no public key: add the cluster\'s (from `diploid secrets keygen`) and each editor\'s');
  const text = await sealSecretFile({ values, dataKey, recipients, now: new Date() }, path);
  const full = join(opsDir, path);
  mkdirSync(dirname(full), { recursive: true });
  const temporary = `${full}.tmp-${process.pid}`;
  writeFileSync(temporary, text, { mode: 0o644 });
  renameSync(temporary, full);
}
