/**
 * HTTP/2 with prior knowledge (h2c, gRPC without TLS): the client connection preface (RFC 9113
 * §3.4), 24 fixed bytes; from the server, its first frame, which must be SETTINGS on stream 0.
 */
import type { SniffResult } from '../dissector.ts';
import type { ProtocolSniffer, SniffDirection } from './sniffer.ts';

const PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const FRAME_HEADER_BYTES = 9;
const SETTINGS = 0x04;
/** Flags a SETTINGS frame may carry: none, or ACK (RFC 9113 §6.5). */
const SETTINGS_ACK = 0x01;
/** Each setting is 6 bytes; a first SETTINGS frame lists a handful at most. */
const MAX_FIRST_SETTINGS_BYTES = 6 * 32;

export function sniffHttp2(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  return direction === 'to-server' ? sniffPreface(prefix) : sniffServerSettings(prefix);
}

function sniffPreface(prefix: Uint8Array): SniffResult {
  const n = Math.min(prefix.length, PREFACE.length);
  for (let i = 0; i < n; i++) if (prefix[i] !== PREFACE[i]) return 'no';
  return n === PREFACE.length ? 'match' : 'more';
}

function sniffServerSettings(prefix: Uint8Array): SniffResult {
  if (prefix.length < FRAME_HEADER_BYTES) return prefix.length >= 1 && prefix[0] !== 0 ? 'no' : 'more';
  const length = (prefix[0]! << 16) | (prefix[1]! << 8) | prefix[2]!;
  const streamId = ((prefix[5]! & 0x7f) << 24) | (prefix[6]! << 16) | (prefix[7]! << 8) | prefix[8]!;
  const ok = prefix[3] === SETTINGS && (prefix[4]! & ~SETTINGS_ACK) === 0 && streamId === 0 && length % 6 === 0 && length <= MAX_FIRST_SETTINGS_BYTES;
  return ok ? 'match' : 'no';
}

export const http2Sniffer: ProtocolSniffer = Object.freeze({
  id: 'http2',
  ports: Object.freeze([50051, 8080, 9090]),
  sniff: sniffHttp2,
});
