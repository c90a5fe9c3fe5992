/**
 * `-f/--filter KFL`, the same for every command. A query may start with "-" (`-1 < response.status`),
 * which yargs would otherwise take for a flag and reject: `nargs: 1` with the parser setting
 * `nargs-eats-options` (main.ts) makes the next argument the query whatever it starts with, as
 * kubectl's own string flags do. `--filter=QUERY` works as well.
 */
import type { Options } from 'yargs';

export function filterOption(describe: string): Options {
  return { alias: 'f', type: 'string', nargs: 1, describe };
}

/** Parser settings main.ts applies to every command (see above). */
export const PARSER_CONFIGURATION = { 'nargs-eats-options': true } as const;
