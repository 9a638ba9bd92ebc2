import { Command, CommanderError } from 'commander';
import { ConfigError, UserError } from '../errors.js';
import { withLines } from './problem-lines.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerRenderCommand } from './commands/render.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerWebhookCommands } from './commands/webhooks.js';
import { registerControllerCommand } from './commands/controller.js';
import { registerInitCommand } from './commands/init.js';
import { createOutput, type Output } from './output.js';

/** Runs the CLI; the one place that catches errors, prints them and picks the exit code. */
export async function main(argv: readonly string[], output: Output = createOutput()): Promise<number> {
  const program = new Command('diploid')
    .description('Ship to Kubernetes from one ops repo.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => output.out(text), writeErr: (text) => output.err(text) });
  registerRenderCommand(program, output);
  registerPlanCommand(program, output);
  registerValidateCommand(program, output);
  registerApplyCommand(program, output);
  registerWebhookCommands(program, output);
  registerControllerCommand(program, output);
  registerInitCommand(program, output);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return report(error, output);
  }
}

function report(error: unknown, output: Output): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
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
