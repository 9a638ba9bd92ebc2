/**
 * The real `sops` binary (getsops/sops v3, built from the Go module proxy by
 * scripts/build-sops, cached), so tests prove interoperability with the tool itself.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

let cached: string | undefined;

/** Path of the sops binary; builds it on first use when `npm test` has not. */
export function sopsBinary(): string {
  cached ??= execFileSync('bash', [join(import.meta.dirname, '../../scripts/build-sops')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return cached;
}

/** Runs sops with a key file; returns stdout, or throws with its stderr. */
export function sops(args: readonly string[], keyFile: string, cwd?: string): string {
  return execFileSync(sopsBinary(), args, { encoding: 'utf8', cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SOPS_AGE_KEY_FILE: keyFile }, stdio: ['ignore', 'pipe', 'pipe'] });
}
