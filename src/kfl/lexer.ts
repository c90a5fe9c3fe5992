/**
 * KFL tokens. One lexer for both dialects: v1 (`and`, `r"..."`) and KFL2/CEL (`&&`, `.matches()`).
 * Keywords (`and`, `or`, `not`, `in`, `true`, `false`, `nil`, `null`) stay identifiers here: the
 * parser gives them meaning, so a message can still quote them as written.
 */
import { KflCompileError, quote } from './errors.ts';

export type TokenKind = 'number' | 'string' | 'regex' | 'ident' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token (for strings and regexes: with quotes and prefix). */
  readonly text: string;
  /** Decoded value: the number, the unescaped string, or the regex pattern. */
  readonly value: string | number;
  /** 0-based offsets, end exclusive. */
  readonly start: number;
  readonly end: number;
}

/** Longest first, so `==` is not read as `=` `=`, nor `..` as `.` `.`. */
const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '..', '<', '>', '!', '(', ')', '[', ']', ',', '.', '*', '-', '+', '/', '%'];

/** Characters users type from other languages, with the KFL spelling they meant. */
const LONE_CHAR_HINTS: Record<string, string> = {
  '=': 'use "==" to compare',
  '&': 'use "&&" or "and"',
  '|': 'use "||" or "or"',
};

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isIdentStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string): boolean => isIdentStart(c) || isDigit(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isQuote = (c: string): boolean => c === '"' || c === "'" || c === '`';

export function lex(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    if (isSpace(c)) {
      i++;
    } else if (isDigit(c)) {
      const t = readNumber(query, i);
      tokens.push(t);
      i = t.end;
    } else if (c === 'r' && isQuote(query[i + 1] ?? '')) {
      const t = readQuoted(query, i + 1, i, 'regex');
      tokens.push(t);
      i = t.end;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < query.length && isIdentPart(query[j]!)) j++;
      const text = query.slice(i, j);
      tokens.push({ kind: 'ident', text, value: text, start: i, end: j });
      i = j;
    } else if (isQuote(c)) {
      const t = readQuoted(query, i, i, 'string');
      tokens.push(t);
      i = t.end;
    } else {
      const op = OPERATORS.find((o) => query.startsWith(o, i));
      if (op === undefined) {
        const hint = LONE_CHAR_HINTS[c];
        const shown = quote(String.fromCodePoint(query.codePointAt(i)!));
        throw new KflCompileError('KFL_SYNTAX', hint ? `unexpected ${shown}: ${hint}` : `unexpected character ${shown}`, i, 1);
      }
      tokens.push({ kind: 'op', text: op, value: op, start: i, end: i + op.length });
      i += op.length;
    }
  }
  tokens.push({ kind: 'eof', text: '', value: '', start: query.length, end: query.length });
  return tokens;
}

function readNumber(query: string, start: number): Token {
  let j = start;
  while (isDigit(query[j] ?? '')) j++;
  // A dot belongs to the number only before a digit: `a[0].b` is index 0 then `.b`.
  if (query[j] === '.' && isDigit(query[j + 1] ?? '')) {
    j++;
    while (isDigit(query[j] ?? '')) j++;
  }
  if ((query[j] === 'e' || query[j] === 'E') && (isDigit(query[j + 1] ?? '') || ((query[j + 1] === '+' || query[j + 1] === '-') && isDigit(query[j + 2] ?? '')))) {
    j += 2;
    while (isDigit(query[j] ?? '')) j++;
  }
  // `12abc` or `1.2.3` is one mistyped literal, not a number followed by something.
  let bad = j;
  while (bad < query.length && (isIdentPart(query[bad]!) || (query[bad] === '.' && isDigit(query[bad + 1] ?? '')))) bad++;
  if (bad > j) {
    const text = query.slice(start, bad);
    throw new KflCompileError('KFL_BAD_LITERAL', `invalid number ${quote(text)}`, start, bad - start);
  }
  const text = query.slice(start, j);
  return { kind: 'number', text, value: Number(text), start, end: j };
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', "'": "'", '`': '`', '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/' };

/**
 * A quoted string or regex starting with the quote at `quoteAt` (`tokenStart` includes an `r`).
 * Strings decode escapes; an unknown escape such as `\d` is kept as written, because v1 never
 * unescaped strings and users pass such strings to matches(). Regexes and backtick strings are
 * raw: the pattern reaches RE2 exactly as typed (`\"` stays `\"`, which RE2 reads as `"`).
 */
function readQuoted(query: string, quoteAt: number, tokenStart: number, kind: 'string' | 'regex'): Token {
  const q = query[quoteAt]!;
  const raw = kind === 'regex' || q === '`';
  let out = '';
  let j = quoteAt + 1;
  for (;;) {
    if (j >= query.length) {
      const what = kind === 'regex' ? 'regex' : 'string';
      throw new KflCompileError('KFL_BAD_LITERAL', `unterminated ${what}: expected a closing ${q} before end of query`, tokenStart, query.length - tokenStart);
    }
    const c = query[j]!;
    if (c === q) break;
    if (c === '\\' && q !== '`') {
      const next = query[j + 1];
      if (next === undefined) {
        j++;
        continue; // reported as unterminated on the next turn
      }
      if (raw) {
        out += c + next;
        j += 2;
      } else if (next === 'u') {
        const hex = query.slice(j + 2, j + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          const digits = /^[0-9a-fA-F]{0,3}/.exec(query.slice(j + 2, j + 5))![0];
          const shown = `\\u${digits}`;
          throw new KflCompileError('KFL_BAD_LITERAL', `invalid escape ${quote(shown)}: expected 4 hex digits after \\u`, j, shown.length);
        }
        out += String.fromCharCode(parseInt(hex, 16));
        j += 6;
      } else {
        out += SIMPLE_ESCAPES[next] ?? c + next;
        j += 2;
      }
      continue;
    }
    out += c;
    j++;
  }
  const end = j + 1;
  return { kind, text: query.slice(tokenStart, end), value: out, start: tokenStart, end };
}
