import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UserError } from '../errors.js';
import type { SecretSource } from '../model/primitives.js';

/** Parsers and defaults shared by the commands' options. */

/** Where the webhook master secret is read from when neither an option nor the config says. */
export const DEFAULT_SECRET_ENV = 'DIPLOID_WEBHOOK_SECRET';

export interface SecretOptions {
  secretEnv?: string;
  secretFile?: string;
}

/** The webhook master secret's source: an option wins over the config, the config over the default. */
export function secretSource(options: SecretOptions, configured?: SecretSource): SecretSource {
  if (options.secretEnv !== undefined && options.secretFile !== undefined) throw new UserError('pass --secret-env or --secret-file, not both');
  if (options.secretFile !== undefined) return { file: options.secretFile };
  if (options.secretEnv !== undefined) return { env: options.secretEnv };
  return configured ?? { env: DEFAULT_SECRET_ENV };
}

/** Git mirrors and checked-out trees: `$DIPLOID_CACHE`, else `~/.cache/diploid`. */
export function defaultCacheDir(): string {
  return process.env.DIPLOID_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'diploid');
}

/** For repeatable options: `--repo-url a=x --repo-url b=y`. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseRepoUrl(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UserError(`--repo-url expects NAME=URL, got "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port number from 0 to 65535');
  return port;
}

export function parsePositive(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError('a positive whole number');
  return value;
}

export function parseUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http');
    return text;
  } catch {
    throw new InvalidArgumentError('an http(s) URL');
  }
}
