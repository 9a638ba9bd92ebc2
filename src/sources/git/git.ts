import { execFile } from 'node:child_process';

/** A git command that failed; `stderr` says why. Callers turn the expected failures into user errors. */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(readonly args: readonly string[], readonly stderr: string, readonly exitCode: number | undefined) {
    super(`git ${args.join(' ')} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim() || 'no message'}`);
  }
}

export interface GitOptions {
  readonly cwd?: string;
  /** Extra environment variables, e.g. `GIT_INDEX_FILE`. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs the `git` CLI and returns its standard output. Never prompts for credentials. */
export function git(args: readonly string[], options: GitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...args],
      {
        cwd: options.cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...options.env },
        maxBuffer: 512 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else reject(new GitError(args, stderr || error.message, typeof error.code === 'number' ? error.code : undefined));
      },
    );
  });
}

/** Like `git`, but a failure yields undefined: for questions such as "does this commit exist?". */
export async function gitMaybe(args: readonly string[], options: GitOptions = {}): Promise<string | undefined> {
  try {
    return await git(args, options);
  } catch (error) {
    if (error instanceof GitError) return undefined;
    throw error;
  }
}
