import { Command, CommanderError } from 'commander';
import { ConfigError, UserError } from '../errors.js';
import { ExitCode } from './exit-code.js';
import { prestartSandbox } from '../sources/sandbox/spawn.js';
import { keepYoungGenerationSmall } from './heap.js';
import { withLines } from './problem-lines.js';
import { createOutput, type Output } from './output.js';
import { diploidVersion } from './version.js';

type Register = (program: Command, output: Output) => void;

/**
 * The commands, in the order help lists them, each with its module loaded on demand: `apply`,
 * `controller` and `init` pull in the Kubernetes client (about 1 s and 75 MiB at start), which
 * `render` and `plan` never need. A run names its command first; any other run loads them all.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['render', async () => (await import('./commands/render.js')).registerRenderCommand],
  ['plan', async () => (await import('./commands/plan.js')).registerPlanCommand],
  ['validate', async () => (await import('./commands/validate.js')).registerValidateCommand],
  ['apply', async () => (await import('./commands/apply.js')).registerApplyCommand],
  ['webhooks', async () => (await import('./commands/webhooks.js')).registerWebhookCommands],
  ['controller', async () => (await import('./commands/controller.js')).registerControllerCommand],
  ['init', async () => (await import('./commands/init.js')).registerInitCommand],
  ['secrets', async () => (await import('./commands/secrets.js')).registerSecretsCommands],
  ['new', async () => (await import('./commands/new.js')).registerNewCommand],
  ['status', async () => (await import('./commands/status.js')).registerStatusCommand],
  ['rollback', async () => (await import('./commands/rollback.js')).registerRollbackCommands],
  ['unpin', async () => (await import('./commands/rollback.js')).registerRollbackCommands],
  ['promote', async () => (await import('./commands/promote.js')).registerPromoteCommand],
  ['forget-left-behind', async () => (await import('./commands/forget-left-behind.js')).registerForgetLeftBehindCommand],
  ['diff', async () => (await import('./commands/diff.js')).registerDiffCommand],
  ['logs', async () => (await import('./commands/logs.js')).registerLogsCommand],
  ['up', async () => (await import('./commands/up.js')).registerUpCommands],
  ['down', async () => (await import('./commands/up.js')).registerUpCommands],
];

/** Runs the CLI; the one place that catches errors, prints them and picks the exit code. */
export async function main(argv: readonly string[], output: Output = createOutput()): Promise<number> {
  if (argv[0] !== 'controller') keepYoungGenerationSmall();
  // These evaluate the ops repo's files first thing: their sandbox starts now, on another core, while their modules load.
  if (argv[0] === 'render' || argv[0] === 'validate') prestartSandbox();
  const program = new Command('diploid')
    .description('Ship to Kubernetes from one ops repo.')
    .version(diploidVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (text) => output.out(text), writeErr: (text) => output.err(text) });
  try {
    const named = COMMANDS.filter(([name]) => name === argv[0]);
    // A module may register several commands (rollback and unpin): register each module once.
    const registers = new Set<Register>();
    for (const [, load] of named.length === 1 ? named : COMMANDS) registers.add(await load());
    for (const register of registers) register(program, output);
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return report(error, output);
  }
}

function report(error: unknown, output: Output): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof ExitCode) return error.code;
  if (error instanceof ConfigError) {
    output.err(`error: ${new ConfigError(withLines(error.problems)).message}\n`);
    return 1;
  }
  if (error instanceof UserError) {
    output.err(`error: ${error.message}\n`);
    return 1;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  output.err(`internal error (a bug in diploid, please report it): ${err.stack ?? err.message}\n`);
  return 70;
}
