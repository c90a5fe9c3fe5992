/**
 * Parse stage: one MongoDB wire protocol message (www.mongodb.com/docs/manual/reference/
 * mongodb-wire-protocol/), whole or cut by the keep limit, into its parts: header, flags, the
 * BSON documents as byte ranges (decoded later, documents.ts), OP_COMPRESSED opened. Never throws:
 * what does not parse is named in `problem`.
 */
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { documentLength } from './bson-scan.ts';

export const HEADER_BYTES = 16;
/** MongoDB refuses messages over 48,000,000 bytes (maxMessageSizeBytes). */
export const MAX_MESSAGE_BYTES = 48_000_000;

export const OP = {
  REPLY: 1,
  UPDATE: 2001,
  INSERT: 2002,
  QUERY: 2004,
  GET_MORE: 2005,
  DELETE: 2006,
  KILL_CURSORS: 2007,
  COMPRESSED: 2012,
  MSG: 2013,
} as const;

const OPCODE_NAMES: Readonly<Record<number, string>> = {
  [OP.REPLY]: 'OP_REPLY',
  [OP.UPDATE]: 'OP_UPDATE',
  [OP.INSERT]: 'OP_INSERT',
  [OP.QUERY]: 'OP_QUERY',
  [OP.GET_MORE]: 'OP_GET_MORE',
  [OP.DELETE]: 'OP_DELETE',
  [OP.KILL_CURSORS]: 'OP_KILL_CURSORS',
  [OP.COMPRESSED]: 'OP_COMPRESSED',
  [OP.MSG]: 'OP_MSG',
};

export function isKnownOpcode(op: number): boolean {
  return OPCODE_NAMES[op] !== undefined;
}

export function opcodeName(op: number): string {
  return OPCODE_NAMES[op] ?? `OP_${op}`;
}

/** OP_MSG flag bits; bits 0-15 are "required": a receiver must refuse unknown ones. */
const MSG_FLAGS: readonly [number, string][] = [[0, 'checksumPresent'], [1, 'moreToCome'], [16, 'exhaustAllowed']];
const MSG_KNOWN_BITS = (1 << 0) | (1 << 1) | (1 << 16);
const MSG_REQUIRED_BITS = 0xffff;
const QUERY_FLAGS: readonly [number, string][] = [
  [1, 'tailableCursor'], [2, 'slaveOk'], [3, 'oplogReplay'], [4, 'noCursorTimeout'], [5, 'awaitData'], [6, 'exhaust'], [7, 'partial'],
];
const REPLY_FLAGS: readonly [number, string][] = [[0, 'cursorNotFound'], [1, 'queryFailure'], [2, 'shardConfigStale'], [3, 'awaitCapable']];

const COMPRESSORS: Readonly<Record<number, string>> = { 0: 'noop', 1: 'snappy', 2: 'zlib', 3: 'zstd' };

/** True when this flag-bit word of an OP_MSG is one a server would accept. */
export function plausibleMsgFlags(bits: number): boolean {
  return (bits & MSG_REQUIRED_BITS & ~MSG_KNOWN_BITS) === 0;
}

/** A BSON document's bytes in a message: `complete` when all of it was kept. */
export interface DocumentBytes {
  readonly bytes: Uint8Array;
  /** Its length on the wire (as declared). */
  readonly size: number;
  readonly complete: boolean;
}

export interface DocumentRun {
  readonly documents: DocumentBytes[];
  /** Bytes of the run on the wire (documents cut away by the keep limit included). */
  readonly size: number;
  /** Documents beyond those kept are not counted: true when the run was cut. */
  readonly cut: boolean;
}

export interface WireSequence extends DocumentRun {
  readonly identifier: string;
}

