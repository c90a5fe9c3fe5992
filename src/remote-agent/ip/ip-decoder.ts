/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) headers down to the transport header, with fragment
 * reassembly. Lengths are trusted only as far as the captured bytes go: a total length of 0 is
 * what segmentation offload (TSO/GSO) leaves in captures, and a length past the captured bytes is a
 * snaplen cut; both deliver what was captured.
 */
import type { CaptureStats } from '../stats.ts';
import type { TransportSink } from './packet.ts';
import { AddressFormatter } from '../../model/ip-address.ts';
import type { NetworkSink } from '../link/link-decoder.ts';
import { FragmentReassembler } from './fragments.ts';
import { IPPROTO_TCP, IPPROTO_UDP, decodeTransport } from './transport.ts';

/** IPv6 next-header values (IANA "Assigned Internet Protocol Numbers"). */
const IP6_HOP_BY_HOP = 0;
const IP6_ROUTING = 43;
const IP6_FRAGMENT = 44;
const IP6_AH = 51;
const IP6_NO_NEXT = 59;
const IP6_DEST_OPTS = 60;
const IP6_MOBILITY = 135;
const IP6_HIP = 139;
const IP6_SHIM6 = 140;

export interface IpDecoderOptions {
  /** Bytes of fragments held while waiting for their siblings (all datagrams together). */
  readonly maxFragmentBytes: number;
  /** Capture time after which an incomplete datagram is dropped. */
  readonly fragmentTimeoutUs: number;
}

export class IpDecoder implements NetworkSink {
  readonly #out: TransportSink;
  readonly #stats: CaptureStats;
  readonly #addr = new AddressFormatter();
  readonly #frags: FragmentReassembler;

  constructor(out: TransportSink, stats: CaptureStats, options: IpDecoderOptions) {
    this.#out = out;
    this.#stats = stats;
    this.#frags = new FragmentReassembler(stats, options.maxFragmentBytes, options.fragmentTimeoutUs);
  }

  /** Fragments held right now (for tests and status displays). */
  get pendingFragmentBytes(): number {
    return this.#frags.heldBytes;
  }

