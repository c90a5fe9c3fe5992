/**
 * Reads one direction of a Redis connection into whole RESP messages (RESP2 and RESP3), as the
 * bytes arrive, whatever their cut into segments. Bounded whatever the peer claims: a bulk string
 * is streamed through and only its first bytes kept (a budget per message), aggregates keep their
 * first elements, nesting and line lengths are capped; bad bytes are reported and the reader
 * resynchronises at the next line where a message plausibly starts (`startsMessage`).
 *
 * A client sends arrays of bulk strings, or inline commands (a line of words, `PING\r\n`), which
 * are read as an array of their words.
 */
import { isAggregate, type AggregateKind, type RespNode, type RespValue } from './resp-value.ts';
import { printable } from './text.ts';

const CR = 0x0d;
const LF = 0x0a;
/** A header or inline line longer than this is not RESP (Redis's own inline limit is 64 KiB). */
export const MAX_LINE_BYTES = 64 * 1024;
/** Redis refuses bulk strings longer than 512 MB (proto-max-bulk-len). */
export const MAX_BULK_BYTES = 512 * 1024 * 1024;
/** Nesting deeper than this is refused (Redis replies nest a few levels at most). */
export const MAX_DEPTH = 32;
/** Values kept per message (elements past it are counted, not kept). */
export const MAX_NODES_KEPT = 4096;
/** Aggregate lengths above this are not believed. */
const MAX_COUNT = 0x7fffffff;
/** Bytes a resync scan may wait for before it decides (the checks read a short prefix). */
const MAX_SCAN_HOLD = 256;

export interface RespMessage {
  readonly value: RespNode;
  /** A client's inline command (a line of words), read as an array of bulk strings. */
  readonly inline: boolean;
  /** Capture time of its first and last bytes (µs). */
  readonly startUs: number;
  readonly endUs: number;
  /** Bytes on the wire, header to final CRLF. */
  readonly wireBytes: number;
  /** Bytes of string content kept (what the message holds in memory, about). */
  readonly keptBytes: number;
  /** Offset of its first byte in the direction's stream (bytes delivered or lost before it). */
  readonly offset: number;
}

/** Whether a message plausibly starts at `bytes[0]` (for resynchronising): pure and bounded. */
export type StartCheck = (bytes: Uint8Array) => 'yes' | 'no' | 'more';

export interface RespReaderOptions {
  /** Client side: inline commands are read (a server never sends them). */
  readonly client: boolean;
  /** Bytes of strings kept per message, asked as each message starts; the rest is counted. */
  readonly maxKeepBytes: () => number;
  /** Where a message starts, when the reader has lost its place (joined midway, a gap, bad bytes). */
  readonly startsMessage: StartCheck;
  /** Starts without knowing where messages begin (the capture joined the connection midway). */
  readonly unsynced?: boolean;
}

export interface RespSink {
  message(m: RespMessage): void;
  /** Bytes that are not RESP: the reader resynchronises after them. */
  violation(why: string): void;
}

interface Frame {
  readonly kind: AggregateKind | 'attribute';
  /** Values the aggregate holds: its count, doubled for maps and attributes. */
  readonly expected: number;
  seen: number;
  readonly items: RespValue[];
}

interface Bulk {
  readonly kind: 'bulk' | 'bulkError' | 'verbatim';
  readonly size: number;
  remaining: number;
  /** Bytes of the final CRLF seen. */
  crlf: number;
  readonly chunks: Uint8Array[];
  kept: number;
}

const EMPTY = new Uint8Array(0);

export class RespReader {
  readonly #opts: RespReaderOptions;
  readonly #sink: RespSink;
  #synced: boolean;
  /** A partial line carried to the next chunk (copied), and the time its first byte came. */
  #held: Uint8Array = EMPTY;
  #heldUs = 0;
  #stack: Frame[] = [];
  #bulk: Bulk | null = null;
  #attributes: RespValue | undefined;
  /** The current message: its start time (-1 when none is in progress), bytes, kept budget. */
  #startUs = -1;
  #startOffset = 0;
  /** Bytes of the direction so far, delivered or lost. */
  #streamBytes = 0;
  #wireBytes = 0;
  #keptBytes = 0;
  #keptNodes = 0;
  /** The current message's budget of kept string bytes. */
  #budget = 0;
  #inline = false;

  constructor(opts: RespReaderOptions, sink: RespSink) {
    this.#opts = opts;
    this.#sink = sink;
    this.#synced = opts.unsynced !== true;
  }

  /** True while the reader knows where messages start. */
  get synced(): boolean {
    return this.#synced;
  }

  /** True when a message is partly read (some of its bytes came). */
  get midMessage(): boolean {
    return this.#startUs >= 0 || this.#held.length > 0;
  }

