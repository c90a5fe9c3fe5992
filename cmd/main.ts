#!/usr/bin/env node
/** Entry point of `kubectl shark`: one yargs command per file in cmd/. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_USAGE } from './exit-codes.ts';
import { PARSER_CONFIGURATION } from './filter-option.ts';
import { demoCommand } from './demo.ts';
import { readCommand } from './read.ts';
import { STDIN_PATH } from './stdin-path.ts';
import { tapCommand } from './tap.ts';

export async function main(argv: readonly string[]): Promise<void> {
  await yargs(argv.map((arg) => (arg === '-' ? STDIN_PATH : arg)))
    .scriptName('kubectl shark')
    .parserConfiguration(PARSER_CONFIGURATION)
    .usage('$0 <command> [options]\n\nTerminal-only Kubernetes traffic viewer.')
    .command(readCommand)
    .command(demoCommand)
    .command(tapCommand)
    .demandCommand(1, 'Name a command: tap, read, demo')
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, err) => {
      // yargs' own parse errors (a flag without its value) are usage errors; others are ours.
      if (err && err.name !== 'YError') throw err;
      process.stderr.write(`kubectl shark: ${message ?? err?.message}\nRun 'kubectl shark --help' for usage.\n`);
      process.exit(EXIT_USAGE);
    })
    .parseAsync();
}

await main(hideBin(process.argv));
