/**
 * The TUI's layout in real terminals of 80x24, 120x40 and 200x50: tmux (a private server) runs
 * `kubectl shark demo` and the test reads the screen back. Every visible row shows both ends of
 * its call (whole, or shortened in the middle), the verb, the start of the target and the outcome
 * of one of the demo's entries, HTTP or not;
 * no line wraps (capture-pane -J joins wrapped lines, so its line count would differ); the header
 * lines fit; a finished source shows the time its traffic spans, not a rate, and never "Waiting
 * for traffic…"; the help overlay is as big as its lines. Skipped, with the reason printed, when
 * tmux is missing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import { sanitizeLine } from '../../src/model/terminal-text.ts';
import { endpointLabel, rowCells } from '../../src/tui/entry-row.ts';
import { LAUNCHER, parseNdjson, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { hasTmux, NO_TMUX, terminalEnv, TmuxPane } from '../helpers/tmux.ts';
import { skipFor } from '../helpers/requirements.ts';

const DEMO_FILE = join(REPO_ROOT, 'assets', 'demo', 'microservices.pcapng');
const TIMED = /^[ ▸](\d\d:\d\d:\d\d(?:\.\d{3})?) /;

/** A name as shown: whole, or its two ends around an ellipsis. */
function showsName(shown: string, names: ReadonlySet<string>): boolean {
  if (names.has(shown)) return true;
  // Both ends kept: something before and after the ellipsis ("client -> fro…" hides its end).
  const cut = shown.indexOf('…');
  if (cut < 1 || cut === shown.length - 1) return false;
  const head = shown.slice(0, cut);
  const tail = shown.slice(cut + 1);
  return [...names].some((name) => name.length > shown.length - 1 && name.startsWith(head) && name.endsWith(tail));
}

/** A cell as shown: the whole text, or its start and an ellipsis. */
const showsStart = (shown: string, text: string): boolean => shown === text || (shown.endsWith('…') && text.startsWith(shown.slice(0, -1)));

/** What a row of the demo shows, per protocol (its descriptor's summary): verb, target, outcome. */
interface RowFacts {
  readonly time: string;
  readonly route: string;
  readonly verb: string;
  readonly target: string;
  readonly outcome: string;
}

function factsOf(entry: Entry): RowFacts {
  const cells = rowCells(entry);
  return { time: cells.time, route: cells.route, verb: sanitizeLine(cells.method), target: sanitizeLine(cells.path), outcome: sanitizeLine(cells.status) };
}

/**
 * Every row on screen, cut into its cells where the header's titles start (the list aligns cells to
 * them), against the demo's entries of its time: the route's two ends, the verb, the start of the
 * target and of the outcome are one entry's, whatever its protocol (HTTP, Redis, PostgreSQL).
 */
function checkScreen(pane: TmuxPane, columns: number, names: ReadonlySet<string>, facts: readonly RowFacts[]): string[] {
  const screen = pane.screen();
  const joined = pane.tmux('capture-pane', '-p', '-J', '-t', 'tui');
  assert.equal(joined.split('\n').length, screen.split('\n').length, `no line wraps at ${columns} columns:\n${screen}`);
  const lines = screen.split('\n');
  assert.ok(lines.every((line) => line.length <= columns));
  assert.match(lines[0]!, /^kubectl-shark demo: \S+ │ targets \d+/, 'header line 1');
  assert.match(lines[1]!, /^entries \d+\/\d+ │ .* │ drops \d+ .*│ (FOLLOW|PAUSED) │ filter: none$/, 'header line 2 whole');
  const header = lines[2]!;
  const [route, method, path, stat] = ['SRC -> DST', 'METHOD', 'PATH', 'STAT'].map((title) => header.indexOf(title));
  assert.ok(route! > 0 && method! > route! && path! > method! && stat! > path!, `column titles:\n${header}`);
  const timed = lines.filter((line) => TIMED.test(line));
  assert.ok(timed.length >= 5, `rows on screen:\n${screen}`);
  for (const line of timed) {
    const time = TIMED.exec(line)![1]!;
    const [src, dst] = line.slice(route, method).trim().split(' -> ');
    assert.ok(src !== undefined && dst !== undefined && showsName(src, names) && showsName(dst, names), `both ends of the call in ${JSON.stringify(line)}`);
    const verb = line.slice(method, path).trim();
    const cells = line.slice(path);
    // The path cell is at least 16 cells wide: a target's first five characters always show.
    const candidates = facts.filter((f) => f.time.startsWith(time) && showsStart(verb, f.verb) && cells.startsWith(f.target.slice(0, 5)));
    assert.ok(candidates.length > 0, `a row with the route, verb and target start of a demo entry at ${columns} columns: ${JSON.stringify(line)}`);
    assert.ok(candidates.some((f) => cells.slice(Math.min(f.target.length, 5)).includes(` ${f.outcome.slice(0, 3)}`)), `the outcome of ${JSON.stringify(line)} is one of ${candidates.map((f) => f.outcome).join(', ')}`);
  }
  return lines;
}

