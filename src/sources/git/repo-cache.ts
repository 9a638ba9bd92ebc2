import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RepoSnapshot } from '../../plan/types.js';
import { BlobReader, GitTree, type TreeEntry } from '../trees.js';

interface TreeListing {
  readonly root: string;
  readonly entries: readonly TreeEntry[];
}
import { git, gitMaybe } from './git.js';

/** The all-zero id git hosts use for "no commit". */
export const ZERO_SHA = '0000000000000000000000000000000000000000';

/**
 * Local mirrors of remote repos under one cache folder: cloned once, fetched incrementally
 * (once per cache instance). Commits are read from the mirrors' objects, never checked out.
 */
export class RepoCache {
  private readonly opened = new Map<string, Promise<CachedRepo>>();

  constructor(readonly dir: string) {}

  /** The mirror of `url`, cloned or brought up to date. */
  open(name: string, url: string): Promise<CachedRepo> {
    let repo = this.opened.get(url);
    if (repo === undefined) {
      repo = this.sync(name, url);
      this.opened.set(url, repo);
    }
    return repo;
  }

  private async sync(name: string, url: string): Promise<CachedRepo> {
    const key = `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
    const mirror = join(this.dir, 'repos', `${key}.git`);
    if (existsSync(join(mirror, 'HEAD'))) {
      // Where the remote's HEAD points is asked while the fetch runs: two round trips side by side.
      const remoteHead = remoteHeadOf(mirror);
      await git(['--git-dir', mirror, 'fetch', '--prune', '--quiet', 'origin']);
      return new CachedRepo(name, url, mirror, remoteHead);
    } else {
      mkdirSync(join(this.dir, 'repos'), { recursive: true });
      const partial = `${mirror}.tmp-${randomBytes(4).toString('hex')}`;
      await git(['clone', '--mirror', '--quiet', url, partial]);
      renameOrDrop(partial, mirror);
    }
    return new CachedRepo(name, url, mirror);
  }
}

/**
 * Tree listings of the last commits read, by mirror and commit, kept across reconciles: a commit
 * never changes, and a push's plan lists the commit deployed before it, listed by the reconcile
 * before (two git commands and, at 1000 services, 1000 entries parsed). A few per mirror.
 */
const LISTINGS_KEPT = 8;
const listingsByMirror = new Map<string, Map<string, Promise<TreeListing>>>();

function listingsOf(gitDir: string): Map<string, Promise<TreeListing>> {
  let listings = listingsByMirror.get(gitDir);
  if (listings === undefined) {
    listings = new Map();
    listingsByMirror.set(gitDir, listings);
  }
  return listings;
}

/** One mirrored repo: its branches, commits and trees, read straight from git objects. */
export class CachedRepo {
  private branchList: Promise<Map<string, string>> | undefined;
  private defaultName: Promise<string> | undefined;
  private blobs: BlobReader | undefined;
  /** Listings by full commit id, shared across reconciles; any other name (a branch) only in this instance. */
  private readonly shared: Map<string, Promise<TreeListing>>;
  private readonly own = new Map<string, Promise<TreeListing>>();

  /** `remoteHead`: the answer of `ls-remote --symref origin HEAD`, when the caller already asked. */
  constructor(readonly name: string, readonly url: string, readonly gitDir: string, private readonly remoteHead?: Promise<string | undefined>) {
    this.shared = listingsOf(gitDir);
  }

  /** Branch -> head commit. */
  branches(): Promise<Map<string, string>> {
    this.branchList ??= git(['--git-dir', this.gitDir, 'for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads']).then(
      (out) => new Map(out.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string])),
    );
    return this.branchList;
  }

  /**
   * The branch the remote's HEAD points at now (a mirror's own HEAD is fixed at clone time), else
   * the mirror's, else `main`.
   */
  defaultBranch(): Promise<string> {
    this.defaultName ??= (async () => {
      const remote = await (this.remoteHead ?? remoteHeadOf(this.gitDir));
      const symref = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(remote ?? '')?.[1];
      if (symref !== undefined) return symref;
      const local = await gitMaybe(['--git-dir', this.gitDir, 'symbolic-ref', '--quiet', 'HEAD']);
      return local?.trim().replace(/^refs\/heads\//, '') || 'main';
    })();
    return this.defaultName;
  }

  /** The full commit id of `rev`, fetching it by id when the mirror lacks it; undefined when it does not exist. */
  async commit(rev: string): Promise<string | undefined> {
    // `--end-of-options`: a revision that starts with `-` is a name, never an option.
    const verify = () => gitMaybe(['--git-dir', this.gitDir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
    let sha = await verify();
    if (sha === undefined && /^[0-9a-f]{40}$/.test(rev)) {
      await gitMaybe(['--git-dir', this.gitDir, 'fetch', '--quiet', 'origin', rev]);
      sha = await verify();
    }
    return sha?.trim();
  }

  /** Every path of a commit with its object id; `.` is the root tree. */
  async snapshot(commit: string): Promise<RepoSnapshot> {
    const { root, entries } = await this.listing(commit);
    return { commit, objects: new Map<string, string>([['.', root], ...entries.map((entry): [string, string] => [entry.path, entry.id])]) };
  }

  /** A commit's tree, listed once (two git commands) for both its snapshot and its files. */
  private listing(commit: string): Promise<TreeListing> {
    const listings = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit) ? this.shared : this.own;
    let listing = listings.get(commit);
    if (listing !== undefined) {
      // Most recently used last, so the oldest goes first.
      listings.delete(commit);
      listings.set(commit, listing);
    } else {
      listing = (async () => {
        const root = (await git(['--git-dir', this.gitDir, 'rev-parse', '--end-of-options', `${commit}^{tree}`])).trim();
        const output = await git(['--git-dir', this.gitDir, 'ls-tree', '-r', '-t', '-z', '--full-tree', '--end-of-options', commit]);
        const entries: TreeEntry[] = [];
        for (const line of output.split('\0')) {
          const tab = line.indexOf('\t');
          if (tab < 0) continue;
          const [mode, type, id] = line.slice(0, tab).split(' ');
          if (mode !== undefined && type !== undefined && id !== undefined) entries.push({ path: line.slice(tab + 1), mode, type, id });
        }
        return { root, entries };
      })();
      // A failed listing (the mirror lacked the commit) is not kept.
      const made = listing;
      made.catch(() => {
        if (listings.get(commit) === made) listings.delete(commit);
      });
      listings.set(commit, listing);
      if (listings === this.shared && listings.size > LISTINGS_KEPT) listings.delete(listings.keys().next().value!);
    }
    return listing;
  }

  /** A commit's files, read from the mirror's objects (never checked out). */
  async tree(commit: string, label: string): Promise<GitTree> {
    this.blobs ??= new BlobReader(this.gitDir);
    const { root, entries } = await this.listing(commit);
    return new GitTree(label, root, entries, this.blobs);
  }
}

/** What the remote says its HEAD is (`ref: refs/heads/main	HEAD`); undefined when it cannot be asked. */
function remoteHeadOf(gitDir: string): Promise<string | undefined> {
  return gitMaybe(['--git-dir', gitDir, 'ls-remote', '--symref', 'origin', 'HEAD']);
}

/** Moves a finished folder into place; when another process got there first, keeps theirs. */
function renameOrDrop(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if (!existsSync(to)) throw error;
    rmSync(from, { recursive: true, force: true });
  }
}
