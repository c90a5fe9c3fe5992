/**
 * GraphQL documents (application/graphql bodies, the "query" string of a JSON body, a "query"
 * URL parameter): the value of an argument or input-object field with a sensitive name becomes
 * "[REDACTED]" (`login(password: "x")`, `createUser(input: {password: "x"})`). Variable
 * references (`password: $p`) stay: their values are in "variables", which the JSON scanner sees.
 *
 * A scanner of our own, not a GraphQL parser: none ships in the agent bundle, and a parser would
 * reject exactly the cut (--max-body) or invalid documents that still have to lose their secrets.
 * It only tracks whether it is inside parentheses (where "name:" introduces a value; outside, in a
 * selection set, "name:" is an alias). Linear in the text, never throws.
 */
import { REDACTED } from './keys.ts';
import type { IsSensitive } from './name-matcher.ts';

const REPLACEMENT = `"${REDACTED}"`;
const QUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const LPAREN = 40;
const RPAREN = 41;
const COLON = 58;
const EQUALS = 61;
const BACKSLASH = 92;

export function redactGraphql(text: string, isSensitive: IsSensitive): string {
  const n = text.length;
  let out = '';
  let last = 0;
  let parens = 0;
  let i = 0;
  /** The name just read, while nothing but ignored characters followed it. */
  let name: string | null = null;
  let nameIsVariable = false;
  let afterDollar = false;
  /** "$token: Type" with a sensitive name: a default value after "=" is hidden too. */
  let sensitiveVariable = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isIgnored(c)) {
      i++;
      continue;
    }
    if (c === HASH) {
      i = lineEnd(text, i);
      continue;
    }
    if (isNameChar(c)) {
      const e = nameEnd(text, i);
      name = text.slice(i, e);
      nameIsVariable = afterDollar;
      afterDollar = false;
      i = e;
      continue;
    }
    let valueAt = -1;
    if (c === COLON && parens > 0 && name !== null) {
      if (nameIsVariable) sensitiveVariable = isSensitive(name);
      else if (isSensitive(name)) valueAt = skipIgnored(text, i + 1);
    } else if (c === EQUALS && sensitiveVariable) {
      valueAt = skipIgnored(text, i + 1);
      sensitiveVariable = false;
    } else if (c === LPAREN) {
      parens++;
    } else if (c === RPAREN) {
      if (parens > 0) parens--;
      sensitiveVariable = false;
    } else if (c === DOLLAR) {
      sensitiveVariable = false;
    }
    afterDollar = c === DOLLAR;
    name = null;
    if (c === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    i++;
    if (valueAt < 0 || valueAt >= n || text.charCodeAt(valueAt) === DOLLAR) continue;
    const end = valueEnd(text, valueAt);
    if (end > valueAt && text.slice(valueAt, end) !== REPLACEMENT) {
      out += text.slice(last, valueAt) + REPLACEMENT;
      last = end;
    }
    i = Math.max(i, end);
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Space, tab, line ends, commas and the BOM carry no meaning in GraphQL (spec §2.1). */
function isIgnored(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 44 || c === 0xfeff;
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

function nameEnd(text: string, i: number): number {
  while (i < text.length && isNameChar(text.charCodeAt(i))) i++;
  return i;
}

function skipIgnored(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isIgnored(c)) i++;
    else if (c === HASH) i = lineEnd(text, i);
    else break;
  }
  return i;
}

function lineEnd(text: string, i: number): number {
  const lf = text.indexOf('\n', i);
  return lf < 0 ? text.length : lf + 1;
}

/** End (exclusive) of the string or block string opened at `open`; the text length when cut. */
function stringEnd(text: string, open: number): number {
  const n = text.length;
  if (text.startsWith('"""', open)) {
    let from = open + 3;
    for (;;) {
      const q = text.indexOf('"""', from);
      if (q < 0) return n;
      if (text.charCodeAt(q - 1) !== BACKSLASH) return q + 3;
      from = q + 3;
    }
  }
  for (let j = open + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  return n;
}

/**
 * End (exclusive) of the value at `start`: a string, a list or object (brackets matched, strings
 * skipped), or a bare token (number, enum, true/false/null). The text length when it is cut.
 */
function valueEnd(text: string, start: number): number {
  const n = text.length;
  const c = text.charCodeAt(start);
  if (c === QUOTE) return stringEnd(text, start);
  if (c === 123 /* { */ || c === 91 /* [ */) {
    let depth = 0;
    for (let j = start; j < n; j++) {
      const d = text.charCodeAt(j);
      if (d === QUOTE) {
        j = stringEnd(text, j) - 1;
      } else if (d === HASH) {
        j = lineEnd(text, j) - 1;
      } else if (d === 123 || d === 91) {
        depth++;
      } else if (d === 125 /* } */ || d === 93 /* ] */) {
        if (--depth === 0) return j + 1;
      }
    }
    return n;
  }
  let j = start;
  while (j < n && (isNameChar(text.charCodeAt(j)) || text[j] === '-' || text[j] === '.' || text[j] === '+')) j++;
  return j;
}
