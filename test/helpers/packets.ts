/**
 * Builders of packet bytes for tests (not used by the product). Each returns a fresh Uint8Array
 * laid out exactly as on the wire, with checksums left zero (the decoder never reads them).
 */

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >> 8;
  b[off + 1] = v & 0xff;
}

function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

export function ipv4Bytes(s: string): number[] {
  return s.split('.').map(Number);
}

/** Expands "2001:db8::1" to 16 bytes (test inputs only: no IPv4-embedded forms). */
export function ipv6Bytes(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

export interface TcpSpec {
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  /** Raw option bytes, padded to 4 with NOPs by the builder. */
  options?: readonly number[];
  payload?: Uint8Array;
}

export function tcp(spec: TcpSpec = {}): Uint8Array {
  const opts = [...(spec.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(1);
  const payload = spec.payload ?? new Uint8Array(0);
  const b = new Uint8Array(20 + opts.length + payload.length);
  put16(b, 0, spec.srcPort ?? 40000);
  put16(b, 2, spec.dstPort ?? 80);
  put32(b, 4, spec.seq ?? 1000);
  put32(b, 8, spec.ack ?? 0);
  b[12] = ((20 + opts.length) / 4) << 4;
  b[13] = spec.flags ?? 0x18;
  put16(b, 14, 65535);
  b.set(opts, 20);
  b.set(payload, 20 + opts.length);
  return b;
}

export interface UdpSpec {
  srcPort?: number;
  dstPort?: number;
  payload?: Uint8Array;
  /** Override of the length field. */
  length?: number;
}

export function udp(spec: UdpSpec = {}): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const b = new Uint8Array(8 + payload.length);
  put16(b, 0, spec.srcPort ?? 5353);
  put16(b, 2, spec.dstPort ?? 53);
  put16(b, 4, spec.length ?? 8 + payload.length);
  b.set(payload, 8);
  return b;
}

export interface Ipv4Spec {
  src?: string;
  dst?: string;
  proto?: number;
  id?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  moreFragments?: boolean;
  /** Raw option bytes, padded to 4 with End-of-Option-List by the builder. */
  options?: readonly number[];
  /** Override of the total length field. */
  totalLength?: number;
}

export function ipv4(payload: Uint8Array, spec: Ipv4Spec = {}): Uint8Array {
  const opts = [...(spec.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(0);
  const hl = 20 + opts.length;
  const b = new Uint8Array(hl + payload.length);
  b[0] = 0x40 | (hl / 4);
  put16(b, 2, spec.totalLength ?? hl + payload.length);
  put16(b, 4, spec.id ?? 1);
  put16(b, 6, (spec.moreFragments === true ? 0x2000 : 0) | ((spec.fragOffset ?? 0) / 8));
  b[8] = 64;
  b[9] = spec.proto ?? 6;
  b.set(ipv4Bytes(spec.src ?? '10.0.0.1'), 12);
  b.set(ipv4Bytes(spec.dst ?? '10.0.0.2'), 16);
  b.set(opts, 20);
  b.set(payload, hl);
  return b;
}

export interface Ipv6Spec {
  src?: string;
  dst?: string;
  /** Next header of the fixed header (the first extension header's type, or the transport). */
  next?: number;
  /** Override of the payload length field. */
  payloadLength?: number;
}

/** `payload` includes any extension headers (see `ext6` and `frag6`). */
export function ipv6(payload: Uint8Array, spec: Ipv6Spec = {}): Uint8Array {
  const b = new Uint8Array(40 + payload.length);
  b[0] = 0x60;
  put16(b, 4, spec.payloadLength ?? payload.length);
  b[6] = spec.next ?? 6;
  b[7] = 64;
  b.set(ipv6Bytes(spec.src ?? '2001:db8::1'), 8);
  b.set(ipv6Bytes(spec.dst ?? '2001:db8::2'), 24);
  b.set(payload, 40);
  return b;
}

/** A hop-by-hop / routing / destination-options header of `units` x 8 bytes (PadN filled). */
export function ext6(next: number, units = 1): Uint8Array {
  const b = new Uint8Array(units * 8);
  b[0] = next;
  b[1] = units - 1;
  b[2] = 1; // PadN
  b[3] = units * 8 - 4;
  return b;
}

export function frag6(next: number, offset: number, more: boolean, id: number): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = next;
  put16(b, 2, offset | (more ? 1 : 0));
  put32(b, 4, id);
  return b;
}

export const ETHERTYPE = { IPV4: 0x0800, IPV6: 0x86dd, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8 } as const;

/** Ethernet II with optional VLAN tags, outermost first: each tag is [tpid, vid]. */
export function ethernet(type: number, payload: Uint8Array, tags: ReadonlyArray<readonly [number, number]> = []): Uint8Array {
  const b = new Uint8Array(14 + tags.length * 4 + payload.length);
  b.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  let off = 12;
  for (const [tpid, vid] of tags) {
    put16(b, off, tpid);
    put16(b, off + 2, vid);
    off += 4;
  }
  put16(b, off, type);
  b.set(payload, off + 2);
  return b;
}

export function sll(protocol: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(16 + payload.length);
  put16(b, 0, 0); // packet type: to us
  put16(b, 2, 1); // ARPHRD_ETHER
  put16(b, 4, 6);
  b.set([2, 0, 0, 0, 0, 1], 6);
  put16(b, 14, protocol);
  b.set(payload, 16);
  return b;
}

export function sll2(protocol: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(20 + payload.length);
  put16(b, 0, protocol);
  put32(b, 4, 3); // interface index
  put16(b, 8, 1); // ARPHRD_ETHER
  b[10] = 4; // outgoing
  b[11] = 6;
  b.set([2, 0, 0, 0, 0, 1], 12);
  b.set(payload, 20);
  return b;
}

/** BSD loopback header: the address family as 4 bytes, little- or big-endian. */
export function nullLink(family: number, payload: Uint8Array, littleEndian: boolean): Uint8Array {
  const b = new Uint8Array(4 + payload.length);
  if (littleEndian) b.set([family & 0xff, (family >> 8) & 0xff, 0, 0]);
  else put32(b, 0, family);
  b.set(payload, 4);
  return b;
}
