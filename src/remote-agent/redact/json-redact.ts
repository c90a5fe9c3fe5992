/**
 * JSON bodies without JSON.parse: bodies may be cut at any byte (`truncated`) or not be valid
 * JSON at all, and parsing then re-serialising would also lose the original formatting.
 *
 * The scanner only looks at strings: a string followed by ":" is a key. When the key is
 * sensitive, the whole following value (string, number, literal, nested object or array, or the
 * rest of the text when it is cut off) becomes "[REDACTED]"; every other byte is kept.
 * Several documents in a row (NDJSON) need nothing special.
 */
import { redactGraphql } from './graphql-redact.ts';
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const REPLACEMENT = `"${REDACTED}"`;
/** Strings holding JSON ("{\"password\":...}") are scanned too, this many levels deep. */
const MAX_NESTED = 3;

/** Set by stringEnd: the string contained an escaped quote, so it may hold serialised JSON. */
let sawEscapedQuote = false;

export function redactJson(text: string, isSensitive: IsSensitive, nesting = 0): string {
  const n = text.length;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    const open = text.indexOf('"', i);
    if (open < 0) break;
    const close = stringEnd(text, open);
    const escapedQuote = sawEscapedQuote;
    if (close < 0) {
      // Cut inside a string: a key has no value yet; a value may hold cut serialised JSON.
      if (escapedQuote) {
        const swap = nestedRedaction(text.slice(open + 1), isSensitive, nesting);
        if (swap !== null) {
          out += text.slice(last, open) + swap;
          last = n;
        }
      }
      break;
    }
    const after = skipSpace(text, close + 1);
    if (after < n && text.charCodeAt(after) === COLON) {
      const raw = text.slice(open + 1, close);
      const key = raw.indexOf('\\') < 0 ? raw : decodeJsonString(raw);
      if (!isSensitive(key)) {
        i = after + 1;
        if (key === 'query') {
          // GraphQL over HTTP: {"query": "mutation { login(password: \"x\") }"}.
          const start = skipSpace(text, i);
          const swap = start < n && text.charCodeAt(start) === QUOTE ? graphqlRedaction(text, start, isSensitive) : null;
          if (swap !== null) {
            out += text.slice(last, start) + swap.text;
            last = swap.end;
            i = swap.end;
          }
        }
        continue;
      }
      const start = skipSpace(text, after + 1);
      if (start >= n) break; // cut right after the colon: nothing to hide
      const end = valueEnd(text, start);
      if (end > start) {
        out += text.slice(last, start) + REPLACEMENT;
        last = end;
        i = end;
      } else {
        i = start;
      }
      continue;
    }
    if (escapedQuote) {
      const swap = nestedRedaction(text.slice(open + 1, close), isSensitive, nesting);
      if (swap !== null) {
        out += text.slice(last, open) + swap;
        last = close + 1;
      }
    }
    i = close + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * The string value at `start` read as a GraphQL document, redacted and re-encoded; null when it
 * holds nothing to hide. A cut string is redacted as far as it goes (and stays unterminated).
 */
function graphqlRedaction(text: string, start: number, isSensitive: IsSensitive): { text: string; end: number } | null {
  const close = stringEnd(text, start);
  const raw = text.slice(start + 1, close < 0 ? text.length : close);
  const decoded = raw.indexOf('\\') < 0 ? raw : decodeJsonString(raw);
  const redacted = redactGraphql(decoded, isSensitive);
  if (redacted === decoded) return null;
  const encoded = JSON.stringify(redacted);
  return close < 0 ? { text: encoded.slice(0, -1), end: text.length } : { text: encoded, end: close + 1 };
}

/** A string value holding JSON, redacted and re-encoded; null when it holds nothing to hide. */
function nestedRedaction(raw: string, isSensitive: IsSensitive, nesting: number): string | null {
  if (nesting >= MAX_NESTED) return null;
  const decoded = decodeJsonString(raw);
  // A string holding a JSON string ("\"{\\\"token\\\":1}\"") is serialised JSON twice over.
  if (!looksLikeJson(decoded) && decoded.charCodeAt(skipSpace(decoded, 0)) !== QUOTE) return null;
  const redacted = redactJson(decoded, isSensitive, nesting + 1);
  return redacted === decoded ? null : JSON.stringify(redacted);
}

/** True when the first non-blank character (a BOM counts as blank) opens an object or array. */
export function looksLikeJson(text: string): boolean {
  const i = skipSpace(text, 0);
  if (i >= text.length) return false;
  const c = text.charCodeAt(i);
  return c === 123 /* { */ || c === 91 /* [ */;
}

/** Index of the quote closing the string opened at `open`, or -1 when the text ends first. */
function stringEnd(text: string, open: number): number {
  sawEscapedQuote = false;
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (b > open && text.charCodeAt(b) === BACKSLASH) b--;
    if (((q - 1 - b) & 1) === 0) return q;
    sawEscapedQuote = true;
    from = q + 1;
  }
}

/**
 * End (exclusive) of the value starting at `start`; the text length when the value is cut off.
 * Strings and brackets use the real closing quote even across newlines: over-redacting broken
 * input is safe, under-redacting is not. Anything else (numbers, literals, invalid bare words)
 * runs to the next "," "}" "]" or line end, trailing blanks excluded.
 */
function valueEnd(text: string, start: number): number {
  const n = text.length;
  const c = text.charCodeAt(start);
  if (c === QUOTE) {
    const close = stringEnd(text, start);
    return close < 0 ? n : close + 1;
  }
  if (c === 123 /* { */ || c === 91 /* [ */) {
    let depth = 0;
    for (let j = start; j < n; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) {
        const close = stringEnd(text, j);
        if (close < 0) return n;
        j = close;
      } else if (d === 123 || d === 91) {
        depth++;
      } else if (d === 125 /* } */ || d === 93 /* ] */) {
        if (--depth === 0) return j + 1;
      }
    }
    return n;
  }
  let j = start;
  for (; j < n; j++) {
    const d = text.charCodeAt(j);
    if (d === 44 /* , */ || d === 125 || d === 93 || d === 10 || d === 13) break;
  }
  while (j > start && isSpace(text.charCodeAt(j - 1))) j--;
  return j;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Lenient JSON string decoding: invalid escapes give the escaped character, a cut one nothing. */
export function decodeJsonString(raw: string): string {
  let out = '';
  let i = 0;
  const n = raw.length;
  while (i < n) {
    const b = raw.indexOf('\\', i);
    if (b < 0) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, b);
    if (b + 1 >= n) break;
    const e = raw[b + 1];
    if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(raw.slice(b + 2, b + 6))) {
      out += String.fromCharCode(parseInt(raw.slice(b + 2, b + 6), 16));
      i = b + 6;
    } else {
      out += SIMPLE_ESCAPES[e] ?? e;
      i = b + 2;
    }
  }
  return out;
}
