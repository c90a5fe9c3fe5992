/**
 * Test support: an HPACK encoder (RFC 7541) that keeps its own dynamic table and lets the test
 * choose each field's representation, so tests produce the header blocks a peer could send,
 * with or without Huffman coding, references into the dynamic table and size updates. It is
 * written from the RFC independently of the decoder (only the Huffman code lengths, which are
 * spec data checked against RFC 7541's own examples in huffman.test.ts, are shared).
 */
import { HUFFMAN_CODE_LENGTHS, HUFFMAN_CODES } from '../../src/remote-agent/dissect/http2/huffman.ts';

export interface FieldLine {
  readonly name: string;
  readonly value: string;
  /** Default 'incremental'. 'indexed' falls back to 'incremental' when no entry matches. */
  readonly rep?: 'indexed' | 'incremental' | 'without' | 'never';
  /** Refer to a table entry for the name when one has it (default true). */
  readonly nameRef?: boolean;
  /** Huffman-code the strings (default false). */
  readonly huffman?: boolean;
}

/** RFC 7541 Appendix A, name and value per index 1..61. */
export const STATIC_TABLE_FOR_TESTS: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** An integer with an N-bit prefix (§5.1); `flags` are the first octet's bits above the prefix. */
export function hpackInteger(value: number, prefixBits: number, flags = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** Huffman-codes latin1 text (§5.2): codes MSB first, padded with the leading one-bits of EOS. */
export function huffmanEncode(text: string): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const sym = text.charCodeAt(i) & 0xff;
    const len = HUFFMAN_CODE_LENGTHS[sym];
    const code = HUFFMAN_CODES[sym];
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | ((code >>> b) & 1);
      if (++bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | (0xff >> bits)) & 0xff);
  return out;
}

/** A string literal (§5.2). */
export function hpackString(text: string, huffman = false): number[] {
  const bytes = huffman ? huffmanEncode(text) : [...Buffer.from(text, 'latin1')];
  return [...hpackInteger(bytes.length, 7, huffman ? 0x80 : 0), ...bytes];
}

export class HpackEncoder {
  /** Newest first. */
  private table: { name: string; value: string }[] = [];
  private capacity: number;

  constructor(capacity = 4096) {
    this.capacity = capacity;
  }

  /** Entries the encoder's table holds, newest first (what a decoder must agree with). */
  get entries(): readonly { readonly name: string; readonly value: string }[] {
    return this.table;
  }

  get size(): number {
    return this.table.reduce((n, e) => n + e.name.length + e.value.length + 32, 0);
  }

  /** One header block: size updates first (§4.2), then the fields as chosen. */
  encode(fields: readonly FieldLine[], sizeUpdates: readonly number[] = []): Uint8Array {
    const out: number[] = [];
    for (const size of sizeUpdates) {
      out.push(...hpackInteger(size, 5, 0x20));
      this.capacity = size;
      this.evict(0);
    }
    for (const f of fields) out.push(...this.field(f));
    return Uint8Array.from(out);
  }

  private field(f: FieldLine): number[] {
    const rep = f.rep ?? 'incremental';
    const huffman = f.huffman ?? false;
    if (rep === 'indexed') {
      const index = this.find(f.name, f.value);
      if (index > 0) return hpackInteger(index, 7, 0x80);
    }
    const nameIndex = f.nameRef === false ? 0 : this.findName(f.name);
    const [prefixBits, flags] = rep === 'without' ? [4, 0x00] : rep === 'never' ? [4, 0x10] : [6, 0x40];
    const out = hpackInteger(nameIndex, prefixBits, flags);
    if (nameIndex === 0) out.push(...hpackString(f.name, huffman));
    out.push(...hpackString(f.value, huffman));
    if (rep === 'indexed' || rep === 'incremental') this.insert(f.name, f.value);
    return out;
  }

  private find(name: string, value: string): number {
    const s = STATIC_TABLE_FOR_TESTS.findIndex(([n, v]) => n === name && v === value);
    if (s >= 0) return s + 1;
    const d = this.table.findIndex((e) => e.name === name && e.value === value);
    return d >= 0 ? 62 + d : 0;
  }

  private findName(name: string): number {
    const s = STATIC_TABLE_FOR_TESTS.findIndex(([n]) => n === name);
    if (s >= 0) return s + 1;
    const d = this.table.findIndex((e) => e.name === name);
    return d >= 0 ? 62 + d : 0;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    if (size <= this.capacity) this.table.unshift({ name, value });
  }

  /** Evicts oldest entries until `room` more bytes fit (§4.4). */
  private evict(room: number): void {
    while (this.table.length > 0 && this.size + room > this.capacity) this.table.pop();
  }
}
