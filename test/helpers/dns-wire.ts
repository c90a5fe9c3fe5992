/**
 * DNS messages built byte by byte for tests (RFC 1035 §4.1), written from the RFC rather than from
 * our parser, so parser tests check the parser against the wire format.
 */

export interface WireQuestion {
  readonly name: string;
  readonly type: number;
  readonly class?: number;
}

export interface WireRecord {
  readonly name: string | Uint8Array;
  readonly type: number;
  readonly class?: number;
  readonly ttl?: number;
  readonly rdata: Uint8Array;
}

export interface WireMessage {
  readonly id: number;
  readonly response?: boolean;
  readonly opcode?: number;
  readonly rcode?: number;
  /** Extra flag bits (AA 0x0400, TC 0x0200, RD 0x0100, RA 0x0080 ...). */
  readonly flags?: number;
  readonly questions?: readonly WireQuestion[];
  readonly answers?: readonly WireRecord[];
  readonly authorities?: readonly WireRecord[];
  readonly additionals?: readonly WireRecord[];
}

export const T = Object.freeze({ A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, HTTPS: 65, AXFR: 252, ANY: 255, CAA: 257 });

export function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

export function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** Uncompressed wire form of a dotted name ("." or "" is the root). */
export function name(dotted: string): Uint8Array {
  const labels = dotted === '.' || dotted === '' ? [] : dotted.replace(/\.$/, '').split('.');
  return concat(...labels.map((l) => concat(Uint8Array.of(l.length), Buffer.from(l, 'latin1'))), Uint8Array.of(0));
}

export function pointer(offset: number): Uint8Array {
  return Uint8Array.of(0xc0 | (offset >> 8), offset & 0xff);
}

export function ipv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

export function characterStrings(...texts: readonly string[]): Uint8Array {
  return concat(...texts.map((t) => concat(Uint8Array.of(Buffer.byteLength(t, 'latin1')), Buffer.from(t, 'latin1'))));
}

export function record(r: WireRecord): Uint8Array {
  const owner = typeof r.name === 'string' ? name(r.name) : r.name;
  return concat(owner, u16(r.type), u16(r.class ?? 1), u32(r.ttl ?? 300), u16(r.rdata.length), r.rdata);
}

export function message(m: WireMessage): Uint8Array {
  const q = m.questions ?? [];
  const an = m.answers ?? [];
  const ns = m.authorities ?? [];
  const ar = m.additionals ?? [];
  const flags = (m.response ? 0x8000 : 0) | ((m.opcode ?? 0) << 11) | (m.flags ?? 0x0100) | ((m.rcode ?? 0) & 0x0f);
  return concat(
    u16(m.id),
    u16(flags),
    u16(q.length),
    u16(an.length),
    u16(ns.length),
    u16(ar.length),
    ...q.map((x) => concat(name(x.name), u16(x.type), u16(x.class ?? 1))),
    ...an.map(record),
    ...ns.map(record),
    ...ar.map(record),
  );
}

/** A query for one name and type (RD set). */
export function query(id: number, qname: string, type: number = T.A): Uint8Array {
  return message({ id, questions: [{ name: qname, type }] });
}

/** A response repeating the question, with these answers. */
export function response(id: number, qname: string, type: number, answers: readonly WireRecord[], rcode = 0, flags = 0x0180): Uint8Array {
  return message({ id, response: true, rcode, flags, questions: [{ name: qname, type }], answers });
}

/** Two-byte length prefix (DNS over TCP, RFC 1035 §4.2.2). */
export function framed(m: Uint8Array): Uint8Array {
  return concat(u16(m.length), m);
}
