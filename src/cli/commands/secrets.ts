import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { isMap, isScalar, parseDocument, stringify } from 'yaml';
import { variableName } from '../../backends/compose/text.js';
import { UserError } from '../../errors.js';
import type { ConfigSpec } from '../../model/config.js';
import { formatKeyFile, generateKeyPair } from '../../secrets/age-keys.js';
import { configRecipients, environmentSecretFiles, secretFilePath, secretsDir } from '../../secrets/layout.js';
import { newDataKey } from '../../secrets/sops-cipher.js';
import { parseSopsFile } from '../../secrets/sops-file.js';
import { loadConfigForCommand } from '../load.js';
import type { Output } from '../output.js';
import { listSecretFiles, openFile, requireIdentities, writeFile } from '../secret-store.js';

interface KeyOptions {
  identity?: string[];
}
interface FileOptions extends KeyOptions {
  env?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * Adds `diploid secrets`: key pairs, and values kept encrypted in the ops repo (SOPS' file
 * format with age). No command takes a value as an argument (it would land in shell history),
 * and none prints one, except `export`, which writes them to files for a local compose run.
 */
export function registerSecretsCommands(program: Command, output: Output): void {
  const secrets = program.command('secrets').description('Secret values in the ops repo, encrypted with age in SOPS format.');

  secrets
    .command('keygen')
    .description('Create an age key pair: the private key goes to --out (mode 0600), the public key to standard output.')
    .option('--out <file>', 'where to write the private key (default: standard output, as age-keygen does)')
    .action(async (options: { out?: string }) => {
      const { identity, recipient } = await generateKeyPair();
      const text = formatKeyFile(identity, recipient, new Date());
      if (options.out === undefined) {
        output.out(text);
        return;
      }
      if (existsSync(options.out)) throw new UserError(`${options.out} exists; diploid never overwrites a key (move it away first)`);
      mkdirSync(dirname(options.out), { recursive: true });
      writeFileSync(options.out, text, { mode: 0o600, flag: 'wx' });
      output.out(`${recipient}\n`);
      output.err(`private key written to ${options.out}; add the public key to secrets.recipients in .diploid.conf.js\n`);
    });

  const withFile = (command: Command) =>
    command
      .option('-e, --env <environment>', 'the file of one environment (secrets/<env>/<name>.yaml) instead of the one for all')
      .option('-i, --identity <file>', 'age key file to decrypt with (repeatable; default: $DIPLOID_AGE_KEY_FILE or $SOPS_AGE_KEY_FILE)', collect);

  withFile(secrets.command('set'))
    .description('Set one key of a Secret; the value is read from standard input (one trailing newline removed), --from-file or --from-env.')
    .argument('<name>', 'Secret name (the file secrets/<name>.yaml)')
    .argument('<key>', 'key inside the Secret')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .option('--from-file <file>', 'read the value from this file, byte for byte')
    .option('--from-env <variable>', 'read the value from this environment variable (for scripts and CI)')
    .action(async (name: string, key: string, opsDir: string, options: FileOptions & { fromFile?: string; fromEnv?: string }) => {
      const config = await configFor(opsDir, output, options.env);
      const value = options.fromFile !== undefined ? readFileSync(options.fromFile, 'utf8') : options.fromEnv !== undefined ? fromEnv(options.fromEnv) : readStdin().replace(/\r?\n$/, '');
      const path = secretFilePath(config, name, options.env);
      const current = existsSync(join(opsDir, path)) ? await openFile(opsDir, path, requireIdentities(options.identity)) : undefined;
      const values = new Map(current?.values ?? []);
      values.set(key, value);
      await writeFile(opsDir, path, config, [...values], current?.dataKey);
      output.err(`${current?.values.some(([existing]) => existing === key) === true ? 'changed' : 'added'} ${name}/${key} in ${path}\n`);
    });

  withFile(secrets.command('unset'))
    .description('Remove one key of a Secret (the file goes when its last key does).')
    .argument('<name>')
    .argument('<key>')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .action(async (name: string, key: string, opsDir: string, options: FileOptions) => {
      const config = await configFor(opsDir, output, options.env);
      const path = secretFilePath(config, name, options.env);
      const current = await openFile(opsDir, path, requireIdentities(options.identity));
      if (current === undefined || !current.values.some(([existing]) => existing === key)) throw new UserError(`${path} has no key "${key}"`);
      const values = current.values.filter(([existing]) => existing !== key);
      if (values.length === 0) rmSync(join(opsDir, path));
      else await writeFile(opsDir, path, config, values, current.dataKey);
      output.err(`removed ${name}/${key} from ${path}\n`);
    });

  withFile(secrets.command('edit'))
    .description('Edit a Secret as YAML in $VISUAL or $EDITOR (a private temporary file, removed afterwards).')
    .argument('<name>')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .action(async (name: string, opsDir: string, options: FileOptions) => {
      const config = await configFor(opsDir, output, options.env);
      const path = secretFilePath(config, name, options.env);
      const current = existsSync(join(opsDir, path)) ? await openFile(opsDir, path, requireIdentities(options.identity)) : undefined;
      const editor = process.env.VISUAL ?? process.env.EDITOR;
      if (editor === undefined || editor === '') throw new UserError('set $EDITOR (or $VISUAL) to the editor to use, or use `diploid secrets set` / `unset`');
      const dir = mkdtempSync(join(tmpdir(), 'diploid-secret-'));
      try {
        chmodSync(dir, 0o700);
        const file = join(dir, `${name}.yaml`);
        writeFileSync(file, current === undefined || current.values.length === 0 ? '# key: value\n' : stringify(Object.fromEntries(current.values), { lineWidth: 0 }), { mode: 0o600 });
        const result = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
        if (result.status !== 0) throw new UserError(`the editor (${editor}) exited with ${result.status ?? result.signal ?? 'an error'}; ${path} is unchanged`);
        const values = flatMap(readFileSync(file, 'utf8'), path);
        if (values.length === 0) throw new UserError(`the edited ${name} has no keys; ${path} is unchanged (use \`diploid secrets unset\` to remove keys)`);
        await writeFile(opsDir, path, config, values, current?.dataKey);
        output.err(`wrote ${path} (${values.length} key${values.length === 1 ? '' : 's'})\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

  secrets
    .command('rotate')
    .description('Re-encrypt Secrets with a new data key (all files when no name is given): do it after removing a recipient.')
    .argument('[names...]', 'Secret names (files secrets/<name>.yaml and secrets/<env>/<name>.yaml)')
    .option('-C, --ops <dir>', 'folder of the ops repo', '.')
    .option('-i, --identity <file>', 'age key file to decrypt with (repeatable)', collect)
    .action(async (names: string[], options: KeyOptions & { ops: string }) => {
      const config = await configFor(options.ops, output);
      await rewriteAll(options.ops, config, options.identity, output, 'rotated', (file) => names.length === 0 || names.includes(baseName(file)), true);
    });

  secrets
    .command('reencrypt')
    .alias('updatekeys')
    .description('Encrypt every secret file to the recipients now in secrets.recipients (same data key; run rotate too after removing one).')
    .option('-C, --ops <dir>', 'folder of the ops repo', '.')
    .option('-i, --identity <file>', 'age key file to decrypt with (repeatable)', collect)
    .action(async (options: KeyOptions & { ops: string }) => {
      const config = await configFor(options.ops, output);
      await rewriteAll(options.ops, config, options.identity, output, 're-encrypted', () => true, false);
    });

  secrets
    .command('list')
    .description('List secret files, their keys and recipients; never their values (needs no key).')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .action(async (opsDir: string) => {
      const config = await configFor(opsDir, output);
      const dir = secretsDir(config);
      for (const file of listSecretFiles(opsDir, config)) {
        const parsed = parseSopsFile(readFileSync(join(opsDir, dir, file), 'utf8'), `${dir}/${file}`);
        output.out(`${dir}/${file}: ${parsed.entries.map((entry) => entry.key).join(', ')} (to ${parsed.age.length} recipient${parsed.age.length === 1 ? '' : 's'})\n`);
      }
    });

  secrets
    .command('export')
    .description('Decrypt one environment\'s Secrets for a local `docker compose` run: variables to --env-file, files to --dir.')
    .argument('[ops-dir]', 'folder of the ops repo', '.')
    .requiredOption('-e, --env <environment>', 'environment whose Secrets to export')
    .option('--dotenv <file>', 'write <SECRET>_<KEY>=value lines (mode 0600) for `docker compose --env-file` (named so: Node 20 takes any --env-file argument as its own)')
    .option('--dir <dir>', 'write <dir>/<secret>/<key> files (mode 0600), the DIPLOID_SECRETS_DIR compose reads')
    .option('-i, --identity <file>', 'age key file to decrypt with (repeatable)', collect)
    .action(async (opsDir: string, options: KeyOptions & { env: string; dotenv?: string; dir?: string }) => {
      const config = await configFor(opsDir, output, options.env);
      if (options.dotenv === undefined && options.dir === undefined) throw new UserError('say where to write: --dotenv FILE and/or --dir DIR (values are never printed)');
      const identities = requireIdentities(options.identity);
      const lines: string[] = [];
      let count = 0;
      for (const [name, path] of environmentSecretFiles(listSecretFiles(opsDir, config), options.env, secretsDir(config))) {
        const open = await openFile(opsDir, path, identities, false);
        for (const [key, value] of open?.values ?? []) {
          count++;
          if (options.dotenv !== undefined) {
            if (/[\n\r]/.test(value)) output.err(`warning: ${name}/${key} spans several lines; an env file cannot hold it (use --dir)\n`);
            else lines.push(`${variableName(name, key)}=${value}`);
          }
          if (options.dir !== undefined) {
            mkdirSync(join(options.dir, name), { recursive: true, mode: 0o700 });
            writeFileSync(join(options.dir, name, key), value, { mode: 0o600 });
          }
        }
      }
      if (options.dotenv !== undefined) writeFileSync(options.dotenv, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { mode: 0o600 });
      output.err(`exported ${count} value${count === 1 ? '' : 's'} of environment ${options.env}\n`);
    });
}

/** The config, checked for what secret commands need: recipients, and a known environment. */
async function configFor(opsDir: string, output: Output, environment?: string): Promise<ConfigSpec> {
  const config = await loadConfigForCommand(opsDir, output);
  if (environment !== undefined && config.environments[environment] === undefined) {
    throw new UserError(`unknown environment "${environment}" (the config has ${Object.keys(config.environments).join(', ')})`);
  }
  if (configRecipients(config).length === 0) throw new UserError('.diploid.conf.js has no secrets.recipients: add the cluster\'s public key (from `diploid secrets keygen`) and each editor\'s');
  return config;
}

async function rewriteAll(opsDir: string, config: ConfigSpec, identityFiles: string[] | undefined, output: Output, verb: string, wanted: (file: string) => boolean, rotate: boolean): Promise<void> {
  const identities = requireIdentities(identityFiles);
  const dir = secretsDir(config);
  const files = listSecretFiles(opsDir, config).filter(wanted);
  if (files.length === 0) throw new UserError(`no secret files to rewrite under ${dir}/`);
  for (const file of files) {
    const path = `${dir}/${file}`;
    const current = await openFile(opsDir, path, identities);
    if (current === undefined) continue;
    await writeFile(opsDir, path, config, current.values, rotate ? newDataKey() : current.dataKey);
    const removed = current.recipients.filter((recipient) => !configRecipients(config).includes(recipient));
    output.err(`${verb} ${path}${removed.length > 0 && !rotate ? ` (no longer to ${removed.length} recipient${removed.length === 1 ? '' : 's'}: run \`diploid secrets rotate\` too, they knew the data key)` : ''}\n`);
  }
}

function baseName(file: string): string {
  return (file.split('/').pop() ?? '').replace(/\.ya?ml$/, '');
}

function fromEnv(variable: string): string {
  const value = process.env[variable];
  if (value === undefined) throw new UserError(`--from-env ${variable}: the variable is not set`);
  return value;
}

function readStdin(): string {
  if (process.stdin.isTTY === true) process.stderr.write('value (end with Ctrl-D): ');
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    throw new UserError('cannot read the value from standard input; pipe it in, or use --from-file', { cause: error });
  }
}

/** A flat map of key: value from edited YAML; values become strings. */
function flatMap(text: string, file: string): Array<[string, string]> {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new UserError(`the edited ${file} is not valid YAML (${document.errors[0]?.message ?? ''}); unchanged`);
  if (document.contents === null) return [];
  if (!isMap(document.contents)) throw new UserError(`the edited ${file} must be a map of key: value; unchanged`);
  return document.contents.items.map((pair) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!isScalar(pair.value) || pair.value.value === null) throw new UserError(`the edited ${file} ${key}: expected a single value; unchanged`);
    return [key, String(pair.value.value)];
  });
}
