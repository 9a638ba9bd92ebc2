import { readFile } from 'node:fs/promises';
import type { SecretSource } from '../model/primitives.js';
import { UserError } from '../errors.js';

/** What reading a secret needs from the outside world; injected so tests need no real env or files. */
export interface SecretReader {
  readonly env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): Promise<string>;
}

export const processSecretReader: SecretReader = {
  env: process.env,
  readFile: (path) => readFile(path, 'utf8'),
};

/**
 * Reads a token or secret from where the config points. Errors name the source (variable or
 * file) and never the value. Surrounding whitespace is dropped: files usually end in a newline.
 */
export async function readSecret(source: SecretSource, what: string, reader: SecretReader = processSecretReader): Promise<string> {
  if ('env' in source) {
    const value = reader.env[source.env]?.trim();
    if (!value) throw new UserError(`${what}: environment variable ${source.env} is not set or empty`);
    return value;
  }
  let text: string;
  try {
    text = await reader.readFile(source.file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : `cannot be read (${code ?? 'unknown error'})`;
    throw new UserError(`${what}: file ${source.file} ${reason}`);
  }
  const value = text.trim();
  if (!value) throw new UserError(`${what}: file ${source.file} is empty`);
  return value;
}
