/**
 * KFL benchmark (acceptance 4 of the KFL issue), run by `npm run bench`: evaluations per second of
 * compiled filters over distinct in-memory entries, one core, at 100k, 300k and 1M entries (the
 * headline query at each size; every query at 1M). Goal: >= 5M evaluations/s for
 * `http and response.status >= 500`. `read F.ndjson --filter` against jq is timed by
 * ndjson-filter.ts (pinned to one core, CPU seconds, same output checked), not here.
 * Prints a table, the BENCH-FIGURE lines and one JSON line.
 */
import { compileKfl } from '../../src/kfl/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import { printFigure } from './figures.ts';
import { makeEntries } from './synthetic-entries.ts';
import { BENCH_KFL_QUERIES } from './kfl-queries.ts';

const ENTRIES = Number(process.env['KFL_BENCH_ENTRIES'] ?? 1_000_000);
const SIZES = [100_000, 300_000, ENTRIES].filter((n, i, all) => n <= ENTRIES && all.indexOf(n) === i);
const GOAL_EVALS_PER_SEC = 5_000_000;

interface EvalResult {
  readonly query: string;
  readonly evalsPerSec: number;
  readonly matched: number;
}

function measureEvals(entries: readonly Entry[], nowMs: number, queries: readonly string[]): EvalResult[] {
  const results: EvalResult[] = [];
  for (const query of queries) {
    const compiled = compileKfl(query, { nowMs });
    if (!compiled.ok) throw new Error(`${query}: ${compiled.error.message}`);
    const test = compiled.filter.test.bind(compiled.filter);
    // Warm-up pass (JIT), then the best of three timed passes over every entry.
    let matched = 0;
    for (let i = 0; i < Math.min(200_000, entries.length); i++) if (test(entries[i]!)) matched++;
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      matched = 0;
      const started = performance.now();
      for (let i = 0; i < entries.length; i++) if (test(entries[i]!)) matched++;
      best = Math.min(best, performance.now() - started);
    }
    results.push({ query, evalsPerSec: Math.round(entries.length / (best / 1000)), matched });
  }
  return results;
}

function sizeLabel(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M entries` : `${n / 1_000}k entries`;
}

async function main(): Promise<void> {
  const nowMs = Date.UTC(2026, 10, 29, 12, 0, 0);
  process.stdout.write(`building ${ENTRIES} in-memory entries ...\n`);
  const entries = makeEntries(ENTRIES, nowMs);
  const headlineQuery = BENCH_KFL_QUERIES[0]!;
  const bySize: { size: number; evals: EvalResult[] }[] = [];
  for (const size of SIZES) {
    const some = size === entries.length ? entries : entries.slice(0, size);
    const evals = size === ENTRIES ? measureEvals(some, nowMs, BENCH_KFL_QUERIES) : measureEvals(some, nowMs, [headlineQuery]);
    bySize.push({ size, evals });
    process.stdout.write(`\n${sizeLabel(size)}\nquery                                                              evals/s   matched\n`);
    for (const r of evals) process.stdout.write(`${r.query.padEnd(64)} ${String(r.evalsPerSec).padStart(11)} ${String(r.matched).padStart(9)}\n`);
    const headline = evals[0]!;
    printFigure({
      bench: 'kfl-evals',
      figure: `KFL evaluations per second, '${headlineQuery}' (compiled filter, in-memory entries, one core)`,
      size: sizeLabel(size),
      sizeValue: size,
      ours: headline.evalsPerSec,
      unit: 'evaluations/s',
      higherIsBetter: true,
      goal: `>= ${GOAL_EVALS_PER_SEC / 1e6}M evaluations/s`,
      met: headline.evalsPerSec >= GOAL_EVALS_PER_SEC,
    });
    if (evals.length > 1) {
      const slowest = evals.reduce((a, b) => (b.evalsPerSec < a.evalsPerSec ? b : a));
      printFigure({
        bench: 'kfl-evals',
        figure: `KFL evaluations per second, slowest of the ${evals.length} bench queries ('${slowest.query}')`,
        size: sizeLabel(size),
        sizeValue: size,
        ours: slowest.evalsPerSec,
        unit: 'evaluations/s',
        higherIsBetter: true,
      });
    }
  }
  process.stdout.write(`${JSON.stringify({ name: 'kfl-evals', bySize })}\n`);
}

await main();
