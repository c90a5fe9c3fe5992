/**
 * HTTP/2 dissector (RFC 9113), gRPC's transport: chosen by content (the client preface, the
 * server's first SETTINGS, or, joined midway, a chain of frame headers), or taken over from
 * HTTP/1 after an h2c upgrade (`101 Switching Protocols` with `Upgrade: h2c`, RFC 7540 §3.2).
 */
import type { ConnectionInfo } from '../../tcp/stream.ts';
import type { DissectContext, Dissector, DissectorStream, HandOff, SniffResult } from '../dissector.ts';
import { sniffHttp2 } from '../guess/http2.ts';
import type { SniffDirection } from '../guess/sniffer.ts';
import { Http2Connection } from './connection.ts';
import { CHAIN_AT_START, CHAIN_MIDWAY, DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_BYTES, FrameType, frameChainAt, plausibleFrameHeader } from './frames.ts';

/** Bytes of a prefix searched for a frame chain that starts midway. */
const SNIFF_SCAN_BYTES = 16 * 1024;

/**
 * The client preface (guess/http2.ts, the sniffer that names HTTP/2 traffic; looked for in either
 * direction, as the client may be mistaken when the SYN was not captured), else frames: a chain of
 * CHAIN_AT_START plausible frame headers from the first byte, or of CHAIN_MIDWAY from any offset (a
 * capture that starts inside a frame), or a server's opening SETTINGS frame alone: the whole of
 * the bytes so far (a server speaks first and then waits for the client's preface). A SETTINGS
 * header followed by anything but a frame is not enough: those 9 bytes turn up inside binary bodies.
 * 'more' only while the bytes from the first one could still be the preface or a chain.
 */
export function sniffHttp2Connection(prefix: Uint8Array, _direction: SniffDirection): SniffResult {
  const preface = sniffHttp2(prefix, 'to-server');
  if (preface === 'match') return 'match';
  const atStart = frameChainAt(prefix, 0, prefix.length, CHAIN_AT_START);
  if (atStart === 'match' || isLoneSettings(prefix)) return 'match';
  const end = Math.min(prefix.length, SNIFF_SCAN_BYTES);
  // A plausible header's length is at most 16,384: its first byte is 0. Only zero bytes are tried
  // (text has none, so an HTTP/1 opening costs one native scan).
  for (let at = prefix.indexOf(0, 1); at >= 0 && at < end; at = prefix.indexOf(0, at + 1)) {
    if (frameChainAt(prefix, at, prefix.length, CHAIN_MIDWAY) === 'match') return 'match';
  }
  return atStart === 'more' || preface === 'more' ? 'more' : 'no';
}

/** The bytes are exactly one SETTINGS frame (not an ACK), as a server's first segment is. */
function isLoneSettings(prefix: Uint8Array): boolean {
  if (prefix.length < FRAME_HEADER_BYTES || prefix[3] !== FrameType.SETTINGS || prefix[4] !== 0) return false;
  const len = plausibleFrameHeader(prefix, 0, DEFAULT_MAX_FRAME_SIZE);
  return len >= 0 && FRAME_HEADER_BYTES + len === prefix.length;
}

export const http2Dissector: Dissector = Object.freeze({
  id: 'http2',
  protocol: 'http',
  ports: Object.freeze([50051, 9090, 8443]),
  sniff: sniffHttp2Connection,
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new Http2Connection(conn, ctx),
  handOffs: Object.freeze(['h2c']),
  takeOver: (conn: ConnectionInfo, ctx: DissectContext, handOff: HandOff): DissectorStream => new Http2Connection(conn, ctx, handOff),
});
