import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { globSync } from 'tinyglobby';
import { GitError } from './git/git.js';
import type { TreeReader } from './sandbox/sandbox.js';

/**
 * The files of one repo at one state, read-only: a folder on disk, or a commit read straight from
 * git's object store (never checked out, so nothing can change it between two loads).
 */
export interface RepoTree extends TreeReader {
  /** Files matching the globs, sorted. */
  glob(patterns: readonly string[]): Promise<string[]>;
  /** An id of a file's content (git's blob id, or a hash of the folder's file); undefined when absent. */
  contentId(path: string): Promise<string | undefined>;
  /** An id of the whole tree when it has one (a commit's root tree): results may be cached under it. */
  readonly treeId?: string;
}

/**
 * A folder on disk. Paths that lead outside it, through `..` or a symbolic link, do not exist.
 * Each file is located and read once per tree (a load asks for its id and its text several times);
 * a tree is one load's view of the folder.
 */
export class DirectoryTree implements RepoTree {
  private readonly root: string;
  private readonly located = new Map<string, string | undefined>();
  private readonly contents = new Map<string, Buffer>();
  private readonly ids = new Map<string, string>();

  constructor(root: string, readonly label: string) {
    this.root = realpathSync.native(resolve(root));
  }

  async glob(patterns: readonly string[]): Promise<string[]> {
    return globSync([...patterns], { cwd: this.root, ignore: ['**/node_modules/**', '**/.git/**'] }).filter((path) => this.file(path) !== undefined).sort();
  }

  async read(path: string): Promise<string | undefined> {
    return this.bytes(path)?.toString('utf8');
  }

  async contentId(path: string): Promise<string | undefined> {
    let id = this.ids.get(path);
    if (id === undefined) {
      const bytes = this.bytes(path);
      if (bytes === undefined) return undefined;
      id = createHash('sha256').update(bytes).digest('hex');
      this.ids.set(path, id);
    }
    return id;
  }

  private bytes(path: string): Buffer | undefined {
    let bytes = this.contents.get(path);
    if (bytes === undefined) {
      const file = this.file(path);
      if (file === undefined) return undefined;
      bytes = readFileSync(file);
      this.contents.set(path, bytes);
    }
    return bytes;
  }

  /** The real path of a regular file inside the folder, or undefined. */
  private file(path: string): string | undefined {
    if (this.located.has(path)) return this.located.get(path);
    let found: string | undefined;
    try {
      // The C library's realpath: Node's own walks every component with a stat of its own (80 ms at 1000 files).
      const real = realpathSync.native(join(this.root, path));
      found = (real === this.root || real.startsWith(this.root + sep)) && statSync(real).isFile() ? real : undefined;
    } catch {
      found = undefined;
    }
    this.located.set(path, found);
    return found;
  }
}

/** One entry of `git ls-tree -r -t`. */
export interface TreeEntry {
  readonly path: string;
  readonly mode: string;
  readonly type: string;
  readonly id: string;
}

/** A commit of a repo: its regular files (no symbolic links, no submodules) from git's objects. */
export class GitTree implements RepoTree {
  private readonly blobs = new Map<string, string>();

  constructor(
    readonly label: string,
    readonly treeId: string,
    entries: readonly TreeEntry[],
    private readonly reader: BlobReader,
  ) {
    // Mode 120000 is a symbolic link: its "content" is where it points, never a file to read.
    for (const entry of entries) if (entry.type === 'blob' && entry.mode !== '120000') this.blobs.set(entry.path, entry.id);
  }

  async glob(patterns: readonly string[]): Promise<string[]> {
    const matches = picomatch([...patterns], { dot: false, posix: true });
    return [...this.blobs.keys()].filter((path) => matches(path) && !path.split('/').includes('node_modules')).sort();
  }

  async read(path: string): Promise<string | undefined> {
    const id = this.blobs.get(path);
    return id === undefined ? undefined : (await this.reader.read(id)).toString('utf8');
  }

  async contentId(path: string): Promise<string | undefined> {
    return this.blobs.get(path);
  }
}

/** One `git cat-file --batch` per repo, kept while it is used: blobs by id without a process per file. */
export class BlobReader {
  private batch: CatFileBatch | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly gitDir: string) {}

  read(id: string): Promise<Buffer> {
    clearTimeout(this.idle);
    if (this.batch === undefined || this.batch.closed) this.batch = new CatFileBatch(this.gitDir);
    const batch = this.batch;
    return batch.read(id).finally(() => {
      // Nobody waits: end the process after a moment rather than keep one per repo forever.
      if (batch.idle && this.batch === batch) {
        clearTimeout(this.idle);
        this.idle = setTimeout(() => batch.close(), 1000).unref();
      }
    });
  }
}

/** One `git cat-file --batch` process and the answers it owes. */
class CatFileBatch {
  closed = false;
  private buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (blob: Buffer) => void; reject: (error: Error) => void }> = [];
  private readonly child: ReturnType<typeof spawn>;

  constructor(gitDir: string) {
    this.child = spawn('git', ['--git-dir', gitDir, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    this.child.stdin!.on('error', () => {});
    this.child.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiting.splice(0)) waiter.reject(new GitError(['cat-file', '--batch'], `git cat-file ended early in ${gitDir}`, undefined));
    });
  }

  get idle(): boolean {
    return this.waiting.length === 0;
  }

  read(id: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin!.write(`${id}\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.child.stdin!.end();
  }

  /** Answers are `<id> <type> <size>\n<content>\n`, or `<id> missing\n`. */
  private drain(): void {
    for (;;) {
      const newline = this.buffer.indexOf(10);
      if (newline < 0) return;
      const header = this.buffer.subarray(0, newline).toString('utf8').split(' ');
      if (header[1] === 'missing') {
        this.buffer = this.buffer.subarray(newline + 1);
        this.waiting.shift()?.resolve(Buffer.alloc(0));
        continue;
      }
      const size = Number(header[2]);
      if (this.buffer.length < newline + 1 + size + 1) return;
      const blob = Buffer.from(this.buffer.subarray(newline + 1, newline + 1 + size));
      this.buffer = this.buffer.subarray(newline + 1 + size + 1);
      this.waiting.shift()?.resolve(blob);
    }
  }
}

/** How the directory loader names files: relative to the working folder. */
export function displayPrefix(root: string): string {
  const path = relative(process.cwd(), resolve(root)).split(sep).join('/');
  return path === '' ? '' : `${path}/`;
}
