/**
 * Arrivals per second over a sliding window of a wall clock, for the header's "entries/s".
 * Counts go into fixed time buckets (a bounded ring) instead of one timestamp per arrival, so the
 * cost stays constant at any rate; the window edge moves in whole buckets.
 */
export interface SlidingRateOptions {
  /** Window length in ms (default 5000). */
  readonly windowMs?: number;
  /** Bucket length in ms (default 100): the resolution of the window edge. */
  readonly bucketMs?: number;
}

/** Below this span a rate would be a wild extrapolation of the first few arrivals. */
const MIN_SPAN_MS = 1000;

export class SlidingRate {
  readonly #bucketMs: number;
  readonly #windowMs: number;
  readonly #counts: Float64Array;
  /** The absolute bucket number each slot currently counts (-1: never used). */
  readonly #stamps: Float64Array;
  #firstAt: number | undefined;

  constructor(options: SlidingRateOptions = {}) {
    this.#windowMs = options.windowMs ?? 5000;
    this.#bucketMs = options.bucketMs ?? 100;
    const slots = Math.max(1, Math.ceil(this.#windowMs / this.#bucketMs));
    this.#counts = new Float64Array(slots);
    this.#stamps = new Float64Array(slots).fill(-1);
  }

  /** Records `n` arrivals at wall-clock time `nowMs`. */
  record(nowMs: number, n = 1): void {
    if (this.#firstAt === undefined) this.#firstAt = nowMs;
    const bucket = Math.floor(nowMs / this.#bucketMs);
    const slot = bucket % this.#counts.length;
    if (this.#stamps[slot] !== bucket) {
      this.#stamps[slot] = bucket;
      this.#counts[slot] = 0;
    }
    this.#counts[slot]! += n;
  }

  /** Arrivals still inside the window at `nowMs`. */
  countAt(nowMs: number): number {
    const bucket = Math.floor(nowMs / this.#bucketMs);
    const oldest = bucket - this.#counts.length; // exclusive
    let sum = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      const stamp = this.#stamps[i]!;
      if (stamp > oldest && stamp <= bucket) sum += this.#counts[i]!;
    }
    return sum;
  }

  /**
   * Arrivals per second at `nowMs`, to one decimal. The count covers whole buckets from the oldest
   * one in the window up to the current, partly elapsed one, so it is divided by exactly that time;
   * right after the first arrival, by the time actually observed (at least one second).
   */
  perSecond(nowMs: number): number {
    if (this.#firstAt === undefined) return 0;
    const windowStart = (Math.floor(nowMs / this.#bucketMs) - this.#counts.length + 1) * this.#bucketMs;
    const span = Math.max(MIN_SPAN_MS, Math.min(nowMs - windowStart, nowMs - this.#firstAt));
    return Math.round((this.countAt(nowMs) * 10000) / span) / 10;
  }
}
