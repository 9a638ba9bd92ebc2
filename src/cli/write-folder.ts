import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

const MARKER = '.diploid-output';

/**
 * Replaces a folder with rendered files, so objects removed from the config do not linger as
 * stale files. A non-empty folder that diploid did not write is never touched.
 */
export function writeOutputFolder(dir: string, files: ReadonlyArray<{ path: string; content: string }>): void {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0 && !existsSync(join(target, MARKER))) {
    throw new UserError(`${dir} exists and was not written by diploid; choose an empty or new folder`);
  }
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  for (const file of files) {
    const path = join(staging, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
  }
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, MARKER), 'Written by diploid render; replaced on every render.\n');
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
}
