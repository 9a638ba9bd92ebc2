import { describe, expect, it } from 'vitest';
import { evaluateInSandbox, DEFAULT_SANDBOX_LIMITS, type Evaluation, type SandboxLimits } from '../../../src/sources/sandbox/sandbox.js';

/** A tree held in memory: exactly the files given, as a commit would hold them. */
function tree(files: Record<string, string>, label = '') {
  return { label, read: async (path: string) => files[path] };
}

async function evaluate(files: Record<string, string>, path: string, limits: Partial<SandboxLimits> = {}): Promise<Evaluation> {
  const [result] = await evaluateInSandbox(tree(files), [path], { ...DEFAULT_SANDBOX_LIMITS, timeMs: 2_000, ...limits });
  return result!;
}

async function failure(files: Record<string, string>, path: string, limits: Partial<SandboxLimits> = {}): Promise<{ message: string; line?: number }> {
  const result = await evaluate(files, path, limits);
  if (result.ok) throw new Error(`expected ${path} to fail, got ${JSON.stringify(result.value)}`);
  return result;
}

const SERVICE = "import { defineService, ref, secret, shared } from 'diploid';\n";

describe('the evaluation sandbox evaluates what a config needs', () => {
  it("imports 'diploid' and files of its own tree, and reports every file it read", async () => {
    const result = await evaluate(
      {
        'services/api.js': `${SERVICE}import { port } from '../lib/port.js';\nexport default defineService({ name: 'api', port, env: { A: ref('db').url, B: secret('s', 'k'), C: shared('X') } });\n`,
        'lib/port.js': "import { base } from './base.js';\nexport const port = base + 80;\n",
        'lib/base.js': 'export const base = 8000;\n',
      },
      'services/api.js',
    );
    expect(result).toEqual({
      ok: true,
      value: { name: 'api', port: 8080, env: { A: { $ref: 'db', part: 'url' }, B: { $secret: { name: 's', key: 'k' } }, C: { $shared: 'X' } } },
      reads: ['services/api.js', 'lib/port.js', 'lib/base.js'],
    });
  });

  it('evaluates TypeScript, and JSON a file imports', async () => {
    const result = await evaluate(
      {
        'diploid.service.ts': `${SERVICE}import ports from './ports.json' with { type: 'json' };\nconst port: number = ports.http;\nexport default defineService({ name: 'web', port } satisfies { name: string; port: number });\n`,
        'ports.json': '{ "http": 8080 }',
      },
      'diploid.service.ts',
    );
    expect(result.ok && result.value).toEqual({ name: 'web', port: 8080 });
  });

  it('points at the line of a syntax error, and at the line that threw', async () => {
    expect(await failure({ 'a.js': "const a = 1;\n\nexport default { name: 'api' port: 80 };\n" }, 'a.js')).toMatchObject({ line: 3 });
    expect(await failure({ 'a.ts': "const a: number = 1;\nexport default { name: 'api' port: a };\n" }, 'a.ts')).toMatchObject({ line: 2 });
    expect(await failure({ 'a.js': "const name = 'api';\n\nthrow new Error('no ' + name);\n" }, 'a.js')).toEqual({ ok: false, message: 'no api', line: 3 });
    expect((await failure({ 'a.js': "import { x } from './missing.js';\nexport default x;\n" }, 'a.js')).message).toBe('cannot import "./missing.js": missing.js is not a file of this commit');
  });
});

describe('a file in the sandbox has nothing to reach', () => {
  it('finds no process, require, timers, network or code generation in its context', async () => {
    process.env.DIPLOID_SANDBOX_TEST_TOKEN = 'glpat-must-not-leak';
    const result = await evaluate(
      {
        'a.js': `export default {
  names: [typeof process, typeof require, typeof setTimeout, typeof setInterval, typeof fetch, typeof WebAssembly.compile, typeof console, typeof Buffer, typeof queueMicrotask],
  escapes: [
    () => globalThis.constructor.constructor('return process')(),
    () => Object.getPrototypeOf(globalThis).constructor.constructor('return process')(),
    () => [].constructor.constructor('return process')(),
    () => eval('1 + 1'),
    () => new Function('return 1')(),
  ].map((attempt) => { try { const got = attempt(); return typeof got === 'object' ? 'ESCAPED' : String(got); } catch (error) { return 'blocked'; } }),
};\n`,
      },
      'a.js',
    );
    expect(result.ok && result.value).toEqual({
      names: ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'function', 'undefined', 'undefined', 'undefined'],
      escapes: ['blocked', 'blocked', 'blocked', 'blocked', 'blocked'],
    });
  });

  it('cannot import Node built-ins, packages, files outside its tree, or anything dynamically', async () => {
    for (const specifier of ['node:fs', 'fs', 'node:child_process', 'node:net', 'left-pad', '/etc/passwd', 'file:///etc/passwd']) {
      expect((await failure({ 'a.js': `import x from '${specifier}';\nexport default x;\n` }, 'a.js')).message).toBe(
        `cannot import "${specifier}": a diploid file may import 'diploid' and files of its own repo (./ or ../), nothing else`,
      );
    }
    expect((await failure({ 'a/b.js': "import x from '../../outside.js';\nexport default x;\n" }, 'a/b.js')).message).toBe('cannot import "../../outside.js": it is outside the repo');
    const dynamic = await failure({ 'a.js': "export default await import('node:fs');\n" }, 'a.js');
    expect(dynamic.message).not.toContain('readFileSync');
  });
});