export interface WireMessage {
  readonly length: number;
  readonly requestId: number;
  readonly responseTo: number;
  /** The opcode of the message itself: the original one when it came compressed. */
  readonly opcode: number;
  readonly compressor?: string;
  /** False when a compressed message could not be opened (its parts below are empty). */
  readonly decoded: boolean;
  readonly flagBits: number;
  readonly flags: string[];
  /** OP_MSG section 0, OP_QUERY query, OP_UPDATE/OP_DELETE selector: the document a command reads. */
  readonly body: DocumentBytes | null;
  /** OP_MSG kind 1 sections. */
  readonly sequences: WireSequence[];
  /** OP_REPLY documents, OP_INSERT documents, OP_UPDATE's update. */
  readonly documents: DocumentRun | null;
  readonly fullCollectionName?: string;
  readonly cursorId?: bigint;
  readonly numberReturned?: number;
  /** Why (part of) the message did not parse; absent when it did. */
  readonly problem?: string;
}

function int32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

function uint32(b: Uint8Array, at: number): number {
  return int32(b, at) >>> 0;
}

function namesOf(bits: number, table: readonly [number, string][]): string[] {
  const names: string[] = [];
  for (const [bit, name] of table) if (bits & (2 ** bit)) names.push(name);
  return names;
}

/** The declared length of a message starting at `b[0]`, when its header is plausible. */
export function plausibleHeader(b: Uint8Array, at = 0): { length: number; opcode: number; responseTo: number } | null {
  if (at + HEADER_BYTES > b.length) return null;
  const length = int32(b, at);
  const opcode = int32(b, at + 12);
  if (length < HEADER_BYTES + 4 || length > MAX_MESSAGE_BYTES || !isKnownOpcode(opcode)) return null;
  return { length, opcode, responseTo: int32(b, at + 8) };
}

/** Limits of what parsing produces. */
export interface ParseLimits {
  /** Bytes of a decompressed message kept (as the framer keeps of a plain one). */
  readonly maxKeepBytes: number;
}

/**
 * `bytes`: the message's first bytes (header included), all of it unless `truncated`; `length`:
 * its length on the wire.
 */
export function parseWireMessage(bytes: Uint8Array, length: number, truncated: boolean, limits: ParseLimits): WireMessage {
  const requestId = int32(bytes, 4);
  const responseTo = int32(bytes, 8);
  const opcode = int32(bytes, 12);
  const base = { length, requestId, responseTo };
  if (opcode === OP.COMPRESSED) return parseCompressed(bytes, truncated, limits, base);
  return parseBody(opcode, bytes.subarray(HEADER_BYTES), !truncated, base, {});
}

interface Base {
  readonly length: number;
  readonly requestId: number;
  readonly responseTo: number;
}

function empty(opcode: number, base: Base, extra: Partial<WireMessage>): WireMessage {
  return { ...base, opcode, decoded: true, flagBits: 0, flags: [], body: null, sequences: [], documents: null, ...extra };
}

function parseCompressed(bytes: Uint8Array, truncated: boolean, limits: ParseLimits, base: Base): WireMessage {
  if (bytes.length < HEADER_BYTES + 9) return empty(OP.COMPRESSED, base, { decoded: false, problem: 'OP_COMPRESSED header cut short' });
  const original = int32(bytes, 16);
  const uncompressedSize = int32(bytes, 20);
  const compressor = COMPRESSORS[bytes[24]!] ?? `compressor ${bytes[24]}`;
  const payload = bytes.subarray(25);
  const opaque = (problem?: string): WireMessage =>
    empty(original, base, { compressor, decoded: false, ...(problem === undefined ? {} : { problem }) });
  if (original === OP.COMPRESSED || !isKnownOpcode(original)) return opaque(`OP_COMPRESSED of unknown opcode ${original}`);
  if (uncompressedSize < 0 || uncompressedSize > MAX_MESSAGE_BYTES) return opaque(`OP_COMPRESSED uncompressed size ${uncompressedSize} out of range`);
  if (truncated) return opaque();
  // The size is declared up front: output past it (or past what is kept) is refused, not grown.
  if (uncompressedSize > limits.maxKeepBytes) return opaque();
  const inner = decompress(bytes[24]!, payload, uncompressedSize);
  if (inner === null) return opaque();
  if (inner instanceof Error) return opaque(`${compressor} payload does not decompress: ${inner.message}`);
  if (inner.length !== uncompressedSize) return opaque(`${compressor} payload decompresses to ${inner.length} bytes, header says ${uncompressedSize}`);
  return parseBody(original, inner, true, base, { compressor });
}

