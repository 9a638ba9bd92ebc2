import { describe, expect, it } from 'vitest';
import { runCli, writeOpsRepo } from '../support/ops-repo.js';

const CONFIG = (repos: string) => `import { defineConfig } from 'diploid';
export default defineConfig({ project: 'shop', ingress: { domain: 'shop.test' }, repos: { ${repos} }, environments: { production: {} } });
`;

/**
 * A service repo's file written by an attacker, trying what issue 11 lists: reach tokens and
 * secret files, run commands, write files, change other services, exit early, hang.
 */
const HOSTILE = `import { defineService } from 'diploid';
const loot = {};
for (const attempt of [
  () => (loot.env = process.env),
  () => (loot.require = require('node:child_process').execSync('id').toString()),
  () => (loot.ctor = globalThis.constructor.constructor('return process')().env),
]) { try { attempt(); } catch {} }
export default defineService([
  { name: 'web', image: 'nginx', env: { LOOT: JSON.stringify(loot) } },
  { name: 'api', image: 'evil/backdoor:latest' },
]);
`;

function shop(files: Record<string, string>, repos = "web: { path: 'shop/web', local: 'web' }") {
  return writeOpsRepo({
    '.diploid.conf.js': CONFIG(repos),
    'services/api.js': "import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'registry.test/api:1' });\n",
    ...files,
  });
}

describe('a hostile service repo changes nothing but its own service', () => {
  it('reaches no token and cannot describe another service', async () => {
    process.env.GITLAB_TOKEN = 'glpat-must-never-appear';
    const dir = shop({ 'web/diploid.service.js': HOSTILE });
    const run = await runCli(['render', '.', '--env', 'production'], dir);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^error: 1 problem in the configuration:\n {2}web\/diploid\.service\.js:\d+ services\.api\.name: repo "web" may describe only "web" \(by default the service named like the repo; list others in repos\.web\.services of \.diploid\.conf\.js\), not "api"\n$/,
    );
  });

  it('what it could gather is nothing: its own service renders with empty loot', async () => {
    process.env.GITLAB_TOKEN = 'glpat-must-never-appear';
    const dir = shop({ 'web/diploid.service.js': HOSTILE.replace("  { name: 'api', image: 'evil/backdoor:latest' },\n", '') });
    const run = await runCli(['render', '.', '--env', 'production', '--output', 'json'], dir);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toContain('glpat');
    expect(run.stdout).toContain('"value": "{}"');
    expect(run.stdout).toContain('"image": "registry.test/api:1"');
  });

  it('process.exit, a hang or a crash is a located error, never a pass', async () => {
    for (const [source, message] of [
      ["process.exit(0);\nexport default { name: 'web', image: 'nginx' };\n", 'web/diploid.service.js:1 cannot be loaded: process is not defined'],
      ["setInterval(() => {}, 10);\nexport default { name: 'web', image: 'nginx' };\n", 'web/diploid.service.js:1 cannot be loaded: setInterval is not defined'],
      ['export default undefined;\n', 'web/diploid.service.js cannot be loaded: its default export is undefined: export the config or service with `export default`'],
    ] as const) {
      const run = await runCli(['validate', '.'], shop({ 'web/diploid.service.js': source }));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`error: 1 problem in the configuration:\n  ${message}\n`);
    }
  });

  it('a repo may describe the services the ops repo assigns to it', async () => {
    const dir = shop(
      { 'backend/diploid.service.js': "import { defineService } from 'diploid';\nexport default defineService([{ name: 'worker', image: 'w' }, { name: 'api', port: 80 }]);\n" },
      "backend: { path: 'shop/backend', local: 'backend', services: ['api', 'worker'] }",
    );
    const run = await runCli(['validate', '.'], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('data-only service files', () => {
  it('a repo marked dataOnly may not bring code', async () => {
    const dir = shop({ 'web/diploid.service.js': "export default { name: 'web', image: 'nginx' };\n" }, "web: { path: 'shop/web', local: 'web', dataOnly: true }");
    const run = await runCli(['validate', '.'], dir);
    expect(run.stderr).toBe(
      'error: 1 problem in the configuration:\n  web/diploid.service.js repo "web" may bring only data files (repos.web.dataOnly in .diploid.conf.js): write diploid.service.json or diploid.service.yaml instead\n',
    );
  });

  it('reads JSON and YAML service files, in service repos and in the ops repo', async () => {
    const dir = shop(
      {
        'web/diploid.service.yaml': 'name: web\nimage: nginx\nport: 8080\nenv:\n  CACHE: { $ref: cache, part: address }\n',
        'services/cache.json': '{ "name": "cache", "image": "redis", "ports": { "redis": { "port": 6379, "protocol": "tcp" } } }',
      },
      "web: { path: 'shop/web', local: 'web', dataOnly: true }",
    );
    const run = await runCli(['render', '.', '--env', 'production', '--output', 'json'], dir);
    expect(run.stderr).toBe('');
    const objects = (JSON.parse(run.stdout) as { items: Array<{ kind: string; metadata: { name: string } }> }).items;
    expect(objects.filter((object) => object.kind === 'Deployment').map((object) => object.metadata.name).sort()).toEqual(['api', 'cache', 'web']);
  });

  it('refuses __proto__ keys and YAML alias bombs, with the file named', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`), 'name: web'].join('\n');
    const proto = await runCli(['validate', '.'], shop({ 'web/diploid.service.json': '{ "name": "web", "image": "nginx", "__proto__": { "privileged": true } }' }));
    expect(proto.stderr).toBe('error: 1 problem in the configuration:\n  web/diploid.service.json cannot be loaded: is not plain data: __proto__: a key named "__proto__" is not allowed\n');
    const aliases = await runCli(['validate', '.'], shop({ 'web/diploid.service.yaml': bomb }));
    expect(aliases.code).toBe(1);
    expect(aliases.stderr).toMatch(/^error: 1 problem in the configuration:\n {2}web\/diploid\.service\.yaml(:\d+)? cannot be loaded: .*alias/i);
  });
});

describe('a hostile ops-repo branch', () => {
  it('its config and service files reach nothing either', async () => {
    process.env.GITLAB_TOKEN = 'glpat-must-never-appear';
    const gather = `const loot = {};
for (const [name, attempt] of Object.entries({ env: () => process.env, ctor: () => globalThis.constructor.constructor('return process')().env })) {
  try { loot[name] = attempt(); } catch { loot[name] = 'blocked'; }
}`;
    const dir = writeOpsRepo({
      '.diploid.conf.js': `${gather}\nexport default { project: 'shop', shared: { LOOT: JSON.stringify(loot) }, environments: { production: {} } };\n`,
      'services/api.js': `${gather}\nexport default { name: 'api', image: 'nginx', env: { CONFIG_LOOT: { $shared: 'LOOT' }, FILE_LOOT: JSON.stringify(loot) } };\n`,
    });
    const run = await runCli(['render', '.', '--env', 'production', '--output', 'json'], dir);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toContain('glpat');
    const env = ((JSON.parse(run.stdout) as { items: Array<{ kind: string; spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value: string }> }> } } } }> }).items.find((item) => item.kind === 'Deployment')?.spec.template.spec.containers[0]?.env ?? []);
    const blocked = JSON.stringify({ env: 'blocked', ctor: 'blocked' });
    expect(Object.fromEntries(env.map((item) => [item.name, item.value]))).toMatchObject({ CONFIG_LOOT: blocked, FILE_LOOT: blocked });
  });
});
