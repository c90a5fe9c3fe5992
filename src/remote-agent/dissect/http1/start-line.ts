/**
 * Recognising where an HTTP/1.x message begins, on raw bytes (no string building).
 *
 * Used three ways: by `sniff` (is this connection HTTP/1?), by the parser at a message boundary
 * (is this a request line or garbage?) and by the parser when resynchronising after a gap, an
 * error or a capture that started mid-connection (is a message starting right after this LF?).
 * Being strict here is what makes resync safe: a body line rarely ends in " HTTP/1.x\r\n".
 */
import type { SniffResult } from '../dissector.ts';

export type StartKind = 'request' | 'response';
/** `'more'`: the bytes end before a decision; everything seen so far fits a start line. */
export type StartCheck = StartKind | 'no' | 'more';

/** Longest request line we accept while looking for a start (RFC 9112 §3 suggests >= 8000). */
export const MAX_START_LINE = 16 * 1024;
/** How much of a direction `sniff` reads before it answers 'no'. */
export const SNIFF_LIMIT = 4096;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;

/** tchar (RFC 9110 §5.6.2): the characters of a method token. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

const HTTP1 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e]; // "HTTP/1."

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** Compares `bytes[off..]` with "HTTP/1.x"; 'more' when the bytes end first. */
function checkVersion(bytes: Uint8Array, off: number, end: number): 'yes' | 'no' | 'more' {
  for (let i = 0; i < 8; i++) {
    if (off + i >= end) return 'more';
    const b = bytes[off + i];
    if (i < 7 ? b !== HTTP1[i] : !isDigit(b)) return 'no';
  }
  return 'yes';
}

/** "HTTP/1.x SP 3DIGIT (SP | CR | LF)" — RFC 9112 §4. */
function checkStatusLine(bytes: Uint8Array, off: number, end: number): StartCheck {
  const v = checkVersion(bytes, off, end);
  if (v !== 'yes') return v;
  for (let i = 8; i < 13; i++) {
    if (off + i >= end) return 'more';
    const b = bytes[off + i];
    if (i === 8 ? b !== SP : i < 12 ? !isDigit(b) : b !== SP && b !== CR && b !== LF) return 'no';
  }
  return 'response';
}

/** "method SP request-target SP HTTP/1.x (CRLF | LF)" — RFC 9112 §3. */
function checkRequestLine(bytes: Uint8Array, off: number, end: number): StartCheck {
  let i = off;
  const methodLimit = off + 32;
  while (i < end && i < methodLimit && TCHAR[bytes[i]] === 1) i++;
  if (i === end) return 'more';
  if (i === off || bytes[i] !== SP) return 'no';
  const targetStart = ++i;
  // The target is any visible byte (obs-text included); it ends at the next SP.
  const limit = Math.min(end, off + MAX_START_LINE);
  while (i < limit && bytes[i] > SP && bytes[i] !== 0x7f) i++;
  if (i === end) return 'more';
  if (i === limit || i === targetStart || bytes[i] !== SP) return 'no';
  const v = checkVersion(bytes, i + 1, end);
  if (v !== 'yes') return v;
  const after = i + 9;
  if (after >= end) return 'more';
  if (bytes[after] === LF) return 'request';
  if (bytes[after] !== CR) return 'no';
  if (after + 1 >= end) return 'more';
  return bytes[after + 1] === LF ? 'request' : 'no';
}

/** Does an HTTP/1.x start line begin at `off`? Reads at most one line. */
export function checkStartLine(bytes: Uint8Array, off: number, end: number = bytes.length): StartCheck {
  if (off >= end) return 'more';
  // A request method could also begin with 'H' ("HEAD"), so only "HTTP/" decides the kind.
  if (bytes[off] === 0x48) {
    const s = checkStatusLine(bytes, off, end);
    if (s !== 'no') return s;
  }
  return checkRequestLine(bytes, off, end);
}

export interface FoundStart {
  /** Offset of the start line, or of the candidate that needs more bytes. */
  readonly offset: number;
  readonly result: StartKind | 'more';
}

/**
 * Looks for a start line at `from` (when `atLineStart`) and after every LF up to `end`.
 * Returns null when there is none, not even a partial candidate at the very end.
 */
export function findStartLine(
  bytes: Uint8Array,
  from: number,
  end: number,
  atLineStart: boolean,
  accept: (kind: StartKind) => boolean,
): FoundStart | null {
  let c = from;
  if (!atLineStart) {
    const lf = bytes.indexOf(LF, from);
    if (lf < 0 || lf >= end) return null;
    c = lf + 1;
  }
  while (c < end) {
    const r = checkStartLine(bytes, c, end);
    if (r === 'more') return { offset: c, result: 'more' };
    if (r !== 'no' && accept(r)) return { offset: c, result: r };
    const lf = bytes.indexOf(LF, c);
    if (lf < 0 || lf >= end) return null;
    c = lf + 1;
  }
  // The bytes end right after an LF: the next chunk may start a message.
  return { offset: end, result: 'more' };
}

/**
 * Looks for a status line anywhere from `from`, not only after an LF: a response follows the last
 * byte of the previous body directly, and a body rarely ends in a newline (JSON, gzip). Only for a
 * direction known to carry responses, while resynchronising; the full status line check ("HTTP/1.x
 * 3DIGIT SP") keeps false starts inside bodies rare. A partial "HTTP/1." at `end` is 'more'.
 */
