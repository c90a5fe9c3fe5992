/**
 * TCP (RFC 9293 section 3.1) and UDP (RFC 768) headers. Checksums are deliberately NOT verified:
 * captures taken on veth or with checksum/segmentation offload carry unfilled checksums and
 * segments larger than the MTU, and they are still the traffic the user wants to see.
 */
import type { CaptureStats } from '../stats.ts';
import type { TransportSink } from './packet.ts';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/**
 * Decodes the transport header at `b[off..end)` and hands it to `out`; anything but TCP and UDP
 * is counted as ignored, a header that does not fit as malformed.
 */
export function decodeTransport(
  out: TransportSink,
  stats: CaptureStats,
  proto: number,
  tsUs: number,
  srcIp: string,
  dstIp: string,
  b: Uint8Array,
  off: number,
  end: number,
): void {
  if (proto === IPPROTO_TCP) decodeTcp(out, stats, tsUs, srcIp, dstIp, b, off, end);
  else if (proto === IPPROTO_UDP) decodeUdp(out, stats, tsUs, srcIp, dstIp, b, off, end);
  else stats.ignored++;
}

export function decodeTcp(
  out: TransportSink,
  stats: CaptureStats,
  tsUs: number,
  srcIp: string,
  dstIp: string,
  b: Uint8Array,
  off: number,
  end: number,
): void {
  if (end - off < 20) {
    stats.malformed++;
    return;
  }
  // Data offset counts 32-bit words and covers the options (RFC 9293 3.1): 5..15.
  const headerLen = (b[off + 12] >> 4) * 4;
  if (headerLen < 20 || off + headerLen > end) {
    stats.malformed++;
    return;
  }
  out.tcp({
    tsUs,
    srcIp,
    dstIp,
    srcPort: (b[off] << 8) | b[off + 1],
    dstPort: (b[off + 2] << 8) | b[off + 3],
    seq: ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0,
    ack: ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0,
    // The whole flags byte (CWR, ECE, URG, ACK, PSH, RST, SYN, FIN): TCP_* constants test bits.
    flags: b[off + 13],
    payload: b.subarray(off + headerLen, end),
  });
}

export function decodeUdp(
  out: TransportSink,
  stats: CaptureStats,
  tsUs: number,
  srcIp: string,
  dstIp: string,
  b: Uint8Array,
  off: number,
  end: number,
): void {
  if (end - off < 8) {
    stats.malformed++;
    return;
  }
  const length = (b[off + 4] << 8) | b[off + 5];
  let stop = end;
  if (length !== 0) {
    // 0 is only legal for IPv6 jumbograms (RFC 2675 section 4): then the IP length rules.
    if (length < 8) {
      stats.malformed++;
      return;
    }
    // Longer than captured: a snaplen cut, deliver what there is. Shorter: trailing padding.
    if (off + length < end) stop = off + length;
  }
  out.udp({
    tsUs,
    srcIp,
    dstIp,
    srcPort: (b[off] << 8) | b[off + 1],
    dstPort: (b[off + 2] << 8) | b[off + 3],
    payload: b.subarray(off + 8, stop),
  });
}
