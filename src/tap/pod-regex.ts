/**
 * The tap's POD_REGEX, compiled with KFL's RE2 compiler (linear time, no backreferences) so a
 * pattern typed on the command line cannot cost exponential time, as a filter's cannot.
 */
import { compileRegex, type Regex } from '../kfl/regex.ts';
import { SharkError } from '../model/errors.ts';

export function compilePodRegex(source: string | undefined): Regex | null {
  if (source === undefined || source === '') return null;
  const result = compileRegex(source);
  if (!result.ok) throw new SharkError('USAGE', `POD_REGEX ${JSON.stringify(source)} is not a valid RE2 regular expression: ${result.reason}`);
  return result.regex;
}
