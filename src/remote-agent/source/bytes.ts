/** Unsigned integer reads in either byte order, straight from a byte array (no DataView per chunk). */

export function u16(b: Uint8Array, off: number, le: boolean): number {
  return le ? b[off] | (b[off + 1] << 8) : (b[off] << 8) | b[off + 1];
}

export function u32(b: Uint8Array, off: number, le: boolean): number {
  return le
    ? (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0
    : ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** Signed 64-bit value as a JS number (exact up to 2^53; enough for offsets in seconds). */
export function i64(b: Uint8Array, off: number, le: boolean): number {
  const hi = le ? u32(b, off + 4, le) : u32(b, off, le);
  const lo = le ? u32(b, off, le) : u32(b, off + 4, le);
  return (hi | 0) * 0x1_0000_0000 + lo;
}
