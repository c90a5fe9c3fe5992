/**
 * TCP sequence-number arithmetic. Sequence numbers are unsigned 32-bit and wrap around, so "after"
 * means "less than 2^31 ahead": ordinary comparison breaks on every stream that crosses 2^32.
 */

/** Signed distance `a - b` in sequence space: positive when `a` comes after `b`. */
export function seqDiff(a: number, b: number): number {
  // `| 0` reduces the exact difference modulo 2^32 into the signed 32-bit range.
  return (a - b) | 0;
}

/** `seq + n`, wrapped back into the unsigned 32-bit range. */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}
