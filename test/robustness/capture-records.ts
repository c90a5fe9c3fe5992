/**
 * Splits a capture file into its fixed prefix and its packet records (pcap) or blocks (pcapng),
 * so mutations can swap, drop and duplicate whole records while the file stays parseable.
 */

export interface SplitCapture {
  /** pcap: the 24-byte file header; pcapng: every block before the first packet block. */
  readonly prefix: Uint8Array;
  /** Whole records (pcap: 16-byte header + data; pcapng: whole blocks). */
  readonly records: Uint8Array[];
  /** Bytes after the last whole record (a cut record, or what could not be split). */
  readonly tail: Uint8Array;
  readonly format: 'pcap' | 'pcapng';
  readonly littleEndian: boolean;
}

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_PACKET_BLOCKS = new Set([2, 3, 6]);

export function splitCapture(data: Uint8Array): SplitCapture | null {
  if (data.length < 24) return null;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magicLe = v.getUint32(0, true);
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d || magicLe === 0xd4c3b2a1 || magicLe === 0x4d3cb2a1) {
    const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
    const records: Uint8Array[] = [];
    let off = 24;
    while (off + 16 <= data.length) {
      const incl = v.getUint32(off + 8, le);
      if (off + 16 + incl > data.length) break;
      records.push(data.subarray(off, off + 16 + incl));
      off += 16 + incl;
    }
    return { prefix: data.subarray(0, 24), records, tail: data.subarray(off), format: 'pcap', littleEndian: le };
  }
  if (magicLe === PCAPNG_SHB) {
    const bom = v.getUint32(8, true);
    const le = bom === 0x1a2b3c4d;
    const blocks: Uint8Array[] = [];
    let prefixEnd = -1;
    let off = 0;
    while (off + 12 <= data.length) {
      const type = v.getUint32(off, le);
      const len = v.getUint32(off + 4, le);
      if (len < 12 || len % 4 !== 0 || off + len > data.length) break;
      if (prefixEnd < 0 && PCAPNG_PACKET_BLOCKS.has(type)) prefixEnd = off;
      if (prefixEnd >= 0) blocks.push(data.subarray(off, off + len));
      off += len;
    }
    if (prefixEnd < 0) prefixEnd = off;
    return { prefix: data.subarray(0, prefixEnd), records: blocks, tail: data.subarray(off), format: 'pcapng', littleEndian: le };
  }
  return null;
}

export function joinCapture(prefix: Uint8Array, records: readonly Uint8Array[], tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  let total = prefix.length + tail.length;
  for (const r of records) total += r.length;
  const out = new Uint8Array(total);
  out.set(prefix, 0);
  let p = prefix.length;
  for (const r of records) {
    out.set(r, p);
    p += r.length;
  }
  out.set(tail, p);
  return out;
}

/** Offset of the captured packet bytes inside a record (pcap: 16; pcapng EPB: 28, SPB: 12). */
export function packetDataOffset(split: SplitCapture, record: Uint8Array): number {
  if (split.format === 'pcap') return 16;
  const type = new DataView(record.buffer, record.byteOffset, record.byteLength).getUint32(0, split.littleEndian);
  if (type === 6 || type === 2) return 28;
  if (type === 3) return 12;
  return 8;
}