export function findStatusLine(bytes: Uint8Array, from: number, end: number): FoundStart | null {
  let c = from;
  while (c < end) {
    const h = bytes.indexOf(0x48, c); // 'H'
    if (h < 0 || h >= end) return null;
    const r = checkStatusLine(bytes, h, end);
    if (r !== 'no') return { offset: h, result: r === 'more' ? 'more' : 'response' };
    c = h + 1;
  }
  return null;
}

/**
 * Registered methods (IANA HTTP Method Registry) plus CCM_POST (Cisco) and PURGE (caches).
 * Only used where a message must start: there tshark, and servers, accept a request whose line is
 * malformed after the method ("OPTIONS\n", "GET /HTTP/1.1\n"); we do too, so the server's error
 * response pairs with it. Never used while resynchronising, where it would find false starts.
 */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'ACL', 'BASELINE-CONTROL', 'BIND', 'CCM_POST', 'CHECKIN', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET',
  'HEAD', 'LABEL', 'LINK', 'LOCK', 'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MKREDIRECTREF',
  'MKWORKSPACE', 'MOVE', 'OPTIONS', 'ORDERPATCH', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE',
  'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'TRACE', 'UNBIND', 'UNCHECKOUT', 'UNLINK', 'UNLOCK',
  'UPDATE', 'UPDATEREDIRECTREF', 'VERSION-CONTROL',
]);
const LONGEST_METHOD = 17;

/** A known method followed by SP or the line end: a request even if the rest is malformed. */
export function checkLenientRequestLine(bytes: Uint8Array, off: number, end: number = bytes.length): StartCheck {
  let i = off;
  while (i < end && i - off <= LONGEST_METHOD && TCHAR[bytes[i]] === 1) i++;
  if (i - off > LONGEST_METHOD || i === off) return 'no';
  if (i === end) return isKnownMethodPrefix(bytes, off, i) ? 'more' : 'no';
  const b = bytes[i];
  if (b !== SP && b !== CR && b !== LF) return 'no';
  return KNOWN_METHODS.has(Buffer.from(bytes.buffer, bytes.byteOffset + off, i - off).toString('latin1')) ? 'request' : 'no';
}

function isKnownMethodPrefix(bytes: Uint8Array, off: number, end: number): boolean {
  const prefix = Buffer.from(bytes.buffer, bytes.byteOffset + off, end - off).toString('latin1');
  for (const m of KNOWN_METHODS) if (m.startsWith(prefix)) return true;
  return false;
}

/** At a message boundary: a strict start line, else a lenient request line. */
export function checkMessageStart(bytes: Uint8Array, off: number, end: number = bytes.length): StartCheck {
  const strict = checkStartLine(bytes, off, end);
  if (strict !== 'no') return strict;
  return checkLenientRequestLine(bytes, off, end);
}

/**
 * Where the request line found at `off` really starts, for a start found where messages are not
 * known to begin: the first byte of a capture that joined mid-connection, or a line after an LF
 * while resynchronising. There a request line may be cut ("ET /a HTTP/1.1": the capture began
 * after the G) or glued to a body's last line ("okGET /a HTTP/1.1": a body without a final
 * newline), and both are well-formed request lines. So the method must be a known one, and a
 * token that ends with one starts there (the longest: UNLOCK, not LOCK; never right after "-" or
 * "_", which join the words of one token). -1 when none ends it.
 */
export function knownMethodAt(bytes: Uint8Array, off: number, end: number = bytes.length): number {
  let tokenEnd = off;
  while (tokenEnd < end && TCHAR[bytes[tokenEnd]] === 1) tokenEnd++;
  for (let at = Math.max(off, tokenEnd - LONGEST_METHOD); at < tokenEnd; at++) {
    // "-" and "_" join the words of one token (M-SEARCH is not SEARCH): no method starts after them.
    if (at > off && (bytes[at - 1] === 0x2d || bytes[at - 1] === 0x5f)) continue;
    if (KNOWN_METHODS.has(Buffer.from(bytes.buffer, bytes.byteOffset + at, tokenEnd - at).toString('latin1'))) return at;
  }
  return -1;
}

const anyKind = (): boolean => true;

/**
 * HTTP/1 detection on the first bytes of one direction. A message at the start (after blank
 * lines) matches; so does one after an LF inside the prefix, for captures that start in the
 * middle of a connection. Binary-looking prefixes (TLS, HTTP/2 frames) are rejected early so the
 * registry does not keep buffering them.
 */
export function sniffHttp1(prefix: Uint8Array): SniffResult {
  const end = Math.min(prefix.length, SNIFF_LIMIT);
  let off = 0;
  while (off < end && (prefix[off] === CR || prefix[off] === LF)) off++;
  if (off === end) return end >= SNIFF_LIMIT ? 'no' : 'more';
  const first = checkMessageStart(prefix, off, end);
  if (first === 'request' || first === 'response') return 'match';
  if (first === 'more') return end >= SNIFF_LIMIT ? 'no' : 'more';
  const found = findStartLine(prefix, off, end, false, anyKind);
  if (found !== null && found.result !== 'more') return 'match';
  if (found === null && looksBinary(prefix, off, Math.min(end, off + 64))) return 'no';
  return end >= SNIFF_LIMIT ? 'no' : 'more';
}

/** A control byte other than TAB/CR/LF among the first bytes: not a text protocol line. */
function looksBinary(bytes: Uint8Array, from: number, end: number): boolean {
  for (let i = from; i < end; i++) {
    const b = bytes[i];
    if ((b < SP && b !== 0x09 && b !== LF && b !== CR) || b === 0x7f) return true;
  }
  return false;
}
