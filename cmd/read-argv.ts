/**
 * The common `read` command lines without yargs (issue 17): `read FILE... [-o FORMAT] [-q]
 * [-f QUERY]`. Loading and running yargs for them cost ~0.09 CPU-s and ~13 MB RSS per start,
 * about a third of reading a small capture. Anything else (help, --version, another flag, a
 * repeated one, `--flag=value`, a bad value, a file name starting with "-") returns undefined
 * and goes through yargs as before, which parses, checks and explains it; so this only ever
 * accepts lines yargs accepts, with the same result (test/e2e/read-argv.test.ts compares them).
 */
import type { ReadArgs } from './read.ts';
import { DEFAULT_MAX_BODY, DEFAULT_RESPONSE_TIMEOUT_S, OUTPUT_CHOICES, type OutputFormat } from './shared-options.ts';
import { DEFAULT_MAX_ENTRIES } from '../src/pipeline/entry-store.ts';

const isOutput = (s: string | undefined): s is OutputFormat => OUTPUT_CHOICES.some((c) => c === s);

/**
 * ReadArgs for a plain `read` line, with the defaults yargs gives (shared-options.ts); undefined
 * for any line yargs must see. `args` are as main() has them ("-" already turned into /dev/stdin).
 */
export function plainReadArgs(args: readonly string[]): ReadArgs | undefined {
  if (args[0] !== 'read') return undefined;
  const files: string[] = [];
  let output: OutputFormat | undefined;
  let quiet: boolean | undefined;
  let filter: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-o' || arg === '--output') {
      const value = args[++i];
      if (output !== undefined || !isOutput(value)) return undefined;
      output = value;
    } else if (arg === '-q' || arg === '--quiet') {
      if (quiet !== undefined) return undefined;
      quiet = true;
    } else if (arg === '-f' || arg === '--filter') {
      // yargs takes the next word as the query whatever it looks like (nargs 1, nargs-eats-options).
      const value = args[++i];
      if (filter !== undefined || value === undefined) return undefined;
      filter = value;
    } else if (arg !== '' && !arg.startsWith('-')) {
      files.push(arg);
    } else {
      return undefined;
    }
  }
  if (files.length === 0) return undefined;
  return {
    files,
    filter,
    output,
    maxBody: DEFAULT_MAX_BODY,
    responseTimeout: DEFAULT_RESPONSE_TIMEOUT_S,
    quiet: quiet ?? false,
    maxEntries: DEFAULT_MAX_ENTRIES,
    color: 'auto',
    redact: true,
  };
}
