/**
 * pcapng timestamps are 64-bit counts of interface-specific units (if_tsresol, pcapng spec 4.2:
 * 10^-n or 2^-n seconds; default 10^-6). Converting them to microseconds must stay exact even
 * though a nanosecond count (~1.7e18) does not fit a double: the common cases split the 64-bit
 * value into its 32-bit halves, and only exotic resolutions pay for BigInt.
 */

const TWO_32 = 0x1_0000_0000;

export interface TimestampScale {
  /** 'us': units are µs; 'div': divide by a power of ten <= 1e6; 'mul': multiply; 'big': BigInt. */
  readonly mode: 'us' | 'div' | 'mul' | 'big';
  readonly factor: number;
  /** For 'big': µs = units * bigMul / bigDiv. */
  readonly bigMul: bigint;
  readonly bigDiv: bigint;
}

export const MICROSECONDS: TimestampScale = { mode: 'us', factor: 1, bigMul: 1n, bigDiv: 1n };

/** Scale for an if_tsresol byte: MSB clear -> 10^-v seconds, MSB set -> 2^-(v & 0x7f) seconds. */
export function scaleFromTsresol(v: number): TimestampScale {
  if ((v & 0x80) === 0) {
    if (v === 6) return MICROSECONDS;
    if (v < 6) return { mode: 'mul', factor: 10 ** (6 - v), bigMul: 1n, bigDiv: 1n };
    // Up to picoseconds the 32-bit split stays exact (remainder * 2^32 < 1e6 * 2^32 < 2^53).
    if (v <= 12) return { mode: 'div', factor: 10 ** (v - 6), bigMul: 1n, bigDiv: 1n };
    return { mode: 'big', factor: 0, bigMul: 1n, bigDiv: 10n ** BigInt(v - 6) };
  }
  const shift = v & 0x7f;
  return { mode: 'big', factor: 0, bigMul: 1_000_000n, bigDiv: 1n << BigInt(shift) };
}

/** Microseconds (floored) for the timestamp whose upper and lower 32 bits are `hi` and `lo`. */
export function toMicroseconds(hi: number, lo: number, scale: TimestampScale): number {
  switch (scale.mode) {
    case 'us':
      return hi * TWO_32 + lo;
    case 'div': {
      const d = scale.factor;
      const q = Math.floor(hi / d);
      const r = hi - q * d;
      return q * TWO_32 + Math.floor((r * TWO_32 + lo) / d);
    }
    case 'mul':
      return (hi * TWO_32 + lo) * scale.factor;
    case 'big': {
      const units = (BigInt(hi) << 32n) | BigInt(lo);
      return Number((units * scale.bigMul) / scale.bigDiv);
    }
  }
}
