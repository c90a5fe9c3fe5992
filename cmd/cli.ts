/** The `kubectl shark` command line: one yargs command per file in cmd/ (started by main.ts). */
import { join } from 'node:path';
import { EXIT_CODE_MEANINGS } from './exit-codes.ts';
import { PARSER_CONFIGURATION } from './shared-options.ts';
import type { Argv } from 'yargs';
import { packageRoot } from './package-root.ts';
import { STDIN_PATH } from './stdin-path.ts';
import { commandOf, exitUsage, type CommandName } from './usage-error.ts';
import { plainReadArgs } from './read-argv.ts';

/** Adds one command to the parser (a function, as the command modules' argument types differ). */
type AddCommand = (parser: Argv) => Argv;

/**
 * Each command's module, imported when that command runs: `read -o json` compiles neither tap's
 * Kubernetes modules nor the demo's (issue 17: startup is most of a small capture's cost). Help
 * and a line naming no known command load them all, in this order (the order of the help).
 */
const COMMAND_MODULES: Readonly<Record<CommandName, () => Promise<AddCommand>>> = {
  read: async () => {
    const { readCommand } = await import('./read.ts');
    return (parser) => parser.command(readCommand);
  },
  demo: async () => {
    const { demoCommand } = await import('./demo.ts');
    return (parser) => parser.command(demoCommand);
  },
  tap: async () => {
    const { tapCommand } = await import('./tap.ts');
    return (parser) => parser.command(tapCommand);
  },
};

async function commandsFor(args: readonly string[]): Promise<AddCommand[]> {
  // `--version` alone prints the version and exits before any command runs: compiling all three
  // commands (tap's Kubernetes client, the demo, every dissector) for it cost ~0.4 CPU-s.
  if (args.length === 1 && args[0] === '--version') return [];
  const named = commandOf(args);
  const names = named !== undefined ? [named] : (Object.keys(COMMAND_MODULES) as CommandName[]);
  return Promise.all(names.map((name) => COMMAND_MODULES[name]()));
}

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
  // `read FILE -o json` and the like run without yargs (read-argv.ts: a third of a small read's cost).
  const plainRead = plainReadArgs(args);
  if (plainRead !== undefined) {
    const { runRead } = await import('./read.ts');
    return runRead(plainRead);
  }
  const [commands, { default: yargs }] = await Promise.all([commandsFor(args), import('yargs')]);
  const parser = commands.reduce<Argv>(
    (y, addCommand) => addCommand(y),
    yargs(args)
      .scriptName('kubectl shark')
      .parserConfiguration(PARSER_CONFIGURATION)
      .usage('$0 <command> [options]\n\nTerminal-only Kubernetes traffic viewer.'),
  );
  await parser
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
