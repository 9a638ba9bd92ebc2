/**
 * Vitest global setup: the evaluation sandbox runs as its own Node process from `dist/` (the
 * product runs it from there too). Tests run diploid from its TypeScript sources, so the files the
 * sandbox process loads are brought up to date here, transpiled one for one, before any test:
 * the child, what it imports, and the DSL it evaluates inside its context.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { globSync } from 'tinyglobby';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SANDBOX_FILES = ['src/sources/sandbox/*.ts', 'src/dsl.ts', 'src/model/define.ts', 'src/model/values.ts'];

export default function setup(): void {
  for (const file of globSync(SANDBOX_FILES, { cwd: root })) {
    const { code } = transformSync(readFileSync(join(root, file), 'utf8'), { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: file });
    const out = join(root, 'dist', file.replace(/^src\//, '').replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, code);
  }
}
