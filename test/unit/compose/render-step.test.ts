import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileCompose } from '../../../src/backends/compose/index.js';
import { app, service } from './fixtures.js';

describe('compose: the step that renders files with secrets', () => {
  let dir = '';
  afterEach(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('fills each secret in as it is, whatever characters it holds, and leaves the rest of the file alone', () => {
    const { file } = compileCompose(
      app([
        service('billing', {
          files: [
            {
              path: '/etc/billing/billing.ini',
              key: 'billing.ini',
              parts: [{ text: 'user = $USER & co\npassword = ' }, { secret: 'db', key: 'password' }, { text: '\ntoken = ' }, { secret: 'api', key: 'token' }, { text: ' # again: ' }, { secret: 'db', key: 'password' }, { text: '\n' }],
              mode: 0o400,
              hasSecrets: true,
            },
          ],
        }),
      ]),
    );
    const step = file.services['billing-files'];
    dir = mkdtempSync(join(tmpdir(), 'diploid-compose-step-'));
    for (const folder of ['secrets', 'templates', 'rendered']) mkdirSync(join(dir, folder));
    writeFileSync(join(dir, 'secrets', 'db.password'), 'p&ss\\w/rd$1 "q"\n');
    writeFileSync(join(dir, 'secrets', 'api.token'), 't0k3n');
    // Compose hands the step its configs as files and reads `$$` as `$`; the paths move into the temporary folder.
    for (const config of step?.configs ?? []) writeFileSync(join(dir, 'templates', config.target.split('/').pop() as string), (file.configs?.[config.source]?.content ?? '').replaceAll('$$', '$'));
    const root = process.getuid?.() === 0;
    const script = (step?.command?.[2] ?? '')
      // Handing the file to the service's user needs root, as the step is in its container.
      .replace(/^chown .*$/m, (line) => (root ? line : ':'))
      .replaceAll('$$', '$')
      .replaceAll('/run/secrets/', `${dir}/secrets/`)
      .replaceAll('/templates/', `${dir}/templates/`)
      .replaceAll('/rendered/', `${dir}/rendered/`);
    const result = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, 'rendered', 'billing.ini'), 'utf8')).toBe('user = $USER & co\npassword = p&ss\\w/rd$1 "q"\ntoken = t0k3n # again: p&ss\\w/rd$1 "q"\n');
    expect(statSync(join(dir, 'rendered', 'billing.ini')).mode & 0o777).toBe(0o400);
    if (root) expect(statSync(join(dir, 'rendered', 'billing.ini')).uid).toBe(1000);
    expect(script).toMatch(root ? /^chown 1000 /m : /^:$/m);
  });
});
