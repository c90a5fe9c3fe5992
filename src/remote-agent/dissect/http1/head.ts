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

/** Parses a header block; `text` ends with the blank line. */
export function parseHead(text: string, size: number): HeadResult {
  // Lone LF is tolerated as a line terminator (RFC 9112 §2.2), so split on LF and drop a CR.
  const lines = text.split('\n');
  const startLine = stripCR(lines[0]);
  const fields: HeaderField[] = [];
  let badLines = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = stripCR(lines[i]);
    if (line.length === 0) break;
    const c0 = line.charCodeAt(0);
    if ((c0 === 0x20 || c0 === 0x09) && fields.length > 0) {
      // obs-fold (RFC 9112 §5.2): replace the fold with a space, append to the previous value.
      const prev = fields[fields.length - 1];
      fields[fields.length - 1] = { name: prev.name, key: prev.key, value: `${prev.value} ${line.trim()}` };
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      badLines++;
      continue;
    }
    const name = line.slice(0, colon).trim();
    fields.push({ name, key: name.toLowerCase(), value: line.slice(colon + 1).trim() });
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
  const parts = startLine.split(' ');
  const method = parts[0];
  if (method.length === 0) return { ok: false, reason: 'bad request line' };
  const version = parts.length >= 3 ? parts[parts.length - 1] : '';
  const target = parts.length >= 3 ? parts.slice(1, -1).join(' ') : (parts[1] ?? '');
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
