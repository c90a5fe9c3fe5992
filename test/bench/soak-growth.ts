/**
 * The soak benchmark's memory verdict: is a process's RSS flat after warm-up? RSS moves with the
 * garbage collector's rhythm, so one sample against another says little; the median of a few
 * samples at the start (right after warm-up) against the median of the last few does.
 */

export interface RssSample {
  /** Milliseconds since the phase started. */
  readonly atMs: number;
  readonly rssKb: number;
}

export interface RssGrowth {
  /** Median RSS of the first `window` samples at or after warm-up. */
  readonly startKb: number;
  /** Median RSS of the last `window` samples. */
  readonly endKb: number;
  /** (end - start) / start, in percent. */
  readonly growthPct: number;
  /** How many samples each median took. */
  readonly window: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Warm-up for a run of `durationMs`: minute 2 for a long soak, a fifth of a shorter run but never
 * under a minute. Why a minute: what the warm-up must cover is the CLI's heap finding its size,
 * which takes its first few full collections, not the first de-duplication window (10 s, turned
 * over many times by then). Traced in the json phase at 8k entries/s (--cli-node-args=--trace-gc):
 * full collections at 2.5, 6, 20, 26 and 72 s, the live heap steady from the 20 s one on, the
 * heap's limit set by the 72 s one (V8's default growth; cmd/heap-growth.ts bounds it since). A
 * 2-minute try with a 24 s warm-up compared the heap before that against after it (+24%).
 */
export function warmupMsFor(durationMs: number): number {
  return Math.min(120_000, Math.max(60_000, Math.round(durationMs / 5)));
}

/** Samples per median: a minute of 10 s samples in a long run, fewer when the run has few. */
export function smoothingWindowFor(samplesAfterWarmup: number): number {
  return Math.max(1, Math.min(6, Math.floor(samplesAfterWarmup / 4)));
}

/**
 * Growth of one process's RSS from warm-up to the end; null when fewer than two samples fall after
 * warm-up (the process died early or the run was too short to say).
 */
export function rssGrowth(samples: readonly RssSample[], warmupMs: number): RssGrowth | null {
  const after = samples.filter((s) => s.atMs >= warmupMs).sort((a, b) => a.atMs - b.atMs);
  if (after.length < 2) return null;
  const window = smoothingWindowFor(after.length);
  const startKb = median(after.slice(0, window).map((s) => s.rssKb));
  const endKb = median(after.slice(-window).map((s) => s.rssKb));
  return { startKb, endKb, growthPct: startKb > 0 ? ((endKb - startKb) / startKb) * 100 : Number.NaN, window };
}
