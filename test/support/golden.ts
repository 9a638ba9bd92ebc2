import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

export const GOLDEN_ROOT = join(import.meta.dirname, '../fixtures/golden');
export const SHOP_EXAMPLE = join(import.meta.dirname, '../../examples/shop');

/** Whether this run rewrites expected files instead of comparing (`UPDATE_GOLDEN=1`). */
export const updating = process.env.UPDATE_GOLDEN === '1';

export interface GoldenCase {
  readonly name: string;
  readonly opsDir: string;
  readonly reposDir?: string;
  readonly expectedDir: string;
}

/** Every case folder under test/fixtures/golden: `<case>/ops`, optional `<case>/repos`, `<case>/expected`. */
export function goldenCases(): GoldenCase[] {
  return readdirSync(GOLDEN_ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const root = join(GOLDEN_ROOT, entry.name);
      const reposDir = join(root, 'repos');
      return { name: entry.name, opsDir: join(root, 'ops'), ...(existsSync(reposDir) ? { reposDir } : {}), expectedDir: join(root, 'expected') };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Compares with the expected file, or writes it when updating. A missing expected file fails. */
export function expectGolden(path: string, actual: string): void {
  if (updating) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  expect(existsSync(path), `expected file ${path} is missing; run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}