describe('whatever a file does, a located error and no crash', () => {
  const cases: Array<[string, string, string | RegExp]> = [
    ['throw null', 'throw null;\n', 'threw null'],
    ['throw undefined', 'throw undefined;\n', 'threw undefined'],
    ['a rejected promise', 'export default Promise.reject(new Error("later"));\n', 'later'],
    ['a never-settling promise', 'export default new Promise(() => {});\n', 'did not finish within 1000 ms (an endless loop, or a promise that never settles?)'],
    ['an endless loop', 'for (;;) {}\n', 'did not finish within 1000 ms (an endless loop?)'],
    ['an endless loop after await', 'await null;\nfor (;;) {}\n', 'did not finish within 1000 ms (an endless loop, or a promise that never settles?)'],
    // It starves the watchdog's timer and piles up promises: whichever limit it hits first stops it.
    [
      'an endless microtask chain',
      'const spin = () => Promise.resolve().then(spin);\nspin();\nexport default new Promise(() => {});\n',
      /^(did not finish within 1000 ms \(an endless loop, or a promise that never settles\?\)|stopped the evaluation \(SIGABRT\): it ran out of memory \(limit 256 MB\) or crashed the sandbox)$/,
    ],
    ['process.exit', 'process.exit(0);\n', 'process is not defined'],
    ['a throwing getter', "export default { name: 'api', get image() { throw new Error('gotcha'); } };\n", 'its default export is not plain data: image: a getter is not plain data'],
    ['a proxy', "export default new Proxy({}, { ownKeys() { for (;;) {} } });\n", 'its default export is not plain data: a Proxy is not plain data'],
    ['a proxy thrown', 'throw new Proxy({}, { get() { for (;;) {} } });\n', 'threw a Proxy'],
    ['an error with a throwing message', "throw Object.defineProperty(Object.create(Error.prototype), 'message', { get() { for (;;) {} } });\n", 'threw a value that is not an Error'],
    ['export default undefined', 'export default undefined;\n', 'its default export is undefined: export the config or service with `export default`'],
    ['no default export', 'export const name = 1;\n', 'has no default export: export the config or service with `export default`'],
    ['a function', 'export default { name: () => 1 };\n', 'its default export is not plain data: name: a function is not plain data (only objects, arrays, strings, numbers, booleans and null)'],
    ['an own __proto__ key', 'export default JSON.parse(\'{"name": "api", "__proto__": {"image": "evil"}}\');\n', 'its default export is not plain data: __proto__: a key named "__proto__" is not allowed'],
    ['a cycle', 'const a = { name: "x" };\na.self = a;\nexport default a;\n', 'its default export is not plain data: self: refers to itself (a cycle)'],
    ['NaN', 'export default { port: NaN };\n', 'its default export is not plain data: port: NaN is not a finite number'],
    ['a class instance', 'export default new Date(0);\n', 'its default export is not plain data: a Date is not plain data (only objects, arrays, strings, numbers, booleans and null)'],
  ];
  for (const [name, source, message] of cases) {
    it(name, async () => {
      const { message: got } = await failure({ 'services/x.js': source }, 'services/x.js', { timeMs: 1_000 });
      if (typeof message === 'string') expect(got).toBe(message);
      else expect(got).toMatch(message);
    });
  }

  it('a file that exhausts memory or floods the output fails alone; the next file still evaluates', async () => {
    const files = {
      'memory.js': 'const all = [];\nfor (;;) all.push(new Array(1e6).fill(1));\n',
      'output.js': "export default { text: 'x'.repeat(4 * 1024 * 1024) };\n",
      'fine.js': "export default { name: 'fine' };\n",
    };
    const [memory, output, fine] = await evaluateInSandbox(tree(files), ['memory.js', 'output.js', 'fine.js'], { ...DEFAULT_SANDBOX_LIMITS, memoryMb: 64, maxOutputBytes: 1024 * 1024 });
    expect(memory).toMatchObject({ ok: false, message: expect.stringMatching(/^stopped the evaluation \(.+\): it ran out of memory \(limit 64 MB\) or crashed the sandbox$/) });
    expect(output).toEqual({ ok: false, message: 'its result is larger than 1048576 bytes' });
    expect(fine).toEqual({ ok: true, value: { name: 'fine' }, reads: ['fine.js'] });
  });

  it('hands the sandbox no file over the size limit', async () => {
    const big = `export default { name: 'big', pad: '${'x'.repeat(2048)}' };\n`;
    expect((await failure({ 'a.js': "import b from './big.js';\nexport default b;\n", 'big.js': big }, 'a.js', { maxFileBytes: 1024 })).message).toBe(
      'cannot import "./big.js": big.js is not a file of this commit',
    );
  });
});
