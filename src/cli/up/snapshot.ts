/**
 * Snapshots of local folders as git commits, pushed to the bed's git server. A snapshot's commit
 * has a fixed author, committer and date, so the same files give the same commit: a second
 * `diploid up` pushes nothing new and the controller has nothing to do.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../../errors.js';

/** Folders never copied: installed dependencies, build output, another repo's history. */
const SKIPPED = new Set(['.git', 'node_modules', 'dist']);

const FIXED = {
  GIT_AUTHOR_NAME: 'diploid up',
  GIT_AUTHOR_EMAIL: 'up@diploid.invalid',
  GIT_COMMITTER_NAME: 'diploid up',
  GIT_COMMITTER_EMAIL: 'up@diploid.invalid',
  GIT_AUTHOR_DATE: '2000-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2000-01-01T00:00:00Z',
};

function git(cwd: string, args: readonly string[]): string {
  try {
    return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...FIXED },
    }).trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new UserError(`git ${args[0]} in ${cwd} failed: ${stderr.trim() || (error instanceof Error ? error.message : String(error))}`, { cause: error });
  }
}

export interface Snapshot {
  /** Folder copied. */
  readonly from: string;
  /** Work tree the commit was made in. */
  readonly dir: string;
  readonly url: string;
  readonly commit: string;
}

/**
 * Copies `from` into `dir` (emptied first), adds `extra` files, commits, and pushes the commit to
 * `url` as `branch`. The push is forced: the bed's repo is this snapshot's copy, nothing else's.
 */
export function pushSnapshot(options: { from: string; dir: string; url: string; branch: string; extra?: Readonly<Record<string, string>>; copy?: Readonly<Record<string, string>> }): Snapshot {
  const { from, dir, url, branch } = options;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(from, dir, { recursive: true, filter: (source) => !SKIPPED.has(basename(source)) });
  for (const [name, to] of Object.entries(options.copy ?? {})) cpSync(join(dir, name), join(dir, to));
  for (const [name, content] of Object.entries(options.extra ?? {})) writeFileSync(join(dir, name), content);
  git(dir, ['init', '-q']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', `diploid up: ${basename(from)}`]);
  const commit = git(dir, ['rev-parse', 'HEAD']);
  git(dir, ['push', '-q', '--force', url, `HEAD:refs/heads/${branch}`]);
  return { from, dir, url, commit };
}
