/**
 * User regexes run next to production traffic, so they go through re2js (RE2 semantics: linear
 * time, no backreferences or lookaround). Compiled patterns are cached: the TUI recompiles the
 * query on every keystroke and matches() may receive the same dynamic pattern for every entry.
 */
import { RE2JS } from 're2js';

export interface Regex {
  /** Unanchored: true when the pattern matches anywhere in the text. */
  test(text: string): boolean;
}

const CACHE_LIMIT = 256;
const cache = new Map<string, Regex>();

export type RegexResult = { readonly ok: true; readonly regex: Regex } | { readonly ok: false; readonly reason: string };

export function compileRegex(source: string): RegexResult {
  const hit = cache.get(source);
  if (hit) return { ok: true, regex: hit };
  let regex: Regex;
  try {
    regex = RE2JS.compile(source);
  } catch (e) {
    return { ok: false, reason: describeRegexError(e) };
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(source, regex);
  return { ok: true, regex };
}

/** re2js says `error parsing regexp: missing closing ): \`(\``; keep the reason, drop the echo. */
function describeRegexError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const reason = text.replace(/^error parsing regexp:\s*/, '').replace(/:\s*`[\s\S]*`$/, '');
  return reason || 'not a valid RE2 pattern';
}

/** For matches() with a pattern computed per entry: an invalid pattern simply does not match. */
export function testDynamic(source: string, text: string): boolean {
  const r = compileRegex(source);
  return r.ok && r.regex.test(text);
}
