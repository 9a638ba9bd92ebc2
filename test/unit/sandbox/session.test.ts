import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOpsDir } from '../../../src/sources/load-dir.js';
import { DEFAULT_SANDBOX_LIMITS, prestartSandbox, SandboxSession, sandboxProcesses } from '../../../src/sources/sandbox/sandbox.js';

/** A tree held in memory: exactly the files given, as a commit would hold them. */
function tree(files: Record<string, string>, label = '') {
  return { label, read: async (path: string) => files[path] };
}

const LIMITS = { ...DEFAULT_SANDBOX_LIMITS, timeMs: 2_000 };

describe('a sandbox session: batches of one tree in one process', () => {
  it('evaluates a second batch in the process of the first, reusing the modules it already has', async () => {
    const files = {
      'config.js': "import { base } from './lib.js';\nexport default { base };\n",
      'services/a.js': "import { base } from '../lib.js';\nexport default { name: 'a', port: base + 1 };\n",
      'lib.js': 'export const base = 8000;\n',
    };
    const before = sandboxProcesses.started;
    const session = new SandboxSession(tree(files), LIMITS);
    try {
      expect(await session.evaluate(['config.js'])).toEqual([{ ok: true, value: { base: 8000 }, reads: ['config.js', 'lib.js'] }]);
      expect(await session.evaluate(['services/a.js'])).toEqual([{ ok: true, value: { name: 'a', port: 8001 }, reads: ['services/a.js', 'lib.js'] }]);
    } finally {
      session.close();
    }
    expect(sandboxProcesses.started - before).toBe(1);
  });

  it('after a batch whose file crashed the process, evaluates the next batch in a fresh one', async () => {
    const files = { 'memory.js': 'const all = [];\nfor (;;) all.push(new Array(1e6).fill(1));\n', 'fine.js': "export default { name: 'fine' };\n" };
    const before = sandboxProcesses.started;
    const session = new SandboxSession(tree(files), { ...LIMITS, memoryMb: 64 });
    try {
      expect(await session.evaluate(['memory.js'])).toMatchObject([{ ok: false, message: expect.stringMatching(/ran out of memory/) }]);
      expect(await session.evaluate(['fine.js'])).toEqual([{ ok: true, value: { name: 'fine' }, reads: ['fine.js'] }]);
    } finally {
      session.close();
    }
    expect(sandboxProcesses.started - before).toBe(2);
  });

  it('stops its process on close', async () => {
    const session = new SandboxSession(tree({ 'a.js': 'export default 1;\n' }), LIMITS);
    await session.evaluate(['a.js']);
    const held = (session as unknown as { sandbox: { child: { pid: number; on: (event: string, listener: () => void) => void } } }).sandbox.child;
    const exited = new Promise<void>((resolve) => held.on('exit', () => resolve()));
    session.close();
    await exited;
    expect(() => process.kill(held.pid, 0)).toThrow();
  });

  it('a prestarted process serves the next tree that asks, told its label then', async () => {
    prestartSandbox(LIMITS.memoryMb);
    const before = sandboxProcesses.started;
    const session = new SandboxSession(tree({ 'bad.js': "export default {};\nthrow new Error('boom');\n" }, 'repo:web/'), LIMITS);
    try {
      // Its settings (label, time limit) reach the child after it started: the error is located at its line.
      expect(await session.evaluate(['bad.js'])).toEqual([{ ok: false, message: 'boom', line: 2 }]);
    } finally {
      session.close();
    }
    expect(sandboxProcesses.started - before).toBe(0);
  });
});

describe('loading an ops repo from a folder', () => {
  it('evaluates the config and the service files in one sandbox process', async () => {
    const root = mkdtempSync(join(tmpdir(), 'diploid-session-'));
    mkdirSync(join(root, 'services'));
    writeFileSync(join(root, '.diploid.conf.js'), "export default { project: 'shop', environments: { production: {} } };\n");
    for (const name of ['api', 'web', 'worker']) writeFileSync(join(root, 'services', `${name}.js`), `export default { name: '${name}', image: 'example/${name}:1' };\n`);
    const before = sandboxProcesses.started;
    const loaded = await loadOpsDir(root);
    expect(loaded.problems).toEqual([]);
    expect(loaded.sources.services.map((service) => service.document.value)).toEqual([
      { name: 'api', image: 'example/api:1' },
      { name: 'web', image: 'example/web:1' },
      { name: 'worker', image: 'example/worker:1' },
    ]);
    expect(sandboxProcesses.started - before).toBe(1);
  });

  it('announces each evaluated service file as its result arrives, with the very value the sources then hold', async () => {
    const root = mkdtempSync(join(tmpdir(), 'diploid-session-'));
    mkdirSync(join(root, 'services'));
    writeFileSync(join(root, '.diploid.conf.js'), "export default { project: 'shop', environments: { production: {} } };\n");
    for (const name of ['api', 'web']) writeFileSync(join(root, 'services', `${name}.js`), `export default { name: '${name}' };\n`);
    const announced: Array<{ file: string; value: unknown }> = [];
    const loaded = await loadOpsDir(root, { onServiceDocument: (document) => announced.push(document) });
    expect(announced.map((document) => document.file)).toEqual(loaded.sources.services.map((service) => service.document.file));
    announced.forEach((document, index) => expect(document.value).toBe(loaded.sources.services[index]?.document.value));
  });
});
