/**
 * Builders of HTTP/2 frames (RFC 9113 §4.1, §6) and header blocks for tests that hand-build a
 * connection. Header blocks use HPACK literals only (RFC 7541 §6.2: without indexing, or with
 * incremental indexing, names and values as plain octets, no Huffman), plus indexed references
 * when a test needs the dynamic table.
 */
import { Buffer } from 'node:buffer';
import { hpackInteger, hpackString } from './hpack-encoder.ts';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([h, payload]);
}

function hpackInt(value: number, prefixBits: number, first: number): Buffer {
  return Buffer.from(hpackInteger(value, prefixBits, first));
}

function hpackLiteralString(s: string): Buffer {
  return Buffer.from(hpackString(s));
}

/** One field as a literal without indexing, new name (leaves the dynamic table alone). */
export function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackLiteralString(name), hpackLiteralString(value)]);
}

/** One field as a literal with incremental indexing, new name (adds it to the dynamic table). */
export function indexedLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), hpackLiteralString(name), hpackLiteralString(value)]);
}

/** An indexed field (static 1-61, dynamic 62...). */
export function indexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

/** A header block of literals without indexing. */
export function block(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(fields.map(([n, v]) => literal(n, v)));
}

export function headers(streamId: number, fields: ReadonlyArray<readonly [string, string]>, endStream = false): Buffer {
  return frame(T.HEADERS, F.END_HEADERS | (endStream ? F.END_STREAM : 0), streamId, block(fields));
}

export function data(streamId: number, body: string | Uint8Array, endStream = false): Buffer {
  return frame(T.DATA, endStream ? F.END_STREAM : 0, streamId, typeof body === 'string' ? Buffer.from(body) : body);
}

export function settings(values: ReadonlyArray<readonly [number, number]> = []): Buffer {
  const p = Buffer.alloc(6 * values.length);
  values.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(T.SETTINGS, 0, 0, p);
}

export const settingsAck = (): Buffer => frame(T.SETTINGS, F.ACK, 0);

export function rst(streamId: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(T.RST_STREAM, 0, streamId, p);
}

export function goaway(lastStreamId: number, code: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastStreamId, 0);
  p.writeUInt32BE(code, 4);
  return frame(T.GOAWAY, 0, 0, p);
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment);
  return frame(T.WINDOW_UPDATE, 0, streamId, p);
}

export function ping(ack = false): Buffer {
  return frame(T.PING, ack ? F.ACK : 0, 0, Buffer.alloc(8));
}

export const REQUEST = (path: string, method = 'GET'): Array<[string, string]> => [
  [':method', method],
  [':scheme', 'http'],
  [':authority', 'example.test'],
  [':path', path],
];
