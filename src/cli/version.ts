import { readFileSync } from 'node:fs';

/**
 * diploid's version, from its own package.json: two folders up from this file both in `src/cli`
 * (tests, tsx) and in `dist/cli` (the installed package), so there is one source of truth.
 */
export function diploidVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
