/**
 * Is this AMQP 0-9-1? The client opens with the protocol header `AMQP 0 0 9 1`; a capture that
 * joined the connection midway shows frames instead, found by what only they have together (a
 * method frame of a known method, a basic content header or a heartbeat, each with its frame end
 * octet where its size puts it: frames.ts frameStartAt). Pure, reads a bounded prefix.
 */
import type { SniffResult } from '../dissector.ts';
import { frameStartAt, protocolHeaderAt } from './frames.ts';

/** Offsets of a prefix searched for a frame start (a capture may join in the middle of a frame). */
const SCAN_BYTES = 4096;

export function sniffAmqp(prefix: Uint8Array): SniffResult {
  if (prefix.length === 0) return 'more';
  const header = protocolHeaderAt(prefix);
  if (header === 'yes') return 'match';
  if (header === 'maybe') return 'more';
  const limit = Math.min(prefix.length, SCAN_BYTES);
  for (let at = 0; at < limit; at++) if (frameStartAt(prefix, at) === 'yes') return 'match';
  // A frame may start here whose end is not in yet; elsewhere only whole frames count.
  return frameStartAt(prefix, 0) === 'maybe' ? 'more' : 'no';
}
