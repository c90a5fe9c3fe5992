/**
 * Goal 7 of issue 17: how each figure's cost grows with the work. A figure measured at several
 * sizes (`sizeValue`: bytes, entries, pods, requests/s) gets one verdict: "linear or better" when
 * its cost per unit of work at every larger size is at most `tolerance` above the smallest size's,
 * else "faster than linear".
 *
 * The cost of a size depends on the figure's direction:
 * - a rate (higherIsBetter: MB/s, entries/CPU-s) is work done per time, so the cost of the work is
 *   work / rate and its cost per unit of work is 1 / rate;
 * - an amount (lower is better: RSS, latency, CPU share) is the cost itself, so its cost per unit of
 *   work is value / size.
 * A fixed overhead (Node's start, its base RSS) makes small sizes dearer per unit, never cheaper, so
 * it cannot hide growth at the large sizes.
 */
import type { BenchFigure } from '../figures.ts';

/** How far above the smallest size's cost per unit a larger size may be and still count as linear. */
export const GROWTH_TOLERANCE = 0.15;

export type GrowthVerdict = 'linear or better' | 'faster than linear' | 'one size: not judged' | 'not judged: a zero rate';

export interface GrowthRow {
  readonly bench: string;
  readonly figure: string;
  /** The sizes in increasing `sizeValue` order, as the benchmark named them. */
  readonly sizes: readonly string[];
  /** How the cost is taken: `work / rate` or `value / size`. */
  readonly costTaken: string;
  /** Cost per unit of work at each size, relative to the smallest size's (1 at the smallest). */
  readonly relative: readonly number[];
  readonly verdict: GrowthVerdict;
}

/** `bench` + `figure`: the same figure at its several sizes. */
function groupKey(f: BenchFigure): string {
  return `${f.bench}\u0000${f.figure}`;
}

/** Groups the figures (in order of first appearance) and gives each group its growth verdict. */
export function growthRows(figures: readonly BenchFigure[], tolerance: number = GROWTH_TOLERANCE): GrowthRow[] {
  const groups = new Map<string, BenchFigure[]>();
  for (const f of figures) {
    const key = groupKey(f);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [f]);
    else group.push(f);
  }
  return [...groups.values()].map((group) => growthOf(group, tolerance));
}

function growthOf(group: readonly BenchFigure[], tolerance: number): GrowthRow {
  const sorted = [...group].sort((a, b) => a.sizeValue - b.sizeValue);
  const first = sorted[0]!;
  const costTaken = first.higherIsBetter ? 'work / rate' : 'value / size';
  const base = { bench: first.bench, figure: first.figure, sizes: sorted.map((f) => f.size), costTaken };
  if (first.higherIsBetter && sorted.some((f) => f.ours <= 0)) return { ...base, relative: [], verdict: 'not judged: a zero rate' };
  const perUnit = sorted.map((f) => (f.higherIsBetter ? 1 / f.ours : f.sizeValue > 0 ? f.ours / f.sizeValue : f.ours));
  const smallest = perUnit[0]!;
  // A cost of zero at the smallest size (no lost events) stays linear only while it stays zero.
  const relative = perUnit.map((c) => (smallest === 0 ? (c === 0 ? 1 : Number.POSITIVE_INFINITY) : c / smallest));
  if (new Set(sorted.map((f) => f.sizeValue)).size < 2) return { ...base, relative, verdict: 'one size: not judged' };
  const worst = Math.max(...relative.slice(1));
  return { ...base, relative, verdict: worst <= 1 + tolerance ? 'linear or better' : 'faster than linear' };
}
