/**
 * MongoDB wire protocol messages for tests, bodies encoded with the `bson` package: OP_MSG (with
 * document sequences, flags, a checksum), legacy OP_QUERY/OP_REPLY, OP_COMPRESSED (noop, zlib, zstd).
 * Used by the unit tests, the round-trip test's server, the fuzz test and the benchmark.
 */
import { serialize, type Document } from 'bson';
import { deflateSync } from 'node:zlib';
import * as zlib from 'node:zlib';

export const OP_REPLY = 1;
export const OP_INSERT = 2002;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const FLAG_CHECKSUM = 1 << 0;
export const FLAG_MORE_TO_COME = 1 << 1;
export const FLAG_EXHAUST_ALLOWED = 1 << 16;

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

function header(length: number, requestId: number, responseTo: number, opcode: number): Buffer {
  return Buffer.concat([int32(length), int32(requestId), int32(responseTo), int32(opcode)]);
}

export function withHeader(requestId: number, responseTo: number, opcode: number, body: Uint8Array): Buffer {
  return Buffer.concat([header(16 + body.length, requestId, responseTo, opcode), body]);
}

export interface MsgOptions {
  readonly requestId: number;
  readonly responseTo?: number;
  readonly flags?: number;
  readonly sequences?: readonly { identifier: string; documents: readonly Document[] }[];
}

/** The body of an OP_MSG (after the header). */
export function opMsgBody(body: Document, o: Omit<MsgOptions, 'requestId'> = {}): Buffer {
  const parts: Buffer[] = [int32(o.flags ?? 0), Buffer.from([0]), Buffer.from(serialize(body))];
  for (const s of o.sequences ?? []) {
    const docs = Buffer.concat(s.documents.map((d) => Buffer.from(serialize(d))));
    const id = Buffer.from(`${s.identifier}\0`, 'utf8');
    parts.push(Buffer.from([1]), int32(4 + id.length + docs.length), id, docs);
  }
  // The CRC-32C is not checked by the dissector: any four bytes stand for it.
  if ((o.flags ?? 0) & FLAG_CHECKSUM) parts.push(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  return Buffer.concat(parts);
}

export function opMsg(body: Document, o: MsgOptions): Buffer {
  return withHeader(o.requestId, o.responseTo ?? 0, OP_MSG, opMsgBody(body, o));
}

export function opQuery(requestId: number, fullCollectionName: string, query: Document, flags = 0, numberToReturn = -1): Buffer {
  const body = Buffer.concat([int32(flags), Buffer.from(`${fullCollectionName}\0`, 'utf8'), int32(0), int32(numberToReturn), Buffer.from(serialize(query))]);
  return withHeader(requestId, 0, OP_QUERY, body);
}

export function opReply(requestId: number, responseTo: number, documents: readonly Document[], flags = 0, cursorId = 0n): Buffer {
  const cursor = Buffer.alloc(8);
  cursor.writeBigInt64LE(cursorId);
  const docs = documents.map((d) => Buffer.from(serialize(d)));
  const body = Buffer.concat([int32(flags), cursor, int32(0), int32(documents.length), ...docs]);
  return withHeader(requestId, responseTo, OP_REPLY, body);
}

export function opInsert(requestId: number, fullCollectionName: string, documents: readonly Document[]): Buffer {
  const body = Buffer.concat([int32(0), Buffer.from(`${fullCollectionName}\0`, 'utf8'), ...documents.map((d) => Buffer.from(serialize(d)))]);
  return withHeader(requestId, 0, OP_INSERT, body);
}

export type Compressor = 'noop' | 'snappy' | 'zlib' | 'zstd';
const COMPRESSOR_IDS: Record<Compressor, number> = { noop: 0, snappy: 1, zlib: 2, zstd: 3 };

/** `message` (a whole message) wrapped in OP_COMPRESSED. snappy: the bytes are left as they are (no encoder here). */
export function opCompressed(message: Uint8Array, compressor: Compressor): Buffer {
  const m = Buffer.from(message);
  const inner = m.subarray(16);
  const requestId = m.readInt32LE(4);
  const responseTo = m.readInt32LE(8);
  const opcode = m.readInt32LE(12);
  const zstd = (zlib as unknown as { zstdCompressSync: (b: Uint8Array) => Buffer }).zstdCompressSync;
  const payload = compressor === 'zlib' ? deflateSync(inner) : compressor === 'zstd' ? zstd(inner) : inner;
  const body = Buffer.concat([int32(opcode), int32(inner.length), Buffer.from([COMPRESSOR_IDS[compressor]]), payload]);
  return withHeader(requestId, responseTo, OP_COMPRESSED, body);
}
