/** Query strings, fragments and application/x-www-form-urlencoded bodies: "name=value" pairs. */
import { redactGraphql } from './graphql-redact.ts';
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';
import { hasOAuthCompanion, isCodeName } from './oauth-code.ts';

const AMP = 38;
const SEMI = 59;
const EQ = 61;

export interface ParamRules {
  /** Names whose values are hidden (URLs also use the query-only keys, see NameMatcher). */
  readonly isSensitive: IsSensitive;
  /**
   * True where "code" is an OAuth authorization code whatever else the list holds (a Location
   * redirect, a request to a callback path); else it is one only next to state, grant_type...
   */
  readonly codeIsSecret: boolean;
}

/**
 * Replaces the value of every pair whose decoded name is sensitive with REDACTED; every other
 * byte is kept. Pairs are split on "&" and also on ";", which some servers still accept as a
 * separator: splitting more only ever redacts more. A pair without "=" has no value to hide.
 * Empty values are redacted too, so a reader cannot tell an empty secret from a set one.
 * A "query" parameter holds a GraphQL document (GET requests): its sensitive arguments are
 * redacted and the value re-encoded.
 */
export function redactParams(s: string, rules: ParamRules): string {
  const n = s.length;
  let out = '';
  let last = 0;
  let start = 0;
  let codeIsSecret: boolean | undefined = rules.codeIsSecret || undefined;
  while (start <= n) {
    let eq = -1;
    let end = start;
    for (; end < n; end++) {
      const c = s.charCodeAt(end);
      if (c === AMP || c === SEMI) break;
      if (c === EQ && eq < 0) eq = end;
    }
    if (eq > start) {
      const name = formDecode(s.slice(start, eq));
      let replacement: string | null = null;
      if (rules.isSensitive(name) || (isCodeName(name) && (codeIsSecret ??= hasOAuthCompanion(s)))) {
        replacement = REDACTED;
      } else if (name === 'query') {
        replacement = redactGraphqlParam(s.slice(eq + 1, end), rules.isSensitive);
      }
      if (replacement !== null) {
        out += s.slice(last, eq + 1) + replacement;
        last = end;
      }
    }
    start = end + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** A form-encoded GraphQL document, redacted and re-encoded; null when nothing changes. */
function redactGraphqlParam(raw: string, isSensitive: IsSensitive): string | null {
  if (raw.indexOf(':') < 0 && raw.indexOf('%3A') < 0 && raw.indexOf('%3a') < 0) return null;
  const decoded = formDecode(raw);
  const redacted = redactGraphql(decoded, isSensitive);
  return redacted === decoded ? null : encodeURIComponent(redacted);
}

/** Form decoding ("+" is a space, %XX escapes) of a name or value; malformed escapes are kept as is. */
export function formDecode(raw: string): string {
  if (raw.indexOf('%') < 0) return raw.indexOf('+') < 0 ? raw : raw.replaceAll('+', ' ');
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Invalid UTF-8 or a stray "%": decode byte by byte; keys are ASCII so Latin-1 is enough.
    return spaced.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}