  /** Called once per frame with its capture time: drops datagrams that waited too long. */
  tick(tsUs: number): void {
    if (this.#frags.pendingCount !== 0 && tsUs >= this.#frags.nextExpiryUs) this.#frags.expire(tsUs);
  }

  /** End of capture: incomplete datagrams are counted as dropped. */
  flush(): void {
    this.#frags.flush();
  }

  /** Dispatches on the version nibble (raw IP link types carry no protocol field). */
  ip(b: Uint8Array, off: number, end: number, tsUs: number): void {
    if (off >= end) {
      this.#stats.malformed++;
      return;
    }
    const version = b[off] >> 4;
    if (version === 4) this.ipv4(b, off, end, tsUs);
    else if (version === 6) this.ipv6(b, off, end, tsUs);
    else this.#stats.malformed++;
  }

  ipv4(b: Uint8Array, off: number, end: number, tsUs: number): void {
    const stats = this.#stats;
    if (end - off < 20 || b[off] >> 4 !== 4) {
      stats.malformed++;
      return;
    }
    const headerLen = (b[off] & 0x0f) * 4;
    const totalLen = (b[off + 2] << 8) | b[off + 3];
    if (headerLen < 20 || off + headerLen > end || (totalLen !== 0 && totalLen < headerLen)) {
      stats.malformed++;
      return;
    }
    // Ethernet pads short frames to 60 bytes: the total length, not the frame, says where IP ends.
    const declaredEnd = totalLen === 0 ? end : off + totalLen;
    const stop = declaredEnd < end ? declaredEnd : end;
    const proto = b[off + 9];
    const fragField = (b[off + 6] << 8) | b[off + 7];
    const more = (fragField & 0x2000) !== 0;
    const fragOffset = (fragField & 0x1fff) * 8;

    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) {
      stats.ignored++;
      return;
    }
    const src = this.#addr.ipv4(b, off + 12);
    const dst = this.#addr.ipv4(b, off + 16);
    if (!more && fragOffset === 0) {
      decodeTransport(this.#out, stats, proto, tsUs, src, dst, b, off + headerLen, stop);
      return;
    }
    if (stop < declaredEnd) {
      // A fragment cut by the snaplen can never complete its datagram.
      stats.fragmentsDropped++;
      return;
    }
    // RFC 791 3.2: fragments of one datagram share (source, destination, protocol, identification).
    const id = (b[off + 4] << 8) | b[off + 5];
    const key = `4 ${src} ${dst} ${proto} ${id}`;
    const whole = this.#frags.add(key, tsUs, fragOffset, more, b.subarray(off + headerLen, stop), proto);
    if (whole !== null) decodeTransport(this.#out, stats, proto, tsUs, src, dst, whole, 0, whole.length);
  }

  ipv6(b: Uint8Array, off: number, end: number, tsUs: number): void {
    const stats = this.#stats;
    if (end - off < 40 || b[off] >> 4 !== 6) {
      stats.malformed++;
      return;
    }
    const payloadLen = (b[off + 4] << 8) | b[off + 5];
    // 0: a jumbogram (RFC 2675) or an offloaded super-segment; either way the capture says.
    const declaredEnd = payloadLen === 0 ? end : off + 40 + payloadLen;
    let stop = declaredEnd < end ? declaredEnd : end;
    let next = b[off + 6];
    const src = this.#addr.ipv6(b, off + 8);
    const dst = this.#addr.ipv6(b, off + 24);
    let buf = b;
    let p = off + 40;
    let reassembled = false;

    // RFC 8200 4.1: walk the extension header chain to the upper-layer header.
    for (;;) {
      switch (next) {
        case IP6_HOP_BY_HOP:
        case IP6_ROUTING:
        case IP6_DEST_OPTS:
        case IP6_MOBILITY:
        case IP6_HIP:
        case IP6_SHIM6: {
          // Hdr Ext Len: 8-octet units not counting the first 8 octets.
          if (p + 8 > stop) return this.#malformed();
          next = buf[p];
          p += (buf[p + 1] + 1) * 8;
          if (p > stop) return this.#malformed();
          break;
        }
        case IP6_AH: {
          // RFC 4302 2.2: the AH length is in 4-octet units minus 2.
          if (p + 8 > stop) return this.#malformed();
          next = buf[p];
          p += (buf[p + 1] + 2) * 4;
          if (p > stop) return this.#malformed();
          break;
        }
        case IP6_FRAGMENT: {
          if (p + 8 > stop) return this.#malformed();
          const fragNext = buf[p];
          const field = (buf[p + 2] << 8) | buf[p + 3];
          const fragOffset = field & 0xfff8;
          const more = (field & 1) !== 0;
          p += 8;
          next = fragNext;
          // RFC 6946: offset 0 without More is an "atomic fragment": the packet is whole.
          if (fragOffset === 0 && !more) break;
          if (reassembled || payloadLen === 0 || stop < declaredEnd) {
            // Nested fragment headers, or a fragment whose length we cannot trust: unusable.
            stats.fragmentsDropped++;
            return;
          }
          const id = ((buf[p - 4] << 24) | (buf[p - 3] << 16) | (buf[p - 2] << 8) | buf[p - 1]) >>> 0;
          const whole = this.#frags.add(`6 ${src} ${dst} ${id}`, tsUs, fragOffset, more, buf.subarray(p, stop), fragNext);
          if (whole === null) return;
          // The fragmentable part may itself start with extension headers: keep walking.
          buf = whole;
          p = 0;
          stop = whole.length;
          next = this.#frags.completedTag;
          reassembled = true;
          break;
        }
        case IP6_NO_NEXT:
          stats.ignored++;
          return;
        default:
          decodeTransport(this.#out, stats, next, tsUs, src, dst, buf, p, stop);
          return;
      }
    }
  }

  #malformed(): void {
    this.#stats.malformed++;
  }
}
