import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerWebhookCommands } from '../../../src/cli/commands/webhooks.js';
import { deriveWebhookSecret } from '../../../src/hosts/webhook-secret.js';
import { FakeGithubApi } from '../../support/fake-github-api.js';
import { FakeGitlabApi } from '../../support/fake-gitlab-api.js';

const MASTER = 'cli-master-secret-0123456789abcdef';

async function run(args: string[]): Promise<{ out: string; err: string; error?: Error }> {
  let out = '';
  let err = '';
  const program = new Command('diploid').exitOverride();
  registerWebhookCommands(program, { out: (t) => (out += t), err: (t) => (err += t) });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err };
  } catch (error) {
    return { out, err, error: error as Error };
  }
}

describe('diploid webhooks register, on repos of two hosts at once', () => {
  let dir: string;
  let gitlab: FakeGitlabApi;
  let github: FakeGithubApi;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diploid-webhooks-'));
    gitlab = new FakeGitlabApi();
    github = new FakeGithubApi('/api/v3');
    await gitlab.start();
    await github.start();
    gitlab.project('shop/cart');
    github.repo('shop/web');
    await writeFile(join(dir, 'master'), `${MASTER}\n`);
    await writeFile(join(dir, 'gl-token'), `${gitlab.token}\n`);
    process.env.DIPLOID_TEST_GH_TOKEN = github.token;
    await writeFile(
      join(dir, '.diploid.conf.js'),
      `export default ${JSON.stringify({
        project: 'shop',
        git: {
          hosts: {
            lab: { provider: 'gitlab', url: gitlab.url, token: { file: join(dir, 'gl-token') } },
            ghe: { provider: 'github', apiUrl: github.url, token: { env: 'DIPLOID_TEST_GH_TOKEN' } },
          },
        },
        repos: { cart: { host: 'lab', path: 'shop/cart' }, web: { host: 'ghe', path: 'shop/web' } },
        environments: { prod: {} },
      })};\n`,
    );
  });
  afterEach(async () => {
    delete process.env.DIPLOID_TEST_GH_TOKEN;
    await gitlab.stop();
    await github.stop();
    await rm(dir, { recursive: true, force: true });
    expect(gitlab.violations).toEqual([]);
    expect(github.violations).toEqual([]);
  });

  it('registers each repo on its own host with its derived secret, idempotently, and prints no secret', async () => {
    const args = ['webhooks', 'register', dir, '--public-url', 'https://diploid.example.com', '--secret-file', join(dir, 'master')];
    const first = await run(args);
    expect(first.error).toBeUndefined();
    expect(first.out).toBe(
      'created webhook 1 on lab:shop/cart -> https://diploid.example.com/hooks/lab/cart\ncreated webhook 1 on ghe:shop/web -> https://diploid.example.com/hooks/ghe/web\n',
    );
    expect(gitlab.project('shop/cart').hooks[0]?.token).toBe(deriveWebhookSecret(MASTER, 'lab', 'shop/cart'));
    expect(github.repo('shop/web').hooks[0]?.config.secret).toBe(deriveWebhookSecret(MASTER, 'ghe', 'shop/web'));

    const second = await run(args);
    expect(second.out).toContain('updated webhook 1 on lab:shop/cart');
    expect(gitlab.project('shop/cart').hooks).toHaveLength(1);
    expect(github.repo('shop/web').hooks).toHaveLength(1);
    for (const text of [first.out, first.err, second.out, second.err]) {
      expect(text).not.toContain(MASTER);
      expect(text).not.toContain(gitlab.token);
      expect(text).not.toContain(deriveWebhookSecret(MASTER, 'lab', 'shop/cart'));
    }
  });

  it('goes on with the other host when one fails, then fails naming the scope', async () => {
    gitlab.scopes = ['read_api'];
    const result = await run(['webhooks', 'register', dir, '--public-url', 'https://diploid.example.com', '--secret-file', join(dir, 'master')]);
    expect(result.error?.message).toBe('could not register webhooks on 1 of 2 repos');
    expect(result.err).toMatch(/failed on lab:shop\/cart: .*needs the "api" scope/);
    expect(github.repo('shop/web').hooks).toHaveLength(1);
  });

  it('never prints what a host echoes back: no token, no secret, in errors or ids', async () => {
    // A host (or proxy) that answers the hook creation with the request it got, headers and body.
    gitlab.faults.push({ status: 422, echo: true, match: /^POST \/projects\/[^/]+\/hooks$/ });
    github.faults.push({ status: 422, echo: true, match: /^POST \/repos\/shop\/web\/hooks$/ });
    const result = await run(['webhooks', 'register', dir, '--public-url', 'https://diploid.example.com', '--secret-file', join(dir, 'master')]);
    expect(result.error?.message).toBe('could not register webhooks on 2 of 2 repos');
    // The echo did arrive and was shown, redacted: the failures name what the host said.
    expect(result.err).toMatch(/failed on lab:shop\/cart: .*refused \(422: you sent .*\[redacted\]/);
    expect(result.err).toMatch(/failed on ghe:shop\/web: .*refused \(422: you sent .*\[redacted\]/);
    const secrets = [MASTER, gitlab.token, github.token, deriveWebhookSecret(MASTER, 'lab', 'shop/cart'), deriveWebhookSecret(MASTER, 'ghe', 'shop/web')];
    for (const text of [result.out, result.err, result.error?.message ?? '']) for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('prints a hook id only when the host gives a number', async () => {
    gitlab.faults.push({ status: 201, body: { id: `stolen ${gitlab.token}` }, match: /^POST \/projects\/[^/]+\/hooks$/ });
    const result = await run(['webhooks', 'register', dir, '--public-url', 'https://diploid.example.com', '--secret-file', join(dir, 'master')]);
    expect(result.out).toContain('created webhook (id not understood) on lab:shop/cart');
    expect(result.out).not.toContain(gitlab.token);
  });

  it('says which variable is missing, without guessing at a value', async () => {
    const result = await run(['webhooks', 'register', dir, '--public-url', 'https://diploid.example.com', '--secret-env', 'DIPLOID_TEST_UNSET']);
    expect(result.error?.message).toBe('webhook master secret: environment variable DIPLOID_TEST_UNSET is not set or empty');
  });
});

describe('diploid webhooks secret', () => {
  it('writes a fresh secret readable by its owner only, and will not overwrite it unasked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diploid-secret-'));
    try {
      const file = join(dir, 'secret');
      expect((await run(['webhooks', 'secret', '--file', file])).out).toBe(`wrote a new webhook master secret to ${file}\n`);
      const secret = (await readFile(file, 'utf8')).trim();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await run(['webhooks', 'secret', '--file', file])).error?.message).toMatch(/exists; pass --force/);
      expect((await readFile(file, 'utf8')).trim()).toBe(secret);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
