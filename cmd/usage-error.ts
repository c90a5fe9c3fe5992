/**
 * How every usage error ends (a bad flag, a bad value, a missing argument): one line saying what
 * is wrong, then where to read about it, as kubectl does (`See 'kubectl get -h' for help`), and
 * exit 2.
 */
import { EXIT_USAGE } from './exit-codes.ts';
import { sanitizeBlock } from '../src/model/terminal-text.ts';

export const COMMAND_NAMES = ['read', 'demo', 'tap'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** The line after a usage error: the subcommand's help when there is one, else the top level's. */
export function helpHint(command: CommandName | undefined): string {
  return `Run 'kubectl shark${command ? ` ${command}` : ''} --help' for usage.`;
}

/** The subcommand a command line names (its first word that is not a flag), if any. */
export function commandOf(argv: readonly string[]): CommandName | undefined {
  const first = argv.find((a) => !a.startsWith('-'));
  return COMMAND_NAMES.find((c) => c === first);
}

/** Prints `kubectl shark CMD: MESSAGE` and the help hint; exits 2. */
export function exitUsage(command: CommandName | undefined, message: string): never {
  process.stderr.write(`${usageText(command, message)}\n`);
  process.exit(EXIT_USAGE);
}

export function usageText(command: CommandName | undefined, message: string): string {
  return `kubectl shark${command ? ` ${command}` : ''}: ${sanitizeBlock(message)}\n${helpHint(command)}`;
}
