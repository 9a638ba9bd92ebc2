import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/ops-repo.js';

const ROOT = join(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** Type-checks an ops repo as an editor would, through its jsconfig.json. */
function typeCheck(dir: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [TSC, '-p', join(dir, 'jsconfig.json')], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('diploid new ops', () => {
  it('writes an ops repo that type-checks once installed, catches a typo, and validates', { timeout: 120_000 }, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'diploid-new-')), 'shop-ops');
    const run = await runCli(['new', 'ops', dir, '--diploid', `file:${ROOT}`]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies).toEqual({ diploid: `file:${ROOT}` });
    expect(readFileSync(join(dir, '.diploid.conf.js'), 'utf8')).toMatch(/^\/\/ @ts-check\n/);
    expect(readFileSync(join(dir, '.diploid.conf.js'), 'utf8')).toContain("project: 'shop-ops'");

    // Without the package installed, the editor cannot find 'diploid': the issue this command solves.
    expect(typeCheck(dir).output).toContain("Cannot find module 'diploid'");
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: 'pipe' });
    expect(existsSync(join(dir, 'node_modules/diploid/package.json'))).toBe(true);
    expect(typeCheck(dir)).toEqual({ status: 0, output: '' });

    writeFileSync(join(dir, 'services/typo.js'), "// @ts-check\nimport { defineService } from 'diploid';\nexport default defineService({ name: 'typo', imgae: 'nginx' });\n");
    const broken = typeCheck(dir);
    expect(broken.status).not.toBe(0);
    expect(broken.output).toMatch(/services\/typo\.js\(3,\d+\): error TS\d+:[\s\S]*'imgae' does not exist[\s\S]*Did you mean to write 'image'\?/);

    writeFileSync(join(dir, 'services/typo.js'), "// @ts-check\nimport { defineService } from 'diploid';\nexport default defineService({ name: 'typo', image: 'nginx' });\n");
    expect((await runCli(['validate', dir])).code).toBe(0);
  });

  it('refuses a folder that is not empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diploid-new-'));
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const run = await runCli(['new', 'ops', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: ${dir} is not empty; diploid new writes into an empty or new folder only\n`);
  });
});
