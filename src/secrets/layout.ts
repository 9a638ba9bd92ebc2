/**
 * Where secret files live in the ops repo, and which ones an environment gets. Pure.
 *
 *   secrets/<name>.yaml          the Secret <name> in every environment
 *   secrets/<env>/<name>.yaml    the Secret <name> in environment <env> only (wins over the above)
 */
import { posix } from 'node:path';
import type { ConfigSpec } from '../model/config.js';
import { SecretFileError } from './errors.js';

/** Folder of secret files unless `secrets.dir` says otherwise. */
export const DEFAULT_SECRETS_DIR = 'secrets';
/** Secret in the controller's namespace holding the cluster's private key, unless `secrets.keySecret` says otherwise. */
export const DEFAULT_KEY_SECRET = 'diploid-age-key';
/** The key of that Secret holding the identity (an age key file). */
export const KEY_SECRET_KEY = 'age.key';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The folder of secret files, relative to the ops repo. */
export function secretsDir(config: Pick<ConfigSpec, 'secrets'>): string {
  return config.secrets?.dir ?? DEFAULT_SECRETS_DIR;
}

/** Every recipient a file is encrypted to: the config's, sorted by their names for stable files. */
export function configRecipients(config: Pick<ConfigSpec, 'secrets'>): string[] {
  const recipients = config.secrets?.recipients ?? {};
  return Object.keys(recipients)
    .sort()
    .map((name) => recipients[name] as string);
}

/** The file that holds Secret `name` for `environment` (or for all environments). */
export function secretFilePath(config: Pick<ConfigSpec, 'secrets'>, name: string, environment?: string): string {
  if (!NAME.test(name) || name.length > 63) throw new SecretFileError(`${secretsDir(config)}/${name}.yaml`, '', `"${name}" is not a valid Secret name (lower-case letters, digits and "-")`);
  return environment === undefined ? posix.join(secretsDir(config), `${name}.yaml`) : posix.join(secretsDir(config), environment, `${name}.yaml`);
}

/**
 * The Secrets of one environment, by name, each with the file it comes from. `files` are paths
 * relative to the secrets folder (`db.yaml`, `production/db.yaml`); other files are ignored,
 * a bad name is an error naming the file.
 */
export function environmentSecretFiles(files: readonly string[], environment: string, dir = DEFAULT_SECRETS_DIR): Map<string, string> {
  const common = new Map<string, string>();
  const own = new Map<string, string>();
  for (const file of [...files].sort()) {
    const parts = file.split('/');
    const base = parts[parts.length - 1] ?? '';
    if (!/\.ya?ml$/.test(base) || parts.length > 2) continue;
    const name = base.replace(/\.ya?ml$/, '');
    if (!NAME.test(name) || name.length > 63) throw new SecretFileError(posix.join(dir, file), '', `"${name}" is not a valid Secret name (lower-case letters, digits and "-"); rename the file`);
    if (parts.length === 1) common.set(name, posix.join(dir, file));
    else if (parts[0] === environment) own.set(name, posix.join(dir, file));
  }
  return new Map([...common, ...own].sort(([a], [b]) => a.localeCompare(b)));
}
