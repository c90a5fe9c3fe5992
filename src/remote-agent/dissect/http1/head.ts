/**
 * Parsing one header block (start line + fields + blank line), already found by the parser and
 * decoded once with latin1 (RFC 9112 §2.2: octets, not a Unicode encoding).
 */
import type { StartKind } from './start-line.ts';

export interface HeaderField {
  readonly name: string;
  /** Lower-case name, for lookups. */
  readonly key: string;
  readonly value: string;
}

export interface MessageHead {
  readonly kind: StartKind;
  /** Request only ('' for responses). */
  readonly method: string;
  readonly target: string;
  /** "HTTP/1.1" as sent. */
  readonly version: string;
  /** Response only (0 for requests). */
  readonly status: number;
  readonly reason: string;
  readonly fields: readonly HeaderField[];
  /** Bytes of start line, fields and the blank line. */
  readonly size: number;
  /** Field lines without a colon that were skipped (tolerated, counted by the caller). */
  readonly badLines: number;
}

export type HeadResult = { ok: true; head: MessageHead } | { ok: false; reason: string };

const NO_FIELDS: readonly HeaderField[] = [];

/** What String#trim removes: JavaScript's white space and line terminators (`\s`). */
function isTrimmed(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || (c > 0xff && /\s/.test(String.fromCharCode(c)));
}

/**
 * Parses a header block; `text` ends with the blank line.
 *
 * `previous` is the fields of the message before on the same side of the connection. A client or
 * server sends the same names, and many of the same values, in the same order on every message:
 * where field i is written exactly as field i was there, its strings are taken from it instead of
 * sliced and lower-cased again. The result is the same; the strings it allocates are fewer
 * (issue 17: 15% of `read -o json`'s allocation on small-packet captures was this function).
 */
export function parseHead(text: string, size: number, previous: readonly HeaderField[] = NO_FIELDS): HeadResult {
  // Lone LF is tolerated as a line terminator (RFC 9112 §2.2): lines end at LF, less one CR.
  // One pass over the text by index, without an array of lines or a string per line.
  let lf = text.indexOf('\n');
  const startLine = stripCR(lf < 0 ? text : text.slice(0, lf));
  const fields: HeaderField[] = [];
  let badLines = 0;
  // The next colon at or after the current line: colons only move forward, so lines without one
  // do not each search to the end of the block (linear, whatever the lines are).
  let colon = -1;
  while (lf >= 0) {
    const from = lf + 1;
    lf = text.indexOf('\n', from);
    const lineEnd = lf < 0 ? text.length : lf;
    const end = lineEnd > from && text.charCodeAt(lineEnd - 1) === 0x0d ? lineEnd - 1 : lineEnd;
    if (end === from) break;
    const c0 = text.charCodeAt(from);
    if ((c0 === 0x20 || c0 === 0x09) && fields.length > 0) {
      // obs-fold (RFC 9112 §5.2): replace the fold with a space, append to the previous value.
      const prev = fields[fields.length - 1];
      fields[fields.length - 1] = { name: prev.name, key: prev.key, value: `${prev.value} ${text.slice(from, end).trim()}` };
      continue;
    }
    if (colon < from) {
      colon = text.indexOf(':', from);
      if (colon < 0) colon = text.length;
    }
    if (colon >= end || colon === from) {
      badLines++;
      continue;
    }
    const before = fields.length < previous.length ? previous[fields.length] : undefined;
    let valueStart = colon + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && isTrimmed(text.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isTrimmed(text.charCodeAt(valueEnd - 1))) valueEnd--;
    const value =
      before !== undefined && valueEnd - valueStart === before.value.length && text.startsWith(before.value, valueStart)
        ? before.value
        : text.slice(valueStart, valueEnd);
    if (before !== undefined && colon - from === before.name.length && text.startsWith(before.name, from)) {
      // `before.name` is trimmed, so the untrimmed name equal to it is its own trim.
      fields.push(before.value === value ? before : { name: before.name, key: before.key, value });
      continue;
    }
    const name = text.slice(from, colon).trim();
    fields.push({ name, key: name.toLowerCase(), value });
  }
  if (startLine.startsWith('HTTP/')) {
    const status = Number(startLine.slice(9, 12));
    if (!Number.isInteger(status)) return { ok: false, reason: 'bad status line' };
    return {
      ok: true,
      head: { kind: 'response', method: '', target: '', version: startLine.slice(0, 8), status, reason: startLine.slice(13), fields, size, badLines },
    };
  }
  // request-line = method SP request-target SP HTTP-version (RFC 9112 §3). A line malformed after a
  // known method is accepted like tshark does: "OPTIONS HTTP/1.1" has target "HTTP/1.1", no version.
  // Split at the first and last space: a target with spaces keeps them, as in a split and join.
  const first = startLine.indexOf(' ');
  const last = startLine.lastIndexOf(' ');
  const method = first < 0 ? startLine : startLine.slice(0, first);
  if (method.length === 0) return { ok: false, reason: 'bad request line' };
  const version = first >= 0 && last > first ? startLine.slice(last + 1) : '';
  const target = first < 0 ? '' : last > first ? startLine.slice(first + 1, last) : startLine.slice(first + 1);
  return {
    ok: true,
    head: { kind: 'request', method, target, version, status: 0, reason: '', fields, size, badLines },
  };
}

function stripCR(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** The value of the first field named `key` (lower case), or undefined. */
export function fieldValue(head: MessageHead, key: string): string | undefined {
  for (const f of head.fields) if (f.key === key) return f.value;
  return undefined;
}

/** All values of fields named `key` (lower case), in order. */
export function fieldValues(head: MessageHead, key: string): string[] {
  const out: string[] = [];
  for (const f of head.fields) if (f.key === key) out.push(f.value);
  return out;
}
