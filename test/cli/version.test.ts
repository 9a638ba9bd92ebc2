import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/ops-repo.js';

describe('diploid --version', () => {
  it('prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) expect(await runCli([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('every command that prints state offers -o json', async () => {
    for (const command of ['status', 'rollback', 'unpin', 'promote', 'diff', 'plan']) {
      const run = await runCli([command, '--help']);
      expect(run.stdout, command).toMatch(/-o, --output <(format|fmt|[a-z|]+)>/);
    }
  });
});
