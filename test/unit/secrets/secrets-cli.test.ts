/**
 * `diploid secrets` end to end on a real ops folder, checked with the real `sops`: keygen, set,
 * unset, edit, reencrypt (a new editor), rotate, list and export. Values never printed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSopsFile } from '../../../src/secrets/sops-file.js';
import { runCli, writeOpsRepo } from '../../support/ops-repo.js';
import { sops } from '../../support/sops.js';

function config(recipients: Record<string, string>): string {
  return `export default { project: 'shop', environments: { production: {}, staging: {} }, secrets: { recipients: ${JSON.stringify(recipients)} } };\n`;
}

let ops: string;
let clusterKey: string;
let clusterRecipient: string;

/** Runs the CLI from the sources in a child process with `value` on its standard input; returns what it printed. */
function withStdin(value: string, args: string[]): string {
  const entry = "const m = await import('./src/cli/main.ts'); process.exitCode = await m.main(process.argv.slice(1));";
  return execFileSync('node', ['--import', 'tsx', '--input-type=module', '-e', entry, '--', ...args, ops], { cwd: join(import.meta.dirname, '../../..'), input: value, encoding: 'utf8', env: { ...process.env, DIPLOID_AGE_KEY_FILE: clusterKey }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** `diploid secrets set` in this process, the value passed by --from-env. */
async function setValue(value: string, args: string[]): Promise<string> {
  process.env.DIPLOID_TEST_VALUE = value;
  const run = await runCli([...args, ops, '--from-env', 'DIPLOID_TEST_VALUE']);
  delete process.env.DIPLOID_TEST_VALUE;
  expect(run.stderr).toMatch(/^(added|changed) /);
  // The value is never printed (short test values like "a" occur in any message).
  if (value.length >= 6) expect(`${run.stdout}${run.stderr}`).not.toContain(value);
  return run.stdout + run.stderr;
}

beforeEach(async () => {
  ops = writeOpsRepo({});
  clusterKey = join(ops, '..', `${ops.split('/').pop()}-cluster.key`);
  const keygen = await runCli(['secrets', 'keygen', '--out', clusterKey]);
  expect(keygen.code).toBe(0);
  clusterRecipient = keygen.stdout.trim();
  writeFileSync(join(ops, '.diploid.conf.js'), config({ cluster: clusterRecipient }));
  process.env.DIPLOID_AGE_KEY_FILE = clusterKey;
});

afterEach(() => {
  delete process.env.DIPLOID_AGE_KEY_FILE;
  delete process.env.EDITOR;
});

describe('diploid secrets', () => {
  it('keygen writes a private key sops can use (mode 0600) and prints only the public key', async () => {
    expect(clusterRecipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(statSync(clusterKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(clusterKey, 'utf8')).toMatch(/^# created: .*\n# public key: age1.*\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/);
    const again = await runCli(['secrets', 'keygen', '--out', clusterKey]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists; diploid never overwrites a key');
  });

  it('set reads the value from standard input, writes a file sops decrypts, and never prints the value', async () => {
    const out = withStdin('s3cr3t-value\n', ['secrets', 'set', 'db', 'password']);
    expect(out).not.toContain('s3cr3t-value');
    await setValue('admin', ['secrets', 'set', 'db', 'user']);
    await setValue('prod-only', ['secrets', 'set', 'db', 'password', '--env', 'production']);
    const text = readFileSync(join(ops, 'secrets/db.yaml'), 'utf8');
    expect(text).not.toContain('s3cr3t-value');
    expect(parse(sops(['decrypt', join(ops, 'secrets/db.yaml')], clusterKey))).toEqual({ password: 's3cr3t-value', user: 'admin' });
    expect(parse(sops(['decrypt', join(ops, 'secrets/production/db.yaml')], clusterKey))).toEqual({ password: 'prod-only' });
  });

  it('unset removes one key, and the file with its last key', async () => {
    await setValue('a', ['secrets', 'set', 'db', 'user']);
    await setValue('b', ['secrets', 'set', 'db', 'password']);
    expect((await runCli(['secrets', 'unset', 'db', 'user'], ops)).code).toBe(0);
    expect(parse(sops(['decrypt', join(ops, 'secrets/db.yaml')], clusterKey))).toEqual({ password: 'b' });
    const missing = await runCli(['secrets', 'unset', 'db', 'user'], ops);
    expect(missing.stderr).toBe('error: secrets/db.yaml has no key "user"\n');
    expect((await runCli(['secrets', 'unset', 'db', 'password'], ops)).code).toBe(0);
    expect(existsSync(join(ops, 'secrets/db.yaml'))).toBe(false);
  });

  it('edit opens the decrypted values in $EDITOR in a private file and seals what was saved', async () => {
    await setValue('old', ['secrets', 'set', 'api', 'token']);
    const script = join(ops, '..', `${ops.split('/').pop()}-editor.sh`);
    // The "editor" records the file's mode and content, then rewrites it.
    writeFileSync(script, `#!/bin/sh\nstat -c %a "$1" > "${script}.mode"\ncat "$1" > "${script}.seen"\nprintf 'token: new\\nextra: "42"\\n' > "$1"\n`);
    chmodSync(script, 0o755);
    process.env.EDITOR = script;
    const result = await runCli(['secrets', 'edit', 'api'], ops);
    expect(result.stderr).toBe('wrote secrets/api.yaml (2 keys)\n');
    expect(readFileSync(`${script}.mode`, 'utf8').trim()).toBe('600');
    expect(readFileSync(`${script}.seen`, 'utf8')).toBe('token: old\n');
    expect(parse(sops(['decrypt', join(ops, 'secrets/api.yaml')], clusterKey))).toEqual({ token: 'new', extra: '42' });
  });

  it('reencrypt adds a new editor to every file; rotate changes the data key and keeps the values', async () => {
    await setValue('v1', ['secrets', 'set', 'db', 'password']);
    await setValue('v2', ['secrets', 'set', 'api', 'token', '--env', 'staging']);
    const editorKey = join(ops, '..', `${ops.split('/').pop()}-editor.key`);
    const editor = (await runCli(['secrets', 'keygen', '--out', editorKey])).stdout.trim();
    writeFileSync(join(ops, '.diploid.conf.js'), config({ cluster: clusterRecipient, alice: editor }));
    expect(() => sops(['decrypt', join(ops, 'secrets/db.yaml')], editorKey)).toThrow();
    const reencrypt = await runCli(['secrets', 'reencrypt', '-C', ops]);
    expect(reencrypt.stderr).toBe('re-encrypted secrets/db.yaml\nre-encrypted secrets/staging/api.yaml\n');
    expect(parse(sops(['decrypt', join(ops, 'secrets/db.yaml')], editorKey))).toEqual({ password: 'v1' });
    expect(parse(sops(['decrypt', join(ops, 'secrets/staging/api.yaml')], editorKey))).toEqual({ token: 'v2' });

    // The editor leaves: reencrypt warns that rotate is needed; rotate gives a new data key.
    writeFileSync(join(ops, '.diploid.conf.js'), config({ cluster: clusterRecipient }));
    const before = readFileSync(join(ops, 'secrets/db.yaml'), 'utf8');
    expect((await runCli(['secrets', 'reencrypt', '-C', ops])).stderr).toContain('no longer to 1 recipient: run `diploid secrets rotate` too');
    expect((await runCli(['secrets', 'rotate', 'db', '-C', ops])).stderr).toBe('rotated secrets/db.yaml\n');
    const after = readFileSync(join(ops, 'secrets/db.yaml'), 'utf8');
    expect(parseSopsFile(after, 'db').age.map((entry) => entry.recipient)).toEqual([clusterRecipient]);
    expect(parseSopsFile(after, 'db').age[0]?.enc).not.toBe(parseSopsFile(before, 'db').age[0]?.enc);
    expect(() => sops(['decrypt', join(ops, 'secrets/db.yaml')], editorKey)).toThrow();
    expect(parse(sops(['decrypt', join(ops, 'secrets/db.yaml')], clusterKey))).toEqual({ password: 'v1' });
  });

  it('list shows files and keys, never values, and needs no key', async () => {
    await setValue('topsecret', ['secrets', 'set', 'db', 'password']);
    delete process.env.DIPLOID_AGE_KEY_FILE;
    const list = await runCli(['secrets', 'list', ops]);
    expect(list.stdout).toBe('secrets/db.yaml: password (to 1 recipient)\n');
  });

  it('export writes an environment\'s values for docker compose: env-file lines and secret files, mode 0600', async () => {
    await setValue('common', ['secrets', 'set', 'shop-db', 'password']);
    await setValue('prod', ['secrets', 'set', 'shop-db', 'password', '--env', 'production']);
    await setValue('k', ['secrets', 'set', 'api', 'key', '--env', 'staging']);
    const dotenv = join(ops, '..', `${ops.split('/').pop()}.env`);
    const dir = join(ops, '..', `${ops.split('/').pop()}-secrets`);
    const result = await runCli(['secrets', 'export', ops, '--env', 'production', '--dotenv', dotenv, '--dir', dir]);
    expect(result.stderr).toBe('exported 1 value of environment production\n');
    expect(result.stdout).toBe('');
    expect(readFileSync(dotenv, 'utf8')).toBe('SHOP_DB_PASSWORD=prod\n');
    expect(statSync(dotenv).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'shop-db', 'password'), 'utf8')).toBe('prod');

    // The variable is the one the compose backend asks for.
    mkdirSync(join(ops, 'services'));
    writeFileSync(join(ops, 'services/api.js'), `export default { name: 'api', image: 'busybox', port: 8080, env: { DB_PASSWORD: { $secret: { name: 'shop-db', key: 'password' } } } };\n`);
    const compose = await runCli(['render', ops, '--env', 'production', '--backend', 'compose']);
    expect(compose.code).toBe(0);
    expect(compose.stdout).toContain('${SHOP_DB_PASSWORD:?');
  });

  it('validate refuses a secret file in clear text, or a value pasted in clear, without printing it', async () => {
    await setValue('sealed-value', ['secrets', 'set', 'db', 'password']);
    const sealed = readFileSync(join(ops, 'secrets/db.yaml'), 'utf8');
    writeFileSync(join(ops, 'secrets/db.yaml'), `pasted: hunter2-in-clear\n${sealed}`);
    mkdirSync(join(ops, 'secrets/production'));
    writeFileSync(join(ops, 'secrets/production/api.yaml'), 'token: plain-token\n');
    const run = await runCli(['validate', ops]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      [
        'error: 2 problems in the configuration:',
        '  secrets/db.yaml pasted: is in clear text, not encrypted: set it with `diploid secrets set` (and rewrite git history if it was pushed)',
        '  secrets/production/api.yaml sops: missing: the file is not encrypted (write it with `diploid secrets set`, never by hand)',
        '',
      ].join('\n'),
    );
    writeFileSync(join(ops, 'secrets/db.yaml'), sealed);
    writeFileSync(join(ops, 'secrets/production/api.yaml'), sealed);
    expect((await runCli(['validate', ops])).stdout).toBe('ok: 0 service files, 2 environments (production, staging)\n');
  });

  it('explains what is missing: recipients, a valid recipient, a key, files', async () => {
    writeFileSync(join(ops, '.diploid.conf.js'), `export default { project: 'shop', environments: { production: {} } };\n`);
    expect((await runCli(['secrets', 'list', ops])).stderr).toBe("error: .diploid.conf.js has no secrets.recipients: add the cluster's public key (from `diploid secrets keygen`) and each editor's\n");
    writeFileSync(join(ops, '.diploid.conf.js'), `export default { project: 'shop', environments: { production: {} }, secrets: { recipients: { cluster: 'age1nope' } } };\n`);
    expect((await runCli(['secrets', 'list', ops])).stderr).toContain('secrets.recipients.cluster: expected an age public key (age1... , 62 characters), got "age1nope"');
    writeFileSync(join(ops, '.diploid.conf.js'), config({ cluster: clusterRecipient }));
    await setValue('x', ['secrets', 'set', 'db', 'password']);
    delete process.env.DIPLOID_AGE_KEY_FILE;
    expect((await runCli(['secrets', 'unset', 'db', 'password', ops])).stderr).toContain('error: no age key to decrypt with: pass --identity FILE');
    expect((await runCli(['secrets', 'rotate', 'Bad_Name', '-C', ops, '--identity', clusterKey])).stderr).toBe('error: no secret files to rewrite under secrets/\n');
  });
});
