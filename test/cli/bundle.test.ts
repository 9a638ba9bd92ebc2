/**
 * The CLI as shipped: `bin/diploid.js` runs the esbuild bundle in dist/bundle (scripts/bundle.mjs,
 * part of `npm run build`), and the bundle keeps each command a lazy chunk, so `render` never
 * loads the Kubernetes client. The bundle is built here from the current sources first; the
 * modules a run loads are recorded by a module hook registered with `--import`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bundle = join(root, 'dist/bundle');
const scratch = mkdtempSync(join(tmpdir(), 'diploid-bundle-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs')], { cwd: root, stdio: 'pipe' });
  writeFileSync(join(scratch, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.DIPLOID_TEST_LOADED, `${url}\\n`);\n  return next(url, context);\n}\n");
  writeFileSync(join(scratch, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(scratch, 'hooks.mjs')).href)});\n`);
}, 120_000);

/** Runs `bin/diploid.js ARGS` and returns its output and the files of this checkout it loaded as modules, relative to the root. */
function run(name: string, args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const record = join(scratch, `${name}.loaded`);
  writeFileSync(record, '');
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(join(scratch, 'register.mjs')).href, join(root, 'bin/diploid.js'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DIPLOID_TEST_LOADED: record }, maxBuffer: 64 * 1024 * 1024 });
  const loaded = readFileSync(record, 'utf8').split('\n').filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url)).filter((file) => file.startsWith(root)).map((file) => file.slice(root.length).replace(/^\//, ''));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, loaded };
}

/** The files of the bundle that hold `@kubernetes/client-node` (dist/bundle/packages.json, written by the build). */
function clientChunks(): string[] {
  const packages = JSON.parse(readFileSync(join(bundle, 'packages.json'), 'utf8')) as Record<string, string[]>;
  return Object.entries(packages).filter(([, names]) => names.includes('@kubernetes/client-node')).map(([file]) => `dist/bundle/${file}`);
}

describe('the bundled CLI', () => {
  it('is what bin/diploid.js runs: render loads dist/bundle/main.js and its chunks, no module of tsc\'s dist/cli nor of src/', () => {
    const { status, stdout, stderr, loaded } = run('render', ['render', 'examples/shop/ops']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('kind: Deployment');
    expect(loaded).toContain('bin/diploid.js');
    expect(loaded).toContain('dist/bundle/main.js');
    expect(loaded.filter((file) => file.startsWith('dist/bundle/')).length).toBeGreaterThan(3);
    expect(loaded.filter((file) => file.startsWith('src/') || (file.startsWith('dist/') && !file.startsWith('dist/bundle/')))).toEqual([]);
  }, 60_000);

  it('keeps the Kubernetes client out of render: its chunk is loaded by `controller`, never by `render`', () => {
    const chunks = clientChunks();
    expect(chunks.length).toBeGreaterThan(0);
    const render = run('render-client', ['render', 'examples/shop/ops']);
    expect(render.status).toBe(0);
    expect(render.loaded.filter((file) => chunks.includes(file))).toEqual([]);
    // The same check sees the client when a command needs it.
    const controller = run('controller', ['controller', '--help']);
    expect(controller.status).toBe(0);
    expect(controller.stdout).toContain('Run the gitops loop');
    expect(controller.loaded.filter((file) => chunks.includes(file)).length).toBeGreaterThan(0);
  }, 60_000);

  it('finds the package manifest from the bundle: --version prints package.json\'s version', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const result = run('version', ['--version']);
    expect(result.stdout.trim()).toBe(version);
  }, 60_000);
});
