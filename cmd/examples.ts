/**
 * Help examples as kubectl prints them: a `# what it does` line, then the command whole on a line
 * of its own. yargs lays `.example(cmd, what)` out as two columns and wraps the command column
 * mid-command on an 80-column terminal; a one-column row is only wrapped when longer than the
 * screen, and test/e2e/cli-consistency.test.ts checks at 80 columns that none is.
 */
import type { Argv } from 'yargs';

export interface Example {
  /** With `$0` for `kubectl shark`. */
  readonly command: string;
  readonly what: string;
}

export function withExamples<T>(y: Argv<T>, examples: readonly Example[]): Argv<T> {
  let out = y;
  for (const e of examples) out = out.example(`# ${e.what}`, '').example(e.command, '');
  return out;
}
