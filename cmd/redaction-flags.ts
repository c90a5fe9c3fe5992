/**
 * `--no-redact` and `--redact-keys`, taken alike by `read` and `tap` (and by the agent, which tap
 * passes them to). The rules they switch are in docs/redaction.md.
 */
import { normaliseKey, splitKeyList } from '../src/remote-agent/redact/index.ts';

export const REDACT_OPTION = {
  type: 'boolean',
  default: true,
  describe: 'redact secrets (docs/redaction.md); --no-redact shows values as captured (the TUI marks it)',
} as const;

export const REDACT_KEYS_OPTION = {
  type: 'string',
  requiresArg: true,
  describe: 'more sensitive names, added to the default list: a,b (or repeated)',
} as const;

export type RedactKeysResult = { readonly ok: true; readonly keys: string[] } | { readonly ok: false; readonly message: string };

/**
 * The extra keys of `--redact-keys` (a string, or several when repeated). A key without a letter
 * or digit could never match, and keys make no sense with --no-redact: both are usage errors.
 */
export function redactKeysOf(redact: boolean, flag: unknown): RedactKeysResult {
  const values = flag === undefined ? [] : Array.isArray(flag) ? flag : [flag];
  if (values.some((v) => typeof v !== 'string')) return { ok: false, message: '--redact-keys takes names, e.g. --redact-keys tenant,ssn' };
  const keys = splitKeyList(values as string[]);
  const empty = keys.find((k) => normaliseKey(k) === '');
  if (empty !== undefined) return { ok: false, message: `--redact-keys: ${JSON.stringify(empty)} has no letter or digit, so it can never match a name` };
  if (!redact && keys.length > 0) return { ok: false, message: '--redact-keys has no effect with --no-redact: drop one of them' };
  return { ok: true, keys };
}
