import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { createShop, OPS_CONFIG } from './shop.js';

let shop: ReturnType<typeof createShop> | undefined;
afterEach(() => shop?.root.dispose());

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  if (shop === undefined) throw new Error('no shop');
  let out = '';
  let err = '';
  const code = await main(['plan', '--git-root', shop.root.root, '--cache', shop.root.cache, ...args], { out: (text) => (out += text), err: (text) => (err += text) });
  return { code, out, err };
}

describe('diploid plan', { timeout: 60_000 }, () => {
  it('prints a readable plan, and JSON for machines', async () => {
    shop = createShop();
    const before = shop.backend.head();
    const after = shop.backend.commit('api', { 'api/index.js': 'console.log(2)\n' });
    const text = await run(['--repo', 'backend', '--branch', 'main', '--from', before, '--to', after]);
    expect(text.code).toBe(0);
    expect(text.out).toContain('update environment production in namespace shop-production');
    expect(text.out).toMatch(/build {3}api: backend@[0-9a-f]{12} context api, Dockerfile -> registry\.test\/shop\/api:[0-9a-f]{20}/);
    const json = await run(['--repo', 'backend', '--branch', 'main', '--from', before, '--to', after, '--output', 'json']);
    expect(JSON.parse(json.out).environments[0]).toMatchObject({ name: 'production', deploy: ['api'] });
  });

  it('names an unknown repo, an unknown branch and a missing commit', async () => {
    shop = createShop();
    const head = shop.web.head();
    const repo = await run(['--repo', 'wbe', '--branch', 'main', '--to', head]);
    expect(repo.code).toBe(1);
    expect(repo.err).toMatch(/unknown repo "wbe".*did you mean "web"/i);
    const branch = await run(['--repo', 'web', '--branch', 'mian', '--to', head]);
    expect(branch.code).toBe(1);
    expect(branch.err).toContain('repo "web" has no branch "mian"');
    const commit = await run(['--repo', 'web', '--branch', 'main', '--to', 'f'.repeat(40)]);
    expect(commit.code).toBe(1);
    expect(commit.err).toContain(`commit ${'f'.repeat(40)} is not in repo "web"`);
  });

  it('fails only the environment whose service file is wrong on that branch, naming the file', async () => {
    shop = createShop({ withoutDevelop: ['billing'] });
    const before = shop.billing.head();
    const after = shop.billing.commit('bad staging', {
      'app/main.sh': 'echo v2\n',
      'diploid.service.js': `import { defineService, ref } from 'diploid';\nexport default defineService({ name: 'billing', build: { context: 'app' }, port: 9000, environments: { staging: { env: { PEER: ref('nope').url } } } });\n`,
    });
    const result = await run(['--repo', 'billing', '--branch', 'main', '--from', before, '--to', after, '-o', 'json']);
    expect(result.code).toBe(1);
    const plan = JSON.parse(result.out);
    expect(plan.environments.map((env: { name: string; action: string }) => [env.name, env.action])).toEqual([
      ['production', 'update'],
      ['staging', 'failed'],
    ]);
    expect(plan.environments[1].problems[0].file).toBe('repo:billing/diploid.service.js');
    expect(result.err).toContain('staging cannot be deployed');
  });

  it('refuses shadowed branch rules and branches that cannot name a namespace', async () => {
    shop = createShop({ config: OPS_CONFIG("\n    { branch: '*', preview: { mode: 'full', base: 'staging' } },\n    { branch: 'hotfix/*', environment: 'production' },") });
    const web = shop.web;
    web.branch('_');
    const head = web.commit('x', { 'index.html': 'x' });
    const result = await run(['--repo', 'web', '--branch', '_', '--to', head]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/branches\[5\]\.branch: can never match.*branches\[4\]/);
    shop.ops.commit('fix rules', { '.diploid.conf.js': OPS_CONFIG("\n    { branch: '*', preview: { mode: 'full', base: 'staging' } },") });
    const naming = await run(['--repo', 'web', '--branch', '_', '--to', head]);
    expect(naming.code).toBe(1);
    expect(naming.err).toContain('branch "_" cannot become a preview namespace');
  });

  it('takes a --cache folder relative to the working folder', async () => {
    shop = createShop();
    const before = shop.backend.head();
    const after = shop.backend.commit('api', { 'api/index.js': 'console.log(3)\n' });
    // A fresh, relative cache: before the fix its clones held symlinks relative to the wrong folder.
    const cache = relative(process.cwd(), mkdtempSync(join(tmpdir(), 'diploid-relcache-')));
    expect(cache.startsWith('/')).toBe(false);
    let out = '';
    let err = '';
    const args = ['plan', '--git-root', shop.root.root, '--cache', cache, '--repo', 'backend', '--branch', 'main', '--from', before, '--to', after];
    const code = await main(args, { out: (text) => (out += text), err: (text) => (err += text) });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('update environment production in namespace shop-production');
    expect(out).toMatch(/build {3}api: backend@/);
  });
});