  data(chunk: Uint8Array, tsUs: number): void {
    const base = this.#streamBytes - this.#held.length;
    this.#streamBytes += chunk.length;
    let buf = chunk;
    if (this.#held.length > 0) {
      buf = new Uint8Array(this.#held.length + chunk.length);
      buf.set(this.#held);
      buf.set(chunk, this.#held.length);
      this.#held = EMPTY;
    } else {
      this.#heldUs = tsUs;
    }
    let pos = 0;
    while (pos < buf.length) {
      if (this.#bulk !== null) {
        pos = this.#consumeBulk(buf, pos, tsUs);
        continue;
      }
      if (!this.#synced) {
        const at = this.#findStart(buf, pos, tsUs);
        if (at < 0) return;
        pos = at;
        this.#synced = true;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf < 0 || lf - pos > MAX_LINE_BYTES) {
        if (buf.length - pos > MAX_LINE_BYTES) {
          this.#bad('a line longer than 64 KiB');
          pos = lf < 0 ? buf.length : lf + 1;
          continue;
        }
        return this.#hold(buf.subarray(pos), pos === 0, tsUs);
      }
      if (this.#startUs < 0) {
        this.#startUs = pos === 0 ? this.#heldUs : tsUs;
        this.#startOffset = base + pos;
        this.#wireBytes = 0;
        this.#keptBytes = 0;
        this.#keptNodes = 0;
        this.#budget = Math.max(0, this.#opts.maxKeepBytes());
      }
      this.#wireBytes += lf + 1 - pos;
      this.#line(buf, pos, lf, tsUs);
      pos = lf + 1;
    }
  }

  /** Bytes were lost: whatever was in progress is dropped, and the reader looks for a start again. */
  gap(lostBytes: number): void {
    this.#streamBytes += lostBytes;
    this.#reset();
    this.#synced = false;
  }

  /** Keeps a partial line for the next chunk (a copy: the chunk's view is only valid during the call). */
  #hold(rest: Uint8Array, fromStart: boolean, tsUs: number): void {
    this.#held = new Uint8Array(rest);
    if (!fromStart) this.#heldUs = tsUs;
  }

  #reset(): void {
    this.#held = EMPTY;
    this.#stack = [];
    this.#bulk = null;
    this.#attributes = undefined;
    this.#startUs = -1;
    this.#inline = false;
  }

  #bad(why: string): void {
    this.#reset();
    this.#synced = false;
    this.#sink.violation(why);
  }

