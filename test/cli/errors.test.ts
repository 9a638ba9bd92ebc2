import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MINIMAL_CONFIG, runCli, writeOpsRepo } from '../support/ops-repo.js';

const service = (body: string) => `import { defineService, ref, secret } from 'diploid';\nexport default defineService(${body});\n`;

async function renderErrors(files: Record<string, string>): Promise<{ code: number; stderr: string; stdout: string }> {
  const dir = writeOpsRepo({ '.diploid.conf.js': MINIMAL_CONFIG, ...files });
  return runCli(['render', '.', '--env', 'production'], dir);
}

describe('render reports bad input with file, path, value and expectation', () => {
  it('names an unknown key and suggests the likely one', async () => {
    const run = await renderErrors({ 'services/api.js': service("{ name: 'api', imgae: 'nginx', port: 80 }") });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.imgae: unknown key "imgae" (did you mean "image"?)\n');
  });

  it('names a wrong type with the value found', async () => {
    const run = await renderErrors({ 'services/api.js': service("{ name: 'api', image: 'nginx', replicas: 'three' }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.replicas: expected a number or an object, got "three"\n');
  });

  it('refuses two services with the same name', async () => {
    const run = await renderErrors({
      'services/a.js': service("{ name: 'api', image: 'nginx' }"),
      'services/b.js': service("{ name: 'api', image: 'httpd' }"),
    });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/b.js:2 services.api.name: service "api" is already defined in services/a.js\n');
  });

  it('refuses two ports with the same number', async () => {
    const run = await renderErrors({ 'services/api.js': service("{ name: 'api', image: 'nginx', ports: { http: 8080, admin: 8080 } }") });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.ports.admin: port 8080 is already used by port "http"\n');
  });

  it('refuses a reference to a service that does not exist', async () => {
    const run = await renderErrors({
      'services/api.js': service("{ name: 'api', image: 'nginx', env: { CACHE: ref('cahce').address } }"),
      'services/cache.js': service("{ name: 'cache', image: 'redis', ports: { redis: { port: 6379, protocol: 'tcp' } } }"),
    });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:2 services.api.env.CACHE: refers to service "cahce", which does not exist (did you mean "cache"?)\n');
  });

  it('refuses a route to a port the service lacks', async () => {
    const run = await renderErrors({ 'services/api.js': service("{ name: 'api', image: 'nginx', ports: { http: 8080 }, routes: [{ host: 'api', port: 'htp' }] }") });
    expect(run.stderr).toBe(
      'error: 1 problem in the configuration:\n  services/api.js:2 services.api.routes[0].port: service "api" has no port "htp" (did you mean "http"?); its ports are http (8080)\n',
    );
  });

  it('refuses a cycle of fragments', async () => {
    const dir = writeOpsRepo({
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({ project: 'shop', environments: { production: {} }, fragments: { a: { extends: ['b'] }, b: { extends: ['a'] } } });
`,
      'services/api.js': service("{ name: 'api', image: 'nginx', extends: ['a'] }"),
    });
    const run = await runCli(['render', '.', '--env', 'production'], dir);
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  .diploid.conf.js:2 fragments.b.extends[0]: fragments form a cycle: a -> b -> a\n');
  });

  it('points at the line of the key a problem is about', async () => {
    const run = await renderErrors({
      'services/api.js': "import { defineService } from 'diploid';\n\nexport default defineService({\n  name: 'api',\n  image: 'nginx',\n  ports: {\n    http: 8080,\n    admin: { port: 'nine' },\n  },\n});\n",
    });
    expect(run.stderr).toBe('error: 1 problem in the configuration:\n  services/api.js:8 services.api.ports.admin.port: expected a number, got "nine"\n');
  });

  it('points at the line of a syntax error', async () => {
    const run = await renderErrors({ 'services/api.js': "import { defineService } from 'diploid';\n\nexport default defineService({ name: 'api', image: 'nginx' port: 80 });\n" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: 1 problem in the configuration:\n {2}services\/api\.js:3 cannot be loaded: .+\n$/);
  });

  it('refuses a secret written inline where a reference is required, without printing it', async () => {
    const run = await renderErrors({ 'services/api.js': service("{ name: 'api', image: 'nginx', env: { DB_PASSWORD: 'hunter2' } }") });
    expect(run.stderr).toBe(
      'error: 1 problem in the configuration:\n  services/api.js:2 services.api.env.DB_PASSWORD: looks like a secret written inline ("*******"); use secret(\'<secret-name>\', \'<key>\') so the value stays out of git and rendered output\n',
    );
    expect(run.stderr).not.toContain('hunter2');
  });

  it('reports every problem at once and writes no partial output', async () => {
    const dir = writeOpsRepo({
      '.diploid.conf.js': MINIMAL_CONFIG,
      'services/api.js': service("{ name: 'api', image: 'nginx', port: 'http' }"),
      'services/web.js': service("{ name: 'web', image: 'nginx', port: 80, env: { API: ref('api').url } }"),
      'services/worker.js': service("{ name: 'worker', image: 'busybox', after: ['queue'] }"),
    });
    const run = await runCli(['render', '.', '--env', 'production', '--out', 'out'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      [
        'error: 2 problems in the configuration:',
        '  services/api.js:2 services.api.port: expected a number or an object, got "http"',
        '  services/worker.js:2 services.worker.after[0]: refers to service "queue", which does not exist',
        '',
      ].join('\n'),
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('names an unknown environment and the ones that exist', async () => {
    const dir = writeOpsRepo({ '.diploid.conf.js': MINIMAL_CONFIG, 'services/api.js': service("{ name: 'api', image: 'nginx' }") });
    const run = await runCli(['render', '.', '--env', 'prodution'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('error: unknown environment "prodution" (did you mean "production"?); .diploid.conf.js defines production\n');
  });

  it('says where to look when the folder is not an ops repo', async () => {
    const dir = writeOpsRepo({ 'README.md': 'nothing here' });
    const run = await runCli(['validate', '.'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no .diploid.conf.js in');
  });
});

describe('validate', () => {
  it('reports a branch rule an earlier one shadows', async () => {
    const dir = writeOpsRepo({
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: 'shop',
  environments: { production: {}, staging: {} },
  branches: [
    { branch: '*', environment: 'staging' },
    { branch: 'feature/*', preview: { mode: 'full', base: 'staging' } },
  ],
});
`,
      'services/api.js': "import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'nginx' });\n",
    });
    const run = await runCli(['validate', '.'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: 1 problem in the configuration:\n {2}\.diploid\.conf\.js:7 branches\[1\]\.branch: .*never/);
  });

  it('refuses a GitHub repo path without its owner, and an unknown host, naming the file and the path', async () => {
    const dir = writeOpsRepo({
      '.diploid.conf.js': `import { defineConfig } from 'diploid';
export default defineConfig({
  project: 'shop',
  git: { hosts: { hub: { provider: 'github', token: { env: 'GITHUB_TOKEN' } } } },
  ops: { path: 'ops' },
  repos: { web: { path: 'acme/web' }, api: { path: 'acme/api', host: 'lab' } },
  environments: { production: {} },
});
`,
      'services/api.js': "import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'nginx' });\n",
    });
    const run = await runCli(['validate', '.'], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('2 problems in the configuration');
    expect(run.stderr).toMatch(/\.diploid\.conf\.js(:\d+)? ops\.path: "ops" is not a GitHub repository path; expected "owner\/name"/);
    expect(run.stderr).toMatch(/\.diploid\.conf\.js(:\d+)? repos\.api\.host: unknown git host "lab"/);
    expect(run.stderr).not.toMatch(/repos\.web\.(path|host):/);
  });

  it('says ok with what it checked', async () => {
    const dir = writeOpsRepo({ '.diploid.conf.js': MINIMAL_CONFIG, 'services/api.js': "import { defineService } from 'diploid';\nexport default defineService({ name: 'api', image: 'nginx' });\n" });
    const run = await runCli(['validate', '.'], dir);
    expect(run).toEqual({ code: 0, stdout: 'ok: 1 service files, 1 environments (production)\n', stderr: '' });
  });
});
