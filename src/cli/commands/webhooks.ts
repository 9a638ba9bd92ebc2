import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InternalError, UserError } from '../../errors.js';
import { EventQueue } from '../../controller/event-queue.js';
import { DEFAULT_MAX_BODY_BYTES, startWebhookServer } from '../../controller/webhook-server.js';
import { createGitHost } from '../../hosts/create-host.js';
import { HostApiError } from '../../hosts/errors.js';
import { redactHostText } from '../../hosts/redact.js';
import { webhookRoutes, webhookUrl } from '../../hosts/routes.js';
import { resolveRepoTargets } from '../../hosts/targets.js';
import { readSecret } from '../../hosts/token.js';
import type { GitHost } from '../../hosts/types.js';
import { deriveWebhookSecret, generateMasterSecret } from '../../hosts/webhook-secret.js';
import type { ConfigSpec } from '../../model/config.js';
import type { SecretSource } from '../../model/primitives.js';
import { loadConfigForCommand } from '../load.js';
import { DEFAULT_SECRET_ENV, parsePort, parsePositive, parseUrl, secretSource, type SecretOptions } from '../options.js';
import { createOutput, type Output } from '../output.js';

/** Adds `diploid webhooks serve | register | secret`. */
export function registerWebhookCommands(program: Command, output: Output = createOutput()): void {
  const webhooks = program.command('webhooks').description('Receive GitLab/GitHub webhooks and register them on the repos of the ops repo.');

  withSecretOptions(
    webhooks
      .command('serve')
      .description('Serve the webhook endpoint: verify each delivery, enqueue it, answer 202.')
      .argument('[ops-dir]', 'folder of the ops repo', '.')
      .option('--port <port>', 'port to listen on', parsePort, 8080)
      .option('--host <address>', 'address to listen on', '0.0.0.0')
      .option('--max-body <bytes>', 'largest body accepted', parsePositive, DEFAULT_MAX_BODY_BYTES),
  ).action(async (opsDir: string, options: SecretOptions & { port: number; host: string; maxBody: number }) => {
    const config = await loadConfigForCommand(opsDir, output);
    const master = await readSecret(secretSource(options, config.webhooks?.secret), 'webhook master secret');
    const routes = webhookRoutes(resolveRepoTargets(config), master);
    const queue = new EventQueue();
    const server = await startWebhookServer({ routes, queue, port: options.port, host: options.host, maxBodyBytes: options.maxBody, log: (line) => output.err(`${line}\n`) });
    output.out(`listening on ${server.url} for ${routes.size} repos: ${[...routes.keys()].join(', ')}\n`);
    // On its own, the server has no reconciler to feed: it reports what it would hand over.
    void (async () => {
      for (;;) {
        const event = await queue.take();
        const ref = 'branch' in event ? event.branch : event.tag;
        const sha = 'after' in event && event.after !== undefined ? ` ${event.after.slice(0, 12)}` : '';
        output.out(`event ${event.host}/${event.repo} ${event.kind} ${ref}${sha}\n`);
      }
    })();
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
  });

  withSecretOptions(
    webhooks
      .command('register')
      .description('Create or update the push/merge-request webhook on every repo of the ops config.')
      .argument('[ops-dir]', 'folder of the ops repo', '.')
      .option('--public-url <url>', 'URL at which hosts reach `diploid webhooks serve` (default: webhooks.publicUrl of the config)', parseUrl),
  ).action(async (opsDir: string, options: SecretOptions & { publicUrl?: string }) => {
    const config = await loadConfigForCommand(opsDir, output);
    const publicUrl = options.publicUrl ?? config.webhooks?.publicUrl;
    if (publicUrl === undefined) throw new UserError('where do hosts reach diploid? pass --public-url or set webhooks.publicUrl in the config');
    await registerWebhooks(config, publicUrl, secretSource(options, config.webhooks?.secret), output);
  });

  webhooks
    .command('secret')
    .description('Write a new webhook master secret to a file (readable by its owner only).')
    .requiredOption('--file <path>', 'file to write')
    .option('--force', 'replace an existing file (every hook must then be registered again)')
    .action(async (options: { file: string; force?: boolean }) => {
      try {
        await writeFile(options.file, `${generateMasterSecret()}\n`, { mode: 0o600, flag: options.force ? 'w' : 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`${options.file} exists; pass --force to replace it (hooks then need registering again)`);
        throw new UserError(`cannot write ${options.file}: ${(error as Error).message}`);
      }
      output.out(`wrote a new webhook master secret to ${options.file}\n`);
    });
}

/**
 * Creates or updates the push/merge-request webhook on every repo of the ops config, each with its
 * own secret derived from the master secret; prints one line per repo, then fails once if any failed.
 * Used by `diploid webhooks register` and `diploid init`.
 */
export async function registerWebhooks(config: ConfigSpec, publicUrl: string, source: SecretSource, output: Output): Promise<void> {
  const master = await readSecret(source, 'webhook master secret');
  const targets = resolveRepoTargets(config);
  if (targets.length === 0) throw new UserError('the ops config names no repos: nothing to register');
  const hosts = new Map<string, Promise<GitHost>>();
  const failures: string[] = [];
  for (const target of targets) {
    const url = webhookUrl(publicUrl, target.hostName, target.repo.name);
    const where = `${target.hostName}:${target.repo.path}`;
    const secret = deriveWebhookSecret(master, target.hostName, target.repo.path);
    try {
      let host = hosts.get(target.hostName);
      if (!host) {
        host = createGitHost(target.hostName, target.host);
        hosts.set(target.hostName, host);
      }
      const result = await (await host).registerWebhook(target.repo, { url, secret });
      // The id is the host's to choose: print it only if it is the number it should be.
      const id = Number.isSafeInteger(result.hookId) ? String(result.hookId) : '(id not understood)';
      output.out(`${result.action} webhook ${id} on ${where} -> ${url}\n`);
    } catch (error) {
      // Other repos, maybe on other hosts, may still work: report each failure, then fail once.
      // A host error is redacted where it is made; anything else may quote the host's answer.
      if (!(error instanceof UserError)) throw new InternalError(`registering the webhook on ${where}: ${redactHostText(String((error as Error)?.message ?? error), [master, secret])}`, { cause: error });
      failures.push(`${where}: ${error.message}`);
      output.err(`failed on ${where}: ${error.message}\n`);
      if (error instanceof HostApiError && error.kind === 'auth') hosts.delete(target.hostName);
    }
  }
  if (failures.length > 0) throw new UserError(`could not register webhooks on ${failures.length} of ${targets.length} repos`);
}

function withSecretOptions(command: Command): Command {
  return command
    .option('--secret-env <name>', `environment variable holding the webhook master secret (default ${DEFAULT_SECRET_ENV})`)
    .option('--secret-file <path>', 'file holding the webhook master secret');
}





