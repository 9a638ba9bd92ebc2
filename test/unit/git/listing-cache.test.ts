/**
 * A commit's tree listing is kept across reconciles (a commit never changes): the next push's
 * plan lists the commit deployed before it without running git for it again. Real git repos; the
 * git commands are counted by a wrapper first on PATH that logs its arguments, then runs git.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RepoCache } from '../../../src/sources/git/repo-cache.js';
import { GitRoot } from '../../support/git-repos.js';

const roots: GitRoot[] = [];
const path = process.env.PATH;
afterEach(() => {
  process.env.PATH = path;
  for (const root of roots.splice(0)) root.dispose();
});

/** Puts a logging `git` first on PATH; returns the commands run since, one line each. */
function countGit(): () => string[] {
  const dir = mkdtempSync(join(tmpdir(), 'diploid-git-log-'));
  const log = join(dir, 'calls');
  writeFileSync(log, '');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(join(dir, 'git'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(dir, 'git'), 0o755);
  process.env.PATH = `${dir}:${path}`;
  return () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('the mirrors of a cache folder', () => {
  it('are kept by commit id across caches of one folder (reconciles): a commit listed before is not listed again, and its files are the same', async () => {
    const root = new GitRoot();
    roots.push(root);
    const ops = root.repo('ops', { 'a.txt': 'a1', 'dir/b.txt': 'b1' });
    const first = ops.head();
    const second = ops.commit('change', { 'a.txt': 'a2' });
    const url = join(root.root, 'ops');
    const calls = countGit();
    const before = await (await new RepoCache(root.cache).open('ops', url)).snapshot(first);
    expect(calls().filter((call) => call.includes('ls-tree'))).toHaveLength(1);
    // The next reconcile: a new cache on the same folder, as each reconcile makes one.
    const again = await new RepoCache(root.cache).open('ops', url);
    const listed = calls().length;
    const same = await again.snapshot(first);
    expect(calls().slice(listed)).toEqual([]);
    expect(same).toEqual(before);
    expect([...same.objects.keys()].sort()).toEqual(['.', 'a.txt', 'dir', 'dir/b.txt']);
    // A commit not listed before is listed, and read right.
    const next = await again.snapshot(second);
    expect(calls().slice(listed).filter((call) => call.includes('ls-tree'))).toHaveLength(1);
    expect(next.objects.get('a.txt')).not.toBe(before.objects.get('a.txt'));
    expect(next.objects.get('dir/b.txt')).toBe(before.objects.get('dir/b.txt'));
  });

  it('by a name that is not a commit id (a branch) are listed again by each cache: the branch may have moved', async () => {
    const root = new GitRoot();
    roots.push(root);
    const ops = root.repo('ops', { 'a.txt': 'a1' });
    const url = join(root.root, 'ops');
    const one = await (await new RepoCache(root.cache).open('ops', url)).snapshot('main');
    const moved = ops.commit('change', { 'a.txt': 'a2' });
    const two = await (await new RepoCache(root.cache).open('ops', url)).snapshot('main');
    expect(two.objects.get('a.txt')).not.toBe(one.objects.get('a.txt'));
    expect(two.commit).toBe('main');
    expect(moved).toMatch(/^[0-9a-f]{40}$/);
  });

  it('ask where the remote HEAD points while they fetch (not after), and answer as the remote is now', async () => {
    const root = new GitRoot();
    roots.push(root);
    const ops = root.repo('ops', { 'a.txt': 'a1' });
    const url = join(root.root, 'ops');
    expect(await (await new RepoCache(root.cache).open('ops', url)).defaultBranch()).toBe('main');
    // The remote's default branch changes after the mirror was cloned.
    ops.branch('trunk');
    ops.git('symbolic-ref', 'HEAD', 'refs/heads/trunk');
    const calls = countGit();
    const mirror = await new RepoCache(root.cache).open('ops', url);
    // Asked already, before anyone wanted the default branch: beside the fetch.
    let asked: string[] = [];
    for (let tries = 0; tries < 40 && asked.length === 0; tries++) {
      asked = calls().filter((call) => call.includes('ls-remote --symref origin HEAD'));
      if (asked.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(asked).toHaveLength(1);
    expect(calls().some((call) => call.includes(' fetch '))).toBe(true);
    expect(await mirror.defaultBranch()).toBe('trunk');
    expect(calls().filter((call) => call.includes('ls-remote'))).toHaveLength(1);
  });
});