  /**
   * The first offset from `pos` (the chunk's start, or a line's start) where a message plausibly
   * starts; -1 when none does (the bytes are dropped) or when the check needs more bytes than are
   * here (the candidate is held for the next chunk).
   */
  #findStart(buf: Uint8Array, pos: number, tsUs: number): number {
    let i = pos;
    while (i < buf.length) {
      const verdict = this.#opts.startsMessage(buf.subarray(i, i + MAX_SCAN_HOLD));
      if (verdict === 'yes') return i;
      if (verdict === 'more' && buf.length - i < MAX_SCAN_HOLD) {
        // Keep the candidate and what follows it for the next chunk.
        this.#hold(buf.subarray(i), i === 0, tsUs);
        return -1;
      }
      const lf = buf.indexOf(LF, i);
      if (lf < 0) return -1;
      i = lf + 1;
    }
    return -1;
  }

  /** One line, `buf[pos..lf]` (LF included): a header, or a whole inline command. */
  #line(buf: Uint8Array, pos: number, lf: number, tsUs: number): void {
    const type = buf[pos]!;
    const atTop = this.#stack.length === 0 && this.#attributes === undefined;
    if (this.#opts.client && atTop && type !== 0x2a /* * */) return this.#inlineCommand(buf, pos, lf, tsUs);
    if (lf === pos || buf[lf - 1] !== CR) return this.#bad('a RESP line not ended by CRLF');
    const from = pos + 1;
    const to = lf - 1;
    switch (type) {
      case 0x2b /* + */:
        return this.#complete({ kind: 'simple', text: this.#lineText(buf, from, to) }, tsUs);
      case 0x2d /* - */:
        return this.#complete({ kind: 'error', text: this.#lineText(buf, from, to) }, tsUs);
      case 0x3a /* : */:
      case 0x28 /* ( */: {
        const text = asciiOf(buf, from, to);
        if (!/^[+-]?\d{1,400}$/.test(text)) return this.#bad('a RESP integer that is not one');
        return this.#complete({ kind: type === 0x3a ? 'integer' : 'bignum', text }, tsUs);
      }
      case 0x2c /* , */: {
        const text = asciiOf(buf, from, to);
        if (!/^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?inf|nan)$/i.test(text)) return this.#bad('a RESP double that is not one');
        return this.#complete({ kind: 'double', text }, tsUs);
      }
      case 0x23 /* # */: {
        const text = asciiOf(buf, from, to);
        if (text !== 't' && text !== 'f') return this.#bad('a RESP boolean that is not #t or #f');
        return this.#complete({ kind: 'boolean', value: text === 't' }, tsUs);
      }
      case 0x5f /* _ */:
        if (to !== from) return this.#bad('a RESP null with data');
        return this.#complete({ kind: 'null', of: 'null' }, tsUs);
      case 0x24 /* $ */:
      case 0x21 /* ! */:
      case 0x3d /* = */: {
        const n = countOf(buf, from, to);
        if (n === -1 && type === 0x24) return this.#complete({ kind: 'null', of: 'bulk' }, tsUs);
        if (n < 0 || n > MAX_BULK_BYTES) return this.#bad('a RESP bulk length out of range');
        const kind = type === 0x24 ? 'bulk' : type === 0x21 ? 'bulkError' : 'verbatim';
        this.#bulk = { kind, size: n, remaining: n, crlf: 0, chunks: [], kept: 0 };
        return;
      }
      case 0x2a /* * */:
      case 0x7e /* ~ */:
      case 0x3e /* > */:
      case 0x25 /* % */:
      case 0x7c /* | */: {
        const n = countOf(buf, from, to);
        if (n === -1 && type === 0x2a) return this.#complete({ kind: 'null', of: 'array' }, tsUs);
        if (n < 0 || n > MAX_COUNT) return this.#bad('a RESP aggregate length out of range');
        if (this.#stack.length >= MAX_DEPTH) return this.#bad(`RESP nested deeper than ${MAX_DEPTH}`);
        const kind = type === 0x2a ? 'array' : type === 0x7e ? 'set' : type === 0x3e ? 'push' : type === 0x25 ? 'map' : 'attribute';
        const expected = kind === 'map' || kind === 'attribute' ? n * 2 : n;
        this.#stack.push({ kind, expected, seen: 0, items: [] });
        if (expected === 0) this.#closeEmpty(tsUs);
        return;
      }
      default:
        return this.#bad('a byte that starts no RESP type');
    }
  }

  /** An aggregate announced with no elements is complete at once. */
  #closeEmpty(tsUs: number): void {
    const top = this.#stack.pop()!;
    if (top.kind === 'attribute') {
      this.#attributes = { kind: 'map', length: 0, items: [] };
      return;
    }
    this.#complete({ kind: top.kind, length: 0, items: [] }, tsUs);
  }

  /** An inline command: words separated by spaces, "double" or 'single' quoted ones kept whole. */
  #inlineCommand(buf: Uint8Array, pos: number, lf: number, tsUs: number): void {
    const end = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
    const words = inlineWords(buf.subarray(pos, end));
    if (words === null) return this.#bad('an inline command with unbalanced quotes');
    // Redis skips empty lines between commands.
    if (words.length === 0) {
      this.#startUs = -1;
      return;
    }
    this.#inline = true;
    const items: RespValue[] = [];
    for (const w of words) {
      if (items.length >= MAX_NODES_KEPT) break;
      const keep = Math.min(w.length, Math.max(0, this.#budget - this.#keptBytes));
      this.#keptBytes += keep;
      items.push({ kind: 'bulk', bytes: w.subarray(0, keep), size: w.length, truncated: keep < w.length });
    }
    this.#complete({ kind: 'array', length: words.length, items }, tsUs);
  }

  /** A simple string or error line, within the message's budget. */
  #lineText(buf: Uint8Array, from: number, to: number): string {
    const keep = Math.min(to - from, Math.max(0, this.#budget - this.#keptBytes));
    this.#keptBytes += keep;
    return printable(buf.subarray(from, from + keep)) + (keep < to - from ? '…' : '');
  }

  #consumeBulk(buf: Uint8Array, pos: number, tsUs: number): number {
    const b = this.#bulk!;
    if (b.remaining > 0) {
      const take = Math.min(b.remaining, buf.length - pos);
      const room = Math.min(take, Math.max(0, this.#budget - this.#keptBytes));
      if (room > 0) {
        b.chunks.push(new Uint8Array(buf.subarray(pos, pos + room)));
        b.kept += room;
        this.#keptBytes += room;
      }
      b.remaining -= take;
      this.#wireBytes += take;
      return pos + take;
    }
    while (b.crlf < 2 && pos < buf.length) {
      if (buf[pos] !== (b.crlf === 0 ? CR : LF)) {
        this.#bad('a RESP bulk string not ended by CRLF');
        return pos;
      }
      b.crlf++;
      pos++;
      this.#wireBytes++;
    }
    if (b.crlf === 2) {
      this.#bulk = null;
      this.#complete(bulkValue(b), tsUs);
    }
    return pos;
  }

  /** A value is whole: it goes into its aggregate, or, at the top, makes a message. */
  #complete(value: RespValue, tsUs: number): void {
    let v: RespNode = value;
    if (this.#attributes !== undefined) {
      v = { ...value, attributes: this.#attributes };
      this.#attributes = undefined;
    }
    for (;;) {
      const top = this.#stack[this.#stack.length - 1];
      if (top === undefined) {
        const m: RespMessage = { value: v, inline: this.#inline, startUs: this.#startUs, endUs: tsUs, wireBytes: this.#wireBytes, keptBytes: this.#keptBytes, offset: this.#startOffset };
        this.#startUs = -1;
        this.#inline = false;
        this.#sink.message(m);
        return;
      }
      top.seen++;
      if (this.#keptNodes < MAX_NODES_KEPT) {
        top.items.push(v);
        this.#keptNodes++;
      }
      if (top.seen < top.expected) return;
      this.#stack.pop();
      if (top.kind === 'attribute') {
        this.#attributes = { kind: 'map', length: top.expected / 2, items: top.items };
        return;
      }
      v = { kind: top.kind, length: top.kind === 'map' ? top.expected / 2 : top.expected, items: top.items };
    }
  }
}

function bulkValue(b: Bulk): RespValue {
  let bytes: Uint8Array;
  if (b.chunks.length === 1) bytes = b.chunks[0]!;
  else {
    bytes = new Uint8Array(b.kept);
    let at = 0;
    for (const c of b.chunks) {
      bytes.set(c, at);
      at += c.length;
    }
  }
  const truncated = b.kept < b.size;
  if (b.kind === 'verbatim' && bytes.length >= 4 && bytes[3] === 0x3a /* : */) {
    return { kind: 'verbatim', format: asciiOf(bytes, 0, 3), bytes: bytes.subarray(4), size: b.size - 4, truncated };
  }
  return { kind: b.kind, bytes, size: b.size, truncated };
}

/** Bytes [from, to) as ASCII text (only called on short header lines). */
function asciiOf(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to && i < from + 512; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** A length or count: decimal digits, or -1; -2 when it is not one. */
function countOf(buf: Uint8Array, from: number, to: number): number {
  if (to - from === 2 && buf[from] === 0x2d && buf[from + 1] === 0x31) return -1;
  if (to === from || to - from > 10) return -2;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -2;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The words of an inline command line (Redis's sdssplitargs): spaces and tabs separate words;
 * "double quoted" words take \n \r \t \b \a \\ \" and \xHH escapes, 'single quoted' ones \'.
 * Null when quotes are unbalanced (Redis answers "unbalanced quotes in request").
 */
export function inlineWords(line: Uint8Array): Uint8Array[] | null {
  const words: Uint8Array[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === 0x20 || line[i] === 0x09)) i++;
    if (i >= n) break;
    const out: number[] = [];
    const quote = line[i] === 0x22 || line[i] === 0x27 ? line[i]! : 0;
    if (quote !== 0) i++;
    let closed = quote === 0;
    while (i < n) {
      const c = line[i]!;
      if (quote === 0) {
        if (c === 0x20 || c === 0x09) break;
        out.push(c);
        i++;
        continue;
      }
      if (c === 0x5c /* \ */ && i + 1 < n) {
        const e = line[i + 1]!;
        if (quote === 0x22 && e === 0x78 /* x */ && i + 3 < n && isHex(line[i + 2]!) && isHex(line[i + 3]!)) {
          out.push(parseInt(String.fromCharCode(line[i + 2]!, line[i + 3]!), 16));
          i += 4;
          continue;
        }
        if (quote === 0x22) out.push(ESCAPES[e] ?? e);
        else if (e === 0x27) out.push(0x27);
        else out.push(c, e);
        i += 2;
        continue;
      }
      if (c === quote) {
        closed = true;
        i++;
        // A closing quote must be followed by a space or the end (Redis's rule).
        if (i < n && line[i] !== 0x20 && line[i] !== 0x09) return null;
        break;
      }
      out.push(c);
      i++;
    }
    if (!closed) return null;
    words.push(Uint8Array.from(out));
  }
  return words;
}

const ESCAPES: Readonly<Record<number, number>> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Elements of an aggregate as kept (empty for scalars). */
export function itemsOf(v: RespValue): readonly RespValue[] {
  return isAggregate(v) ? v.items : [];
}
