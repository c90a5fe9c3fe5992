/**
 * The TUI's layout in real terminals of 80x24, 120x40 and 200x50: tmux (a private server) runs
 * `kubectl shark demo` and the test reads the screen back. Every visible row shows both ends of
 * its call (whole, or shortened in the middle), the method, the start of the path and the status;
 * no line wraps (capture-pane -J joins wrapped lines, so its line count would differ); the header
 * lines fit; a finished source shows the time its traffic spans, not a rate, and never "Waiting
 * for traffic…"; the help overlay is as big as its lines. Skipped, with the reason printed, when
 * tmux is missing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry as Entry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { endpointLabel } from '../../src/tui/entry-row.ts';
import { LAUNCHER, parseNdjson, runShark } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { hasTmux, NO_TMUX, terminalEnv, TmuxPane } from '../helpers/tmux.ts';

const DEMO_FILE = join(REPO_ROOT, 'assets', 'demo', 'microservices.pcapng');
const ROW = /^[ ▸]\d\d:\d\d:\d\d(?:\.\d{3})? (?:HTTP\s+)?(\S+) -> (\S+)\s+(GET|POST|PUT|PATCH|DELETE)\s+(\/\S*)\s+(\d{3}|ERR|-)(?:\s|$)/;
const TIMED = /^[ ▸]\d\d:\d\d:\d\d/;

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

function checkScreen(pane: TmuxPane, columns: number, names: ReadonlySet<string>, paths: readonly string[]): string[] {
  const screen = pane.screen();
  const joined = pane.tmux('capture-pane', '-p', '-J', '-t', 'tui');
  assert.equal(joined.split('\n').length, screen.split('\n').length, `no line wraps at ${columns} columns:\n${screen}`);
  const lines = screen.split('\n');
  assert.ok(lines.every((line) => line.length <= columns));
  assert.match(lines[0]!, /^kubectl-shark demo: \S+ │ targets \d+/, 'header line 1');
  assert.match(lines[1]!, /^entries \d+\/\d+ │ .* │ drops \d+ .*│ (FOLLOW|PAUSED) │ filter: none$/, 'header line 2 whole');
  const timed = lines.filter((line) => TIMED.test(line));
  assert.ok(timed.length >= 5, `rows on screen:\n${screen}`);
  for (const line of timed) {
    const row = ROW.exec(line);
    assert.ok(row !== null, `a row with route, method, path and status at ${columns} columns: ${JSON.stringify(line)}`);
    assert.ok(showsName(row[1]!, names), `source ${row[1]} in ${JSON.stringify(line)}`);
    assert.ok(showsName(row[2]!, names), `destination ${row[2]} in ${JSON.stringify(line)}`);
    const pathStart = row[4]!.replace(/…$/, '');
    assert.ok(pathStart.length >= 5 || paths.includes(pathStart), `path start ${row[4]}`);
    assert.ok(paths.some((path) => path.startsWith(pathStart)), `path ${row[4]} is one of the demo's`);
  }
  return lines;
}

const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 120, rows: 40 },
  { columns: 200, rows: 50 },
] as const;

for (const { columns, rows } of SIZES) {
  test(`TUI layout in tmux at ${columns}x${rows}: both ends of every call, no wraps, a finished demo's span, help sized to its lines`, { skip: hasTmux ? false : NO_TMUX }, async () => {
    const entries = parseNdjson<Entry>((await runShark(['read', '-o', 'json', DEMO_FILE])).stdout);
    const names = new Set(entries.flatMap((entry) => [endpointLabel(entry.src), endpointLabel(entry.dst)]));
    const paths = [...new Set(entries.map((entry) => entry.request.url))];
    const pane = TmuxPane.start('layout', columns, rows, `cd ${REPO_ROOT} && ${terminalEnv()} ${LAUNCHER} demo`);
    try {
      // While the replay runs: a rate, no "source ended".
      let screen = await pane.waitForScreen('live rows', (s) => s.split('\n').filter((line) => TIMED.test(line)).length >= 5 && !/source ended/.test(s));
      assert.match(screen.split('\n')[1]!, /^entries \d+\/\d+ │ \d+\.\d\/s │/, `a rate while live:\n${screen}`);
      checkScreen(pane, columns, names, paths);

      screen = await pane.waitForScreen('the end of the replay', (s) => /source ended/.test(s));
      const lines = checkScreen(pane, columns, names, paths);
      assert.match(lines[0]!, /│ targets \d+ │ source ended$/, 'source ended on the first line, whole');
      assert.match(lines[1]!, /^entries (\d+)\/\1 │ span \d+\.\ds │ drops 0/, 'the span, not a rate');
      assert.doesNotMatch(lines[1]!, /\/s /);
      assert.doesNotMatch(screen, /Waiting for traffic/);
      if (columns >= 120) assert.match(lines[2]!, /TIME \(UTC\)\s+PROTO\s+SRC -> DST\s+METHOD\s+PATH\s+STAT\s+LATENCY\s+REQ\/RESP/);
      else assert.match(lines[2]!, /^ TIME \(UTC\)\s+SRC -> DST\s+METHOD\s+PATH\s+STAT\s+LATENCY$/);
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
  test(`TUI in tmux at ${columns}x${rows}: an empty source that ended never says "Waiting for traffic…"`, { skip: hasTmux ? false : NO_TMUX }, async () => {
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
