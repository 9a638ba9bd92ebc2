import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildInputs, contentTag } from '../../../testbed/controller-image.js';
import { repoRoot } from '../../../testbed/config.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A build context shaped like the project's: the files the Dockerfile reads, and some it does not. */
function context(): string {
  const root = mkdtempSync(join(tmpdir(), 'diploid-image-'));
  roots.push(root);
  mkdirSync(join(root, 'scripts'));
  for (const file of ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/bundle.mjs']) writeFileSync(join(root, file), `${file}\n`);
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  writeFileSync(join(root, 'src/cli/main.ts'), 'export {};\n');
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin/diploid.js'), '// entry\n');
  mkdirSync(join(root, 'test'));
  writeFileSync(join(root, 'test/a.test.ts'), '// a test\n');
  return root;
}

describe("the content tag of diploid's image", () => {
  it('is the same for the same sources, wherever they are', () => {
    const first = context();
    const second = mkdtempSync(join(tmpdir(), 'diploid-image-'));
    roots.push(second);
    cpSync(first, second, { recursive: true });
    expect(contentTag(second)).toBe(contentTag(first));
    expect(contentTag(first)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes with what the build reads: a source file, a new file, the Dockerfile, the lockfile', () => {
    const root = context();
    const seen = new Set([contentTag(root)]);
    writeFileSync(join(root, 'src/cli/main.ts'), 'export const changed = 1;\n');
    seen.add(contentTag(root));
    writeFileSync(join(root, 'src/cli/new.ts'), 'export {};\n');
    seen.add(contentTag(root));
    writeFileSync(join(root, 'Dockerfile'), 'FROM other\n');
    seen.add(contentTag(root));
    writeFileSync(join(root, 'package-lock.json'), '{}\n');
    seen.add(contentTag(root));
    expect(seen.size).toBe(5);
  });

  it('ignores what the build does not read (tests, docs)', () => {
    const root = context();
    const before = contentTag(root);
    writeFileSync(join(root, 'test/a.test.ts'), '// changed\n');
    writeFileSync(join(root, 'README.md'), '# docs\n');
    expect(contentTag(root)).toBe(before);
  });

  it("hashes exactly what the project's .dockerignore lets into the build", () => {
    const allowed = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    expect(readFileSync(join(repoRoot, '.dockerignore'), 'utf8')).toMatch(/^\*$/m);
    expect([...allowed].sort()).toEqual([...buildInputs.files.filter((file) => file !== 'Dockerfile' && file !== '.dockerignore'), ...buildInputs.dirs].sort());
  });
});