type ZstdDecompress = (buf: Uint8Array, options: { maxOutputLength: number }) => Buffer;
/** Node 24's zlib has zstd; looked up by name so that an older runtime without it shows the message compressed. */
const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: ZstdDecompress }).zstdDecompressSync;

/** The decompressed bytes; null when this compressor cannot be opened here (snappy), an Error when they are damaged. */
function decompress(id: number, payload: Uint8Array, size: number): Uint8Array | Error | null {
  try {
    const options = { maxOutputLength: Math.max(1, size) };
    switch (id) {
      case 0:
        return payload;
      case 2:
        return inflateSync(payload, { ...options, finishFlush: zlibConstants.Z_FINISH });
      case 3:
        return zstdDecompressSync === undefined ? null : zstdDecompressSync(payload, options);
      default:
        return null;
    }
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** `body`: the bytes after the header; `whole`: all of them are there. */
function parseBody(opcode: number, body: Uint8Array, whole: boolean, base: Base, extra: Partial<WireMessage>): WireMessage {
  const r = new Reader(body, whole);
  switch (opcode) {
    case OP.MSG:
      return parseMsg(r, base, extra);
    case OP.QUERY: {
      const flagBits = r.int32();
      const fullCollectionName = r.cstring();
      r.int32();
      r.int32();
      const query = r.document();
      return empty(opcode, base, { ...extra, flagBits, flags: namesOf(flagBits, QUERY_FLAGS), fullCollectionName, body: query, ...r.problemField() });
    }
    case OP.REPLY: {
      const flagBits = r.int32();
      const cursorId = r.int64();
      r.int32();
      const numberReturned = r.int32();
      const documents = r.documentRun(body.length);
      return empty(opcode, base, { ...extra, flagBits, flags: namesOf(flagBits, REPLY_FLAGS), cursorId, numberReturned, documents, ...r.problemField() });
    }
    case OP.GET_MORE: {
      r.int32();
      const fullCollectionName = r.cstring();
      r.int32();
      const cursorId = r.int64();
      return empty(opcode, base, { ...extra, fullCollectionName, cursorId, ...r.problemField() });
    }
    case OP.INSERT: {
      const flagBits = r.int32();
      const fullCollectionName = r.cstring();
      const documents = r.documentRun(body.length);
      return empty(opcode, base, { ...extra, flagBits, flags: flagBits & 1 ? ['continueOnError'] : [], fullCollectionName, documents, ...r.problemField() });
    }
    case OP.UPDATE: {
      r.int32();
      const fullCollectionName = r.cstring();
      const flagBits = r.int32();
      const selector = r.document();
      const documents = r.documentRun(body.length);
      const flags = namesOf(flagBits, [[0, 'upsert'], [1, 'multiUpdate']]);
      return empty(opcode, base, { ...extra, flagBits, flags, fullCollectionName, body: selector, documents, ...r.problemField() });
    }
    case OP.DELETE: {
      r.int32();
      const fullCollectionName = r.cstring();
      const flagBits = r.int32();
      const selector = r.document();
      return empty(opcode, base, { ...extra, flagBits, flags: flagBits & 1 ? ['singleRemove'] : [], fullCollectionName, body: selector, ...r.problemField() });
    }
    default:
      // OP_KILL_CURSORS: ids only, nothing a person reads.
      return empty(opcode, base, extra);
  }
}

function parseMsg(r: Reader, base: Base, extra: Partial<WireMessage>): WireMessage {
  const flagBits = r.uint32();
  const flags = namesOf(flagBits, MSG_FLAGS);
  if (!plausibleMsgFlags(flagBits)) r.fail(`OP_MSG required flag bits 0x${(flagBits & 0xffff).toString(16)} unknown`);
  // The checksum (CRC-32C) ends the message; it is not verified (the transport already was).
  const end = r.end - (flagBits & 1 && r.whole ? 4 : 0);
  let body: DocumentBytes | null = null;
  const sequences: WireSequence[] = [];
  while (r.ok && r.pos < end) {
    const kind = r.byte();
    if (kind === 0) {
      if (body !== null) r.fail('OP_MSG with two body sections');
      body = r.document();
    } else if (kind === 1) {
      const start = r.pos;
      const size = r.int32();
      if (!r.ok) break;
      if (size < 5 || start + size > end + (r.whole ? 0 : Infinity)) {
        r.fail(`OP_MSG document sequence size ${size} out of range`);
        break;
      }
      const identifier = r.cstring() ?? '';
      const docsStart = r.pos;
      const run = r.documentRun(Math.min(start + size, r.end));
      if (r.ok && r.pos !== start + size) r.fail(`OP_MSG document sequence ${identifier} does not end where its size says`);
      sequences.push({ identifier, documents: run.documents, cut: run.cut, size: Math.max(0, start + size - docsStart) });
    } else {
      r.fail(`OP_MSG section kind ${kind} unknown`);
    }
  }
  if (r.ok && body === null && r.whole) r.fail('OP_MSG without a body section');
  return empty(OP.MSG, base, { ...extra, flagBits, flags, body, sequences, ...r.problemField() });
}

/** A cursor over a message body; a read past the end (of a whole message) is a problem, not a throw. */
class Reader {
  readonly #b: Uint8Array;
  readonly whole: boolean;
  pos = 0;
  #problem: string | undefined;
  /** Reads stopped: a problem, or the kept bytes ran out (a cut message). */
  #stopped = false;

  constructor(b: Uint8Array, whole: boolean) {
    this.#b = b;
    this.whole = whole;
  }

  get end(): number {
    return this.#b.length;
  }

  get ok(): boolean {
    return !this.#stopped;
  }

  fail(problem: string): void {
    this.#problem ??= problem;
    this.#stopped = true;
  }

  problemField(): { problem?: string } {
    return this.#problem === undefined ? {} : { problem: this.#problem };
  }

  #need(n: number): boolean {
    if (this.#stopped) return false;
    if (this.pos + n <= this.#b.length) return true;
    if (this.whole) this.fail('message ends inside a field');
    else this.#stopped = true;
    return false;
  }

  byte(): number {
    if (!this.#need(1)) return 0;
    return this.#b[this.pos++]!;
  }

  int32(): number {
    if (!this.#need(4)) return 0;
    const v = int32(this.#b, this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  int64(): bigint {
    if (!this.#need(8)) return 0n;
    const v = new DataView(this.#b.buffer, this.#b.byteOffset + this.pos, 8).getBigInt64(0, true);
    this.pos += 8;
    return v;
  }

  cstring(): string | undefined {
    if (this.#stopped) return undefined;
    const nul = this.#b.indexOf(0, this.pos);
    if (nul < 0) {
      if (this.whole) this.fail('message ends inside a name');
      else this.#stopped = true;
      return undefined;
    }
    const s = Buffer.from(this.#b.buffer, this.#b.byteOffset + this.pos, nul - this.pos).toString('utf8');
    this.pos = nul + 1;
    return s;
  }

  /** One document; a cut one (message cut by the keep limit) is returned with what is there. */
  document(): DocumentBytes | null {
    if (!this.#need(4)) return null;
    const declared = int32(this.#b, this.pos);
    if (declared < 5) {
      this.fail(`document length ${declared} out of range`);
      return null;
    }
    const have = documentLength(this.#b, this.pos, this.#b.length);
    if (have < 0) {
      if (this.whole) {
        this.fail(`document length ${declared} runs past the message`);
        return null;
      }
      const doc = { bytes: this.#b.subarray(this.pos), size: declared, complete: false };
      this.pos = this.#b.length;
      this.#stopped = true;
      return doc;
    }
    const doc = { bytes: this.#b.subarray(this.pos, this.pos + declared), size: declared, complete: true };
    this.pos += declared;
    return doc;
  }

  /** Documents back to back until `stop`. */
  documentRun(stop: number): DocumentRun {
    const documents: DocumentBytes[] = [];
    const start = this.pos;
    let cut = false;
    while (this.ok && this.pos < stop) {
      const d = this.document();
      if (d === null) break;
      documents.push(d);
      if (!d.complete) cut = true;
    }
    if (!this.whole && this.#stopped && this.#problem === undefined) cut = true;
    return { documents, size: this.pos - start, cut };
  }
}
