#!/usr/bin/env node
/** Entry point of `kubectl shark`: one yargs command per file in cmd/. */
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_CODE_MEANINGS } from './exit-codes.ts';
import { PARSER_CONFIGURATION } from './shared-options.ts';
import { demoCommand } from './demo.ts';
import { packageRoot } from './package-root.ts';
import { readCommand } from './read.ts';
import { STDIN_PATH } from './stdin-path.ts';
import { tapCommand } from './tap.ts';
import { commandOf, exitUsage } from './usage-error.ts';

/** Help is laid out for the terminal's width, or $COLUMNS when piped, and never wider than 100. */
export function helpWidth(): number {
  const columns = process.stdout.columns ?? Number.parseInt(process.env.COLUMNS ?? '', 10);
  return Number.isFinite(columns) && columns >= 40 ? Math.min(100, columns) : 100;
}

/** The top-level help's tail: exit codes (from exit-codes.ts) and where the documentation is. */
function epilogue(): string {
  const root = packageRoot();
  const codes = EXIT_CODE_MEANINGS.map(([code, meaning]) => `  ${String(code).padStart(2)}  ${meaning}`);
  return [
    'Exit codes:',
    ...codes,
    '',
    'Documentation:',
    `  ${join(root, 'README.md')}`,
    `  ${join(root, 'docs')}/ (tap.md, kfl.md: the filter language, redaction.md)`,
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  const args = argv.map((arg) => (arg === '-' ? STDIN_PATH : arg));
  await yargs(args)
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
    .wrap(helpWidth())
    .epilogue(epilogue())
    .fail((message, err) => {
      // yargs' own parse errors (a flag without its value, a bad number) are usage errors; others are ours.
      if (err && err.name !== 'YError') throw err;
      exitUsage(commandOf(args), message ?? err?.message ?? 'bad command line');
    })
    .parseAsync();
}

await main(hideBin(process.argv));
