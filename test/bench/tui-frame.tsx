/**
 * TUI benchmark (acceptance 3 of the TUI issue), run by `npm run bench`: with 1,000,000 entries in
 * the store, the time from a key press to the rendered frame for moves, applying a filter and
 * switching views (median and p95), and the process RSS. The real App renders through
 * ink-testing-library (a fake terminal of 120x40); the time runs from writing the key to stdin until
 * Ink has written the next frame. Goals: p95 < 100 ms for moves, < 1 s for re-filtering 1M entries,
 * RSS < 1.5 GB.
 */
import { render } from 'ink-testing-library';
import { compileKfl } from '../../src/kfl/index.ts';
import { RingEntryStore } from '../../src/pipeline/entry-store.ts';
import { App } from '../../src/tui/app.tsx';
import { makeEntries } from './synthetic-entries.ts';

const ENTRIES = Number(process.env["TUI_BENCH_ENTRIES"] ?? 1_000_000);
const KEY = { up: '\u001b[A', down: '\u001b[B', pageUp: '\u001b[5~', pageDown: '\u001b[6~', enter: '\r', escape: '\u001b', tab: '\t' } as const;
const FILTERS = [
  'http and response.status >= 500',
  'dst.name == "carts"',
  'request.method == "POST" and elapsed_time > 100000',
  'request.headers["user-agent"] == r"curl/.*"',
  'http',
];

type Ui = ReturnType<typeof render>;

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Writes `key` and waits until Ink renders a frame different from the one before. */
async function pressAndWait(ui: Ui, key: string): Promise<number> {
  const before = ui.frames.length;
  const last = ui.lastFrame();
  const started = performance.now();
  ui.stdin.write(key);
  const deadline = started + 10_000;
  while (performance.now() < deadline) {
    await turn();
    if (ui.frames.length > before && ui.lastFrame() !== last) return performance.now() - started;
  }
  process.stderr.write(`no new frame after ${JSON.stringify(key)}:\n${(ui.lastFrame() ?? '').split('\n').slice(0, 3).join('\n')}\n...\n${(ui.lastFrame() ?? '').split('\n').slice(-4).join('\n')}\n`);
  return performance.now() - started;
}

/** Types the query and waits until the filter bar shows it (typing is not what is measured). */
async function typeText(ui: Ui, text: string): Promise<void> {
  for (const ch of text) {
    ui.stdin.write(ch);
    await turn();
  }
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline && !(ui.lastFrame() ?? '').includes(`/ ${text}`)) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function stats(samples: readonly number[]): { n: number; medianMs: number; p95Ms: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { n: sorted.length, medianMs: r(at(0.5)), p95Ms: r(at(0.95)), maxMs: r(sorted[sorted.length - 1] ?? NaN) };
}

async function main(): Promise<void> {
  const nowMs = Date.UTC(2026, 10, 29, 12, 0, 0);
  process.stdout.write(`filling the store with ${ENTRIES} entries ...\n`);
  const store = new RingEntryStore({ maxEntries: ENTRIES });
  for (const entry of makeEntries(ENTRIES, nowMs)) store.add(entry);
  const ui = render(
    <App store={store} source="bench: synthetic" targets={6} compile={(q) => compileKfl(q, { nowMs })} isInputActive size={{ columns: 120, rows: 40 }} />,
  );
  for (let i = 0; i < 20; i++) await turn();

  const moves: number[] = [];
  for (let i = 0; i < 60; i++) moves.push(await pressAndWait(ui, KEY.up));
  for (let i = 0; i < 30; i++) moves.push(await pressAndWait(ui, 'j'));
  for (let i = 0; i < 20; i++) moves.push(await pressAndWait(ui, KEY.pageUp));
  moves.push(await pressAndWait(ui, 'g'));
  moves.push(await pressAndWait(ui, 'G'));

  const filters: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (const query of FILTERS) {
      await pressAndWait(ui, '/');
      ui.stdin.write('\u0015'); // ctrl-u: the bar opens with the active filter; start afresh
      await typeText(ui, query);
      filters.push(await pressAndWait(ui, KEY.enter));
    }
  }

  const views: number[] = [];
  for (let i = 0; i < 10; i++) {
    views.push(await pressAndWait(ui, 'm'));
    views.push(await pressAndWait(ui, KEY.escape));
  }
  ui.unmount();
  store.dispose();

  const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  const result = { name: 'tui-frame', entries: ENTRIES, moves: stats(moves), applyFilter: stats(filters), switchView: stats(views), rssMb };
  process.stdout.write(`\nkey -> frame with ${ENTRIES} entries (ms)   n   median    p95     max\n`);
  for (const [label, s] of [['move (up/j/PgUp/g/G)', result.moves], ['apply filter (enter)', result.applyFilter], ['switch view (m, esc)', result.switchView]] as const) {
    process.stdout.write(`${label.padEnd(38)} ${String(s.n).padStart(3)} ${String(s.medianMs).padStart(8)} ${String(s.p95Ms).padStart(6)} ${String(s.maxMs).padStart(7)}\n`);
  }
  process.stdout.write(`RSS ${rssMb} MB\n`);
  const notes = [
    result.moves.p95Ms < 100 ? 'moves p95 < 100 ms: ok' : `moves p95 ${result.moves.p95Ms} ms: over the 100 ms goal`,
    result.applyFilter.p95Ms < 1000 ? 're-filter p95 < 1 s: ok' : `re-filter p95 ${result.applyFilter.p95Ms} ms: over the 1 s goal`,
    rssMb < 1536 ? 'RSS < 1.5 GB: ok' : `RSS ${rssMb} MB: over the 1.5 GB goal`,
  ];
  process.stdout.write(`${notes.join('; ')}\n${JSON.stringify(result)}\n`);
  process.exit(0);
}

await main();