const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 120, rows: 40 },
  { columns: 200, rows: 50 },
] as const;

for (const { columns, rows } of SIZES) {
  test(`TUI layout in tmux at ${columns}x${rows}: both ends of every call, no wraps, a finished demo's span, help sized to its lines`, { skip: skipFor(hasTmux ? null : NO_TMUX) }, async () => {
    const entries = parseNdjson<Entry>((await runShark(['read', '-o', 'json', DEMO_FILE])).stdout);
    const names = new Set(entries.flatMap((entry) => [endpointLabel(entry.src), endpointLabel(entry.dst)]));
    const facts = entries.map(factsOf);
    const pane = TmuxPane.start('layout', columns, rows, `cd ${REPO_ROOT} && ${terminalEnv()} ${LAUNCHER} demo`);
    try {
      // While the replay runs: a rate, no "source ended".
      let screen = await pane.waitForScreen('live rows', (s) => s.split('\n').filter((line) => TIMED.test(line)).length >= 5 && !/source ended/.test(s));
      assert.match(screen.split('\n')[1]!, /^entries \d+\/\d+ │ \d+\.\d\/s │/, `a rate while live:\n${screen}`);
      checkScreen(pane, columns, names, facts);

      screen = await pane.waitForScreen('the end of the replay', (s) => /source ended/.test(s));
      const lines = checkScreen(pane, columns, names, facts);
      assert.match(lines[0]!, /│ targets \d+ │ source ended$/, 'source ended on the first line, whole');
      assert.match(lines[1]!, /^entries (\d+)\/\1 │ span \d+\.\ds │ drops 0/, 'the span, not a rate');
      assert.doesNotMatch(lines[1]!, /\/s /);
      assert.doesNotMatch(screen, /Waiting for traffic/);
      if (columns >= 120) assert.match(lines[2]!, /TIME \(UTC\)\s+PROTO\s+SRC -> DST\s+METHOD\s+PATH\s+STAT\s+LATENCY\s+REQ\/RESP/);
      // A wide outcome on screen (a PostgreSQL `ready (SCRAM-SHA-256)`) takes its cells from the time's milliseconds.
      else assert.match(lines[2]!, /^ TIME (?:\(UTC\)|UTC)\s+SRC -> DST\s+METHOD\s+PATH\s+STAT\s+LATENCY$/);
      const footer = lines.filter((line) => line.trim() !== '').at(-1)!;
      assert.match(footer, /^q quit {2}\? help/);

      await pane.press('?');
      screen = await pane.waitForScreen('help', (s) => /Keys: entries/.test(s));
      const frame = screen.split('\n').filter((line) => /^[╭│╰]/.test(line));
      const top = frame[0]!;
      assert.match(top, /^╭─+╮$/);
      // As wide as its longest line plus border and padding (4 cells), not the terminal's width.
      const longest = Math.max(...frame.slice(1, -1).map((line) => line.slice(1, line.lastIndexOf('│')).trimEnd().length));
      assert.ok(top.length <= longest + 4 && top.length < columns, `help as wide as its lines (${top.length} of ${columns}, longest line ${longest})`);
      assert.match(frame.at(-1)!, /^╰─+╯$/, `a closed frame:\n${screen}`);
      if (rows >= 40) assert.ok(frame.length < rows - 10, `help as tall as its lines (${frame.length} of ${rows} rows)`);
      assert.match(screen, /│ f\s+follow the newest entries\s+│/);
      await pane.press('Escape');
      await pane.waitForScreen('the list again', (s) => /SRC -> DST/.test(s));

      await pane.press('q');
      await pane.waitForScreen('the exit status', (s) => /EXIT:0/.test(s));
    } finally {
      pane.kill();
    }
  });
}

for (const { columns, rows } of [SIZES[0], SIZES[2]]) {
  test(`TUI in tmux at ${columns}x${rows}: an empty source that ended never says "Waiting for traffic…"`, { skip: skipFor(hasTmux ? null : NO_TMUX) }, async () => {
    const pane = TmuxPane.start('empty', columns, rows, `cd ${REPO_ROOT} && ${terminalEnv()} ${LAUNCHER} read /dev/null`);
    try {
      const screen = await pane.waitForScreen('the ended source', (s) => /source ended/.test(s));
      const lines = screen.split('\n');
      assert.match(lines[0]!, /^kubectl-shark \/dev\/null │ targets \d+ │ source ended$/);
      assert.match(lines[1]!, /^entries 0\/0 │ drops 0 │ FOLLOW │ filter: none$/, 'no rate, no span without entries');
      assert.doesNotMatch(screen, /Waiting for traffic/);
      await pane.press('q');
      await pane.waitForScreen('the exit status', (s) => /EXIT:0/.test(s));
    } finally {
      pane.kill();
    }
  });
}
