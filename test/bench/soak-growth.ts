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
 * Warm-up for a run of `durationMs`: minute 2 for a long soak, a fifth of the run for a short one
 * (a 3-minute try warms up for 36 s), so both compare the same shape of run.
 */
export function warmupMsFor(durationMs: number): number {
  return Math.min(120_000, Math.round(durationMs / 5));
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
