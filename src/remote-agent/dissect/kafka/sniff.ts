/**
 * What a Kafka request header looks like, for the sniffer and for finding a message start again
 * after a gap (mid-stream joining): a size within bounds, an API key we know with a version it has,
 * a non-negative correlation id and a printable client id that fits in the message.
 */
import { apiKeyInfo } from './api-keys.ts';
import type { SniffResult } from '../dissector.ts';

/** A size above this is refused: the framing is taken as lost (Kafka's own default cap is 100 MiB). */
export const MAX_MESSAGE_BYTES = 100 * 1024 * 1024;
/** Client ids longer than this are not plausible (they are names like `console-producer`). */
const MAX_CLIENT_ID_BYTES = 1024;
/** size, api key, version, correlation id, client id length. */
const HEADER_BYTES = 4 + 2 + 2 + 4 + 2;

/** API keys and versions a request header may carry once the framing is known (newer than our table). */
const LOOSE_MAX_API_KEY = 999;
const LOOSE_MAX_VERSION = 999;

/**
 * Whether a request starts at `at` in `bytes`: 'more' when the bytes end before it can be told.
 * `strict` (sniffing, resync: telling Kafka from other bytes) wants an API key and version of our
 * table and a client id of at least one character (a Metadata v1 response, read as a request,
 * looks like Produce v1 with an empty one); loose (checking each request of a Kafka connection)
 * takes keys and versions newer than the table, and an empty or null client id.
 */
export function plausibleRequestAt(bytes: Uint8Array, at: number, strict = true): SniffResult {
  if (bytes.length - at < HEADER_BYTES) return 'more';
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, bytes.length - at);
  const size = view.getInt32(0);
  if (size < HEADER_BYTES - 4 || size > MAX_MESSAGE_BYTES) return 'no';
  const apiKey = view.getInt16(4);
  const version = view.getInt16(6);
  if (strict) {
    const info = apiKeyInfo(apiKey);
    if (info === undefined || version < 0 || version > info.maxVersion) return 'no';
  } else if (apiKey < 0 || apiKey > LOOSE_MAX_API_KEY || version < 0 || version > LOOSE_MAX_VERSION) return 'no';
  // ControlledShutdown v0 has no client id: too rare (and too bare) to be told from other bytes.
  if (apiKey === 7 && version === 0) return strict ? 'no' : 'match';
  if (view.getInt32(8) < 0) return 'no';
  const idLength = view.getInt16(12);
  if (idLength < (strict ? 1 : -1) || idLength > MAX_CLIENT_ID_BYTES || HEADER_BYTES - 4 + Math.max(0, idLength) > size) return 'no';
  const have = Math.min(Math.max(0, idLength), bytes.length - at - HEADER_BYTES);
  for (let i = 0; i < have; i++) {
    const c = bytes[at + HEADER_BYTES + i]!;
    if (c < 0x20 || c > 0x7e) return 'no';
  }
  return have < idLength ? 'more' : 'match';
}

/** The sniffer: a Kafka request header at the start of the bytes (either direction: a capture may have the roles wrong). */
export function sniffKafka(prefix: Uint8Array): SniffResult {
  return plausibleRequestAt(prefix, 0);
}

/** The offset of the first plausible request header in `window`, or -1. */
export function findRequestStart(window: Uint8Array): number {
  for (let at = 0; at + HEADER_BYTES <= window.length; at++) {
    // Sizes are below 2^27 here: the first byte of a plausible one is 0..6.
    if (window[at]! > 6) continue;
    if (plausibleRequestAt(window, at) === 'match') return at;
  }
  return -1;
}
