import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A real git repo in a temporary folder, driven by the `git` CLI. */
export class TestRepo {
  constructor(readonly dir: string) {}

  git(...args: string[]): string {
    return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: this.dir, encoding: 'utf8' }).trim();
  }

  /** Writes files (null deletes one) and commits them on the current branch; returns the commit. */
  commit(message: string, files: Record<string, string | null>): string {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.head();
  }

  head(rev = 'HEAD'): string {
    return this.git('rev-parse', rev);
  }

  /** Creates a branch (from `from`, the current commit by default) and switches to it. */
  branch(name: string, from?: string): void {
    this.git('checkout', '-q', '-b', name, ...(from === undefined ? [] : [from]));
  }

  checkout(name: string): void {
    this.git('checkout', '-q', name);
  }

  /** Points the current branch at `commit`, as a force-push does. */
  resetHard(commit: string): void {
    this.git('reset', '-q', '--hard', commit);
  }

  deleteBranch(name: string): void {
    this.git('branch', '-q', '-D', name);
  }
}

/** A folder of repos, as `--git-root` reads it, plus a cache folder; `dispose` removes both. */
export class GitRoot {
  readonly root: string;
  readonly cache: string;

  /**
   * Under the project's `node_modules/.cache` rather than the system's temp folder: inside vitest,
   * config files outside the project cannot import `diploid` (its module runner, not Node's
   * loader hooks, handles their imports).
   */
  constructor(parent = join(process.cwd(), 'node_modules', '.cache', 'diploid-tests')) {
    mkdirSync(parent, { recursive: true });
    const base = mkdtempSync(join(parent, 'git-'));
    this.root = join(base, 'repos');
    this.cache = join(base, 'cache');
    mkdirSync(this.root);
  }

  /** A new repo at `<root>/<path>` with one commit of `files` on `main`. */
  repo(path: string, files: Record<string, string>): TestRepo {
    const dir = join(this.root, path);
    mkdirSync(dir, { recursive: true });
    const repo = new TestRepo(dir);
    repo.git('init', '-q', '-b', 'main');
    repo.commit('initial', files);
    return repo;
  }

  dispose(): void {
    rmSync(dirname(this.root), { recursive: true, force: true });
  }
}
