/**
 * The one shape every benchmark reports its figures in, so `npm run bench` can gather them into
 * test/bench/out/figures.json and the README's performance table (ours, peer, ratio, machine).
 *
 * A benchmark prints each figure as one stdout line `BENCH-FIGURE {json}` (printFigure), beside its
 * own human table. The gatherer reads those lines from every benchmark it runs; nothing else in the
 * output is parsed.
 */

export const FIGURE_LINE_PREFIX = 'BENCH-FIGURE ';

export interface PeerFigure {
  /** What the peer is, as a reader would run it: `tshark -Y http -T fields`, `jq -c select(...)`. */
  readonly name: string;
  readonly value: number;
}

export interface BenchFigure {
  /** The benchmark that measured it (its file's base name): `read-throughput`, `tap-exec`. */
  readonly bench: string;
  /** What is measured, the same text at every size: `read -o json throughput`, `agent idle RSS`. */
  readonly figure: string;
  /** The work size, for growth tables: `67 MB capture`, `1M entries`, `4 pods`. */
  readonly size: string;
  /** The size as a number in its own unit (bytes, entries, pods), to compare growth across sizes. */
  readonly sizeValue: number;
  readonly ours: number;
  /** Unit of `ours` and the peer's value: `MB/s`, `MB`, `ms`, `entries/s`, `% of a core`. */
  readonly unit: string;
  /** True when a bigger value is better (throughput), false when smaller is (RSS, latency). */
  readonly higherIsBetter: boolean;
  /** Measured in the same run on the same machine, or absent when no peer does this work. */
  readonly peer?: PeerFigure;
  /** The goal in words, `>= 6x tshark`, `<= 55 MB`; absent when the figure is only reported. */
  readonly goal?: string;
  /** Whether `goal` holds for this measurement (absent with no goal). */
  readonly met?: boolean;
}

/** How many times better ours is than the peer (> 1: ours is better), whatever the unit's direction. */
export function ratioToPeer(f: BenchFigure): number | null {
  if (f.peer === undefined || f.peer.value === 0 || f.ours === 0) return null;
  return f.higherIsBetter ? f.ours / f.peer.value : f.peer.value / f.ours;
}

/** Prints one figure for the gatherer (and keeps it readable for people scrolling the output). */
export function printFigure(f: BenchFigure): void {
  process.stdout.write(`${FIGURE_LINE_PREFIX}${JSON.stringify(f)}\n`);
}

/** The figures among a benchmark's stdout lines; malformed lines are reported, not skipped silently. */
export function parseFigureLines(stdout: string): { figures: BenchFigure[]; bad: string[] } {
  const figures: BenchFigure[] = [];
  const bad: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(FIGURE_LINE_PREFIX)) continue;
    try {
      const v = JSON.parse(line.slice(FIGURE_LINE_PREFIX.length)) as Partial<BenchFigure>;
      if (typeof v.bench === 'string' && typeof v.figure === 'string' && typeof v.size === 'string' && typeof v.ours === 'number' && typeof v.unit === 'string') {
        figures.push(v as BenchFigure);
      } else bad.push(line);
    } catch {
      bad.push(line);
    }
  }
  return { figures, bad };
}
