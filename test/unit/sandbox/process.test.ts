import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_LIMITS, sandboxCommand } from '../../../src/sources/sandbox/sandbox.js';

/**
 * The second wall: should code ever get out of the sandbox's V8 context, it is in a process that
 * the command below starts. This runs a probe under exactly that command and checks what the
 * process itself may do.
 */
describe('the sandbox process', () => {
  it('has an empty environment, reads only diploid, writes nothing, starts nothing', () => {
    const folder = mkdtempSync(join(tmpdir(), 'diploid-sandbox-'));
    const secretFile = join(folder, 'master-secret');
    writeFileSync(secretFile, 'webhook-master-secret');
    const probe = `
      import { readFileSync, writeFileSync } from 'node:fs';
      import { execSync } from 'node:child_process';
      import { Worker } from 'node:worker_threads';
      const attempt = (what) => { try { what(); return 'allowed'; } catch (error) { return error.code ?? error.name; } };
      console.log(JSON.stringify({
        env: Object.keys(process.env),
        readSecret: attempt(() => readFileSync(${JSON.stringify(secretFile)})),
        readServiceAccount: attempt(() => readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token')),
        readEtc: attempt(() => readFileSync('/etc/hostname')),
        write: attempt(() => writeFileSync(${JSON.stringify(join(folder, 'written'))}, 'x')),
        spawn: attempt(() => execSync('id')),
        worker: attempt(() => new Worker('1', { eval: true })),
        codeFromStrings: attempt(() => new Function('return 1')()),
      }));`;
    process.env.GITLAB_TOKEN = 'glpat-sandbox-test';
    const command = sandboxCommand(DEFAULT_SANDBOX_LIMITS);
    const output = execFileSync(command.file, [...command.args, '--input-type=module', '--eval', probe], { env: command.options.env, cwd: command.options.cwd, encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({
      env: [],
      readSecret: 'ERR_ACCESS_DENIED',
      readServiceAccount: 'ERR_ACCESS_DENIED',
      readEtc: 'ERR_ACCESS_DENIED',
      write: 'ERR_ACCESS_DENIED',
      spawn: 'ERR_ACCESS_DENIED',
      worker: 'ERR_ACCESS_DENIED',
      codeFromStrings: 'EvalError',
    });
  });
});
