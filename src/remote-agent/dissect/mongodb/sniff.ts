/**
 * Does a MongoDB message start here? A sixteen-byte header is easy to match by chance, so the
 * start of the body must fit too: a known opcode, a length MongoDB would accept, flags without
 * unknown required bits, a first section or document whose length fits inside the message, a
 * namespace with a dot. Used to sniff a connection's first bytes (either direction: a capture that
 * joined midway may see a reply first) and to find a message start again after a gap (resync).
 */
import type { SniffResult } from '../dissector.ts';
import { HEADER_BYTES, MAX_MESSAGE_BYTES, OP, isKnownOpcode, plausibleMsgFlags } from './wire.ts';

/** Bytes of a legacy namespace looked at before deciding (names are short). */
const MAX_NAMESPACE_BYTES = 256;

function int32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** A BSON element type byte that may start a document's first element (0: the empty document). */
function plausibleElementType(t: number): boolean {
  return t <= 0x13 || t === 0x7f || t === 0xff;
}

/** A document length at `at` that fits in `room` bytes, and its first type byte if there. */
function documentStart(b: Uint8Array, at: number, room: number): SniffResult {
  if (at + 4 > b.length) return 'more';
  const len = int32(b, at);
  if (len < 5 || len > room) return 'no';
  if (at + 4 >= b.length) return 'more';
  return plausibleElementType(b[at + 4]!) ? 'match' : 'no';
}

/** `<db>.<collection>` then NUL at `at`; returns the offset past the NUL, -1 for 'no', -2 for 'more'. */
function namespaceEnd(b: Uint8Array, at: number, end: number): number {
  let dot = false;
  const stop = Math.min(end, at + MAX_NAMESPACE_BYTES);
  for (let i = at; i < stop; i++) {
    if (i >= b.length) return -2;
    const c = b[i]!;
    if (c === 0) return dot && i > at + 1 ? i + 1 : -1;
    if (c < 0x20 || c === 0x7f) return -1;
    if (c === 0x2e) dot = true;
  }
  return -1;
}

/** Whether the bytes at `at` start a MongoDB message. */
export function plausibleMessageStart(b: Uint8Array, at: number): SniffResult {
  if (at + HEADER_BYTES > b.length) return 'more';
  const length = int32(b, at);
  const responseTo = int32(b, at + 8);
  const opcode = int32(b, at + 12);
  if (length < HEADER_BYTES + 4 || length > MAX_MESSAGE_BYTES || !isKnownOpcode(opcode)) return 'no';
  const body = at + HEADER_BYTES;
  const room = length - HEADER_BYTES;
  const need = (n: number): boolean => body + n <= b.length;
  switch (opcode) {
    case OP.MSG: {
      if (room < 5 + 5) return 'no';
      if (!need(5)) return 'more';
      if (!plausibleMsgFlags(int32(b, body) >>> 0)) return 'no';
      const kind = b[body + 4]!;
      if (kind === 0) return documentStart(b, body + 5, room - 5);
      if (kind !== 1) return 'no';
      if (!need(9)) return 'more';
      const size = int32(b, body + 5);
      return size >= 5 && size <= room - 5 ? 'match' : 'no';
    }
    case OP.REPLY: {
      if (room < 20 || responseTo === 0) return 'no';
      if (!need(20)) return 'more';
      const flags = int32(b, body);
      const returned = int32(b, body + 16);
      if ((flags & ~0xf) !== 0 || returned < 0 || returned * 5 > room - 20) return 'no';
      return returned === 0 ? (room === 20 ? 'match' : 'no') : documentStart(b, body + 20, room - 20);
    }
    case OP.QUERY: {
      if (!need(4)) return 'more';
      const flags = int32(b, body);
      if ((flags & ~0xfe) !== 0) return 'no';
      const ns = namespaceEnd(b, body + 4, at + length);
      if (ns === -2) return 'more';
      if (ns < 0) return 'no';
      return documentStart(b, ns + 8, at + length - ns - 8);
    }
    case OP.COMPRESSED: {
      if (room < 9) return 'no';
      if (!need(9)) return 'more';
      const original = int32(b, body);
      const size = int32(b, body + 4);
      const compressor = b[body + 8]!;
      return original !== OP.COMPRESSED && isKnownOpcode(original) && size >= 0 && size <= MAX_MESSAGE_BYTES && compressor <= 3 ? 'match' : 'no';
    }
    case OP.KILL_CURSORS: {
      if (!need(8)) return 'more';
      const n = int32(b, body + 4);
      return int32(b, body) === 0 && n >= 0 && room === 8 + 8 * n ? 'match' : 'no';
    }
    default: {
      // OP_INSERT (flags), OP_UPDATE, OP_DELETE, OP_GET_MORE (a reserved zero): then the namespace.
      if (!need(4)) return 'more';
      const first = int32(b, body);
      if (opcode === OP.INSERT ? (first & ~1) !== 0 : first !== 0) return 'no';
      const ns = namespaceEnd(b, body + 4, at + length);
      if (ns === -2) return 'more';
      return ns < 0 ? 'no' : 'match';
    }
  }
}

/** The first bytes of one direction. */
export function sniffMongodb(prefix: Uint8Array): SniffResult {
  return plausibleMessageStart(prefix, 0);
}

/** After the framing was lost: the first offset in `window` where a message plausibly starts, else -1. */
export function findMessageStart(window: Uint8Array): number {
  for (let i = 0; i + HEADER_BYTES <= window.length; i++) {
    if (plausibleMessageStart(window, i) === 'match') return i;
  }
  return -1;
}
