/** Runs the CLI as its own process (`node --import tsx test/support/cli-process.ts ARGS`), from the sources. */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
