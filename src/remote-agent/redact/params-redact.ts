/** Query strings and application/x-www-form-urlencoded bodies: "name=value" pairs. */
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';

const AMP = 38;
const SEMI = 59;
const EQ = 61;

/**
 * Replaces the value of every pair whose decoded name is sensitive with REDACTED; every other
 * byte is kept. Pairs are split on "&" and also on ";", which some servers still accept as a
 * separator: splitting more only ever redacts more. A pair without "=" has no value to hide.
 * Empty values are redacted too, so a reader cannot tell an empty secret from a set one.
 */
export function redactParams(s: string, isSensitive: IsSensitive): string {
  const n = s.length;
  let out = '';
  let last = 0;
  let start = 0;
  while (start <= n) {
    let eq = -1;
    let end = start;
    for (; end < n; end++) {
      const c = s.charCodeAt(end);
      if (c === AMP || c === SEMI) break;
      if (c === EQ && eq < 0) eq = end;
    }
    if (eq > start && isSensitive(decodeParamName(s.slice(start, eq)))) {
      out += s.slice(last, eq + 1) + REDACTED;
      last = end;
    }
    start = end + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Form decoding of a name ("+" is a space, %XX escapes); malformed escapes are kept as is. */
export function decodeParamName(raw: string): string {
  if (raw.indexOf('%') < 0) return raw.indexOf('+') < 0 ? raw : raw.replaceAll('+', ' ');
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Invalid UTF-8 or a stray "%": decode byte by byte; keys are ASCII so Latin-1 is enough.
    return spaced.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}
