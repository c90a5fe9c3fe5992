/**
 * The link layer: strips the header named by a frame's link type (Ethernet with VLAN tags, SLL,
 * SLL2, raw IP, BSD NULL/LOOP) and hands the network-layer bytes to the next stage through
 * NetworkSink, which the ip stage implements (link knows nothing of IP). Never throws on bad
 * bytes: a frame that is not IP is counted as ignored, a truncated header as malformed.
 */
import type { Frame } from '../source/frame.ts';
import { LINKTYPE } from '../source/link-types.ts';
import type { CaptureStats } from '../stats.ts';

/** Where the network layer of each frame goes: `b[off..end)` from its first IP header byte. */
export interface NetworkSink {
  /** Capture time moved on (before each frame): expiry of what the network layer holds. */
  tick(tsUs: number): void;
  /** IPv4 or IPv6, told by the version nibble. */
  ip(b: Uint8Array, off: number, end: number, tsUs: number): void;
  ipv4(b: Uint8Array, off: number, end: number, tsUs: number): void;
  ipv6(b: Uint8Array, off: number, end: number, tsUs: number): void;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** IEEE 802.1Q C-tag, 802.1ad S-tag, and the pre-standard 0x9100 QinQ tag. */
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

/** BSD AF_INET; AF_INET6 differs per OS: 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin. */
const AF_INET = 2;
const AF_INET6_BSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;

export class LinkDecoder {
  readonly #network: NetworkSink;
  readonly #stats: CaptureStats;

  constructor(network: NetworkSink, stats: CaptureStats) {
    this.#network = network;
    this.#stats = stats;
  }

  frame(frame: Frame): void {
    const b = frame.data;
    const end = b.length;
    const tsUs = frame.tsUs;
    this.#network.tick(tsUs);
    switch (frame.linkType) {
      case LINKTYPE.ETHERNET:
        // Destination MAC, source MAC, EtherType/length (IEEE 802.3 clause 3).
        if (end < 14) return this.#malformed();
        return this.#ethertype(b, 14, end, (b[12] << 8) | b[13], tsUs);
      case LINKTYPE.LINUX_SLL:
        // Packet type, ARPHRD, address length, 8-byte address, protocol (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html).
        if (end < 16) return this.#malformed();
        return this.#ethertype(b, 16, end, (b[14] << 8) | b[15], tsUs);
      case LINKTYPE.LINUX_SLL2:
        // Protocol first, then reserved, interface index, ARPHRD, packet type, address (LINKTYPE_LINUX_SLL2).
        if (end < 20) return this.#malformed();
        return this.#ethertype(b, 20, end, (b[0] << 8) | b[1], tsUs);
      case LINKTYPE.RAW:
      case LINKTYPE.RAW_BSD_12:
      case LINKTYPE.RAW_BSD_14:
        return this.#network.ip(b, 0, end, tsUs);
      case LINKTYPE.IPV4:
        return this.#network.ipv4(b, 0, end, tsUs);
      case LINKTYPE.IPV6:
        return this.#network.ipv6(b, 0, end, tsUs);
      case LINKTYPE.NULL: {
        // A 4-byte address family in the *capturing host's* byte order; family values are small,
        // so a value above 0xffff means the other byte order.
        if (end < 4) return this.#malformed();
        let family = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
        if (family > 0xffff) family = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
        return this.#family(b, end, family, tsUs);
      }
      case LINKTYPE.LOOP:
        // OpenBSD loopback: the same family, always in network byte order.
        if (end < 4) return this.#malformed();
        return this.#family(b, end, ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0, tsUs);
      default:
        this.#stats.ignored++;
    }
  }

  #ethertype(b: Uint8Array, off: number, end: number, type: number, tsUs: number): void {
    // VLAN tags of any depth: each is TCI (2 bytes) + the next EtherType.
    while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
      if (off + 4 > end) return this.#malformed();
      type = (b[off + 2] << 8) | b[off + 3];
      off += 4;
    }
    if (type === ETHERTYPE_IPV4) this.#network.ipv4(b, off, end, tsUs);
    else if (type === ETHERTYPE_IPV6) this.#network.ipv6(b, off, end, tsUs);
    else this.#stats.ignored++; // ARP, LLDP, 802.3 length frames (< 0x0600), ...
  }

  #family(b: Uint8Array, end: number, family: number, tsUs: number): void {
    if (family === AF_INET) this.#network.ipv4(b, 4, end, tsUs);
    else if (family === AF_INET6_BSD || family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN) this.#network.ipv6(b, 4, end, tsUs);
    else this.#stats.ignored++;
  }

  #malformed(): void {
    this.#stats.malformed++;
  }
}
