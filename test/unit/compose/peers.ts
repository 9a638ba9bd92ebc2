/**
 * Real peers that check rendered compose files: the Compose Specification's JSON schema,
 * compose-go (the loader inside docker compose v2), docker-compose v1 (Debian's
 * `docker-compose`) for what it understands, and Caddy for the proxy's Caddyfile.
 * A missing tool fails the test, naming what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';
import { toYaml } from '../../../src/backends/serialize.js';
import type { ComposeOutput } from '../../../src/backends/compose/index.js';

const require = createRequire(import.meta.url);
const CHECKER_DIR = join(import.meta.dirname, 'compose-check');

/** Errors of the current Compose Specification schema (as shipped by the dclint package). */
export function schemaErrors(document: unknown): string[] {
  const path = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
  const schema = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  // Its `$schema` names draft-07 by an https URL ajv does not know; the schema is plain draft-07.
  delete schema.$schema;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((error: ErrorObject) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
}

/** Builds the compose-go checker once per source version; needs the Go toolchain. */
export function composeGoChecker(): string {
  requireTool('go', 'the Go toolchain (Debian: golang-go)', ['version']);
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(CHECKER_DIR, file)));
  const binary = join(tmpdir(), `diploid-compose-check-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(binary)) execFileSync('go', ['build', '-o', binary, '.'], { cwd: CHECKER_DIR, stdio: 'pipe' });
  return binary;
}

/** Variables and folders a rendered file needs, made up for checking: dummy secrets and repos. */
export function checkEnvironment(output: ComposeOutput, dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of output.inputs.secretVariables.keys()) env[variable] = 'not-a-secret';
  for (const variable of output.inputs.repos.keys()) {
    const repo = join(dir, 'repos', variable.toLowerCase());
    mkdirSync(repo, { recursive: true });
    env[variable] = repo;
  }
  for (const path of output.inputs.secretFiles.values()) {
    mkdirSync(dirname(join(dir, 'secrets', path)), { recursive: true });
    writeFileSync(join(dir, 'secrets', path), 'not-a-secret\n');
  }
  return env;
}

/** Loads the file as docker compose v2 would; returns the loader's error, or undefined. */
export function composeGoError(checker: string, yaml: string, output: ComposeOutput): string | undefined {
  return inTempDir('diploid-compose-', (dir) => {
    writeFileSync(join(dir, 'compose.yaml'), yaml);
    const result = spawnSync(checker, ['compose.yaml'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...checkEnvironment(output, dir) }, encoding: 'utf8' });
    return result.status === 0 ? undefined : `${result.stderr}${result.error?.message ?? ''}`;
  });
}

/**
 * Keys docker-compose 1.29 (Debian's, the last v1) predates, removed before it checks the
 * rest: the project `name`, inline config `content`, `dockerfile_inline` and volume `subpath`.
 * Everything else, YAML 1.1 parsing included, goes through its own `config` command.
 */
export function composeV1Error(yaml: string, output: ComposeOutput): string | undefined {
  requireTool('docker-compose', 'the Debian package docker-compose', ['version']);
  return inTempDir('diploid-compose-v1-', (dir) => {
    const document = parse(yaml) as Record<string, unknown> & { services: Record<string, Record<string, unknown>>; configs?: Record<string, Record<string, unknown>> };
    delete document.name;
    mkdirSync(join(dir, 'configs'));
    for (const [name, config] of Object.entries(document.configs ?? {})) {
      writeFileSync(join(dir, 'configs', name), String(config.content));
      delete config.content;
      config.file = `./configs/${name}`;
    }
    const env = checkEnvironment(output, dir);
    for (const service of Object.values(document.services)) {
      const build = service.build as Record<string, unknown> | undefined;
      // v1 insists that the build context exists.
      if (build !== undefined) mkdirSync(String(build.context).replace(/\$\{(\w+):-[^}]*\}/g, (_, name: string) => env[name] ?? name), { recursive: true });
      if (build?.dockerfile_inline !== undefined) {
        delete build.dockerfile_inline;
        build.dockerfile = 'Dockerfile';
      }
      for (const volume of (service.volumes ?? []) as Array<Record<string, unknown>>) delete volume.volume;
    }
    writeFileSync(join(dir, 'compose.yaml'), toYaml(document));
    const result = spawnSync('docker-compose', ['-f', 'compose.yaml', 'config', '-q'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    return result.status === 0 ? undefined : `${result.stdout}${result.stderr}${result.error?.message ?? ''}`;
  });
}

/** `caddy validate` on a Caddyfile; returns its complaint, or undefined. */
export function caddyError(caddyfile: string): string | undefined {
  requireTool('caddy', 'the Debian package caddy', ['version']);
  return inTempDir('diploid-caddy-', (dir) => {
    writeFileSync(join(dir, 'Caddyfile'), caddyfile);
    const result = spawnSync('caddy', ['validate', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
    return result.status === 0 ? undefined : `${result.stdout}${result.stderr}${result.error?.message ?? ''}`;
  });
}

/** Runs with a fresh temporary folder, removed afterwards. */
function inTempDir<T>(prefix: string, work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function requireTool(command: string, install: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  if (result.error !== undefined || result.status !== 0) throw new Error(`${command} is needed to check compose output and is missing: install ${install}`);
}
