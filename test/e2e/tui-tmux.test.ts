/**
 * The TUI end to end, in a real terminal: tmux (a private server) runs the real `kubectl shark
 * demo` at 120x40 and at 80x24, sends keys and reads the screen back with capture-pane. Skipped,
 * with the reason printed, when tmux is missing.
 * SHARK_TUI_SCREENS=path writes the captured screens of both sizes there as Markdown
 * (docs/tui-screens.md).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { hasTmux, NO_TMUX, terminalEnv, TmuxPane } from '../helpers/tmux.ts';
import { skipFor } from '../helpers/requirements.ts';

const LABEL = 'bin/kubectl-shark demo';
const ROW = /^[ ▸]\d\d:\d\d:\d\d(?:\.\d{3})? (?:[A-Za-z0-9/]+\s+)?(\S+) -> (\S+)\s/;
/** The selected row when it is an HTTP call (the demo's Redis and PostgreSQL rows have other verbs). */
const SELECTED_HTTP = /^▸.* (?:GET|POST|PUT|DELETE) +\//m;
const rowsOf = (screen: string): RegExpExecArray[] => screen.split('\n').map((line) => ROW.exec(line)).filter((row) => row !== null);

interface Capture {
  readonly title: string;
  readonly screen: string;
}
const SIZES = [
  { columns: 120, rows: 40 },
  { columns: 80, rows: 24 },
] as const;
const captures = new Map<string, Capture[]>();

after(() => {
  const out = process.env.SHARK_TUI_SCREENS;
  if (out !== undefined && captures.size > 0) writeFileSync(out, screensMarkdown(captures));
});

for (const { columns, rows } of SIZES) {
  test(`TUI in tmux at ${columns}x${rows}: rows, filter, bad filter, service map, detail, help, clean quit`, { skip: skipFor(hasTmux ? null : NO_TMUX) }, async () => {
    process.stdout.write(`# running ${LABEL} at ${columns}x${rows}\n`);
    const screens: Capture[] = [];
    captures.set(`${columns}x${rows}`, screens);
    const keep = (title: string, screen: string): void => void screens.push({ title, screen: screen.replace(/\s+$/, '') });
    const pane = TmuxPane.start('tui', columns, rows, `cd ${REPO_ROOT} && ${terminalEnv()} ${LAUNCHER} demo`);
    const session = 'tui';
    const tmux = (...args: string[]): string => pane.tmux(...args);
    const waitForScreen = (_session: string, what: string, accept: (screen: string) => boolean): Promise<string> => pane.waitForScreen(what, accept);
    try {
      const started = Date.now();
      let screen = await waitForScreen(session, 'entry rows', (s) => rowsOf(s).length >= 3);
      process.stdout.write(`# first rows after ${Date.now() - started} ms\n`);
      assert.match(screen, /kubectl-shark demo/);
      assert.match(screen, /entries \d+\/\d+ .* FOLLOW .* filter: none/);
      await sleep(1500); // let the list fill a little for the captures
      keep('Entry list (follow mode)', tmux('capture-pane', '-p', '-t', session));

      tmux('send-keys', '-t', session, '/');
      tmux('send-keys', '-t', session, '-l', 'dst.name == "carts"');
      screen = await waitForScreen(session, 'the valid query', (s) => /✓ valid/.test(s));
      keep('Filter bar, valid query', screen);
      tmux('send-keys', '-t', session, 'Enter');
      screen = await waitForScreen(session, 'the filtered list', (s) => /filter: dst\.name == "carts"/.test(s) && rowsOf(s).length > 0);
      assert.ok(rowsOf(screen).every((row) => row[2] === 'carts'), `only calls to carts:\n${screen}`);
      keep('Entry list filtered on dst.name == "carts"', screen);

      tmux('send-keys', '-t', session, '/');
      await waitForScreen(session, 'the filter bar', (s) => /esc cancel/.test(s));
      tmux('send-keys', '-t', session, 'C-u');
      tmux('send-keys', '-t', session, '-l', 'response.status == ');
      screen = await waitForScreen(session, 'the error of a bad query', (s) => /✗ expected a value/.test(s));
      assert.match(screen, /^\/ response\.status ==\s*$/m);
      assert.match(screen, /^\s+\^\s*$/m);
      keep('Filter bar, invalid query', screen);
      tmux('send-keys', '-t', session, 'C-u', 'Enter');
      await waitForScreen(session, 'no filter', (s) => /filter: none/.test(s) && !/✓|✗/.test(s));

      tmux('send-keys', '-t', session, 'm');
      screen = await waitForScreen(session, 'the service map', (s) => /CALLER -> CALLEE/.test(s) && /│ (payment|front-end) │/.test(s));
      if (columns >= 120) {
        for (const service of ['front-end', 'catalogue', 'carts', 'orders', 'payment', 'user']) assert.match(screen, new RegExp(`│ ${service} │`), service);
        assert.ok((screen.match(/▶/g) ?? []).length >= 5, 'edges drawn with arrows');
      }
      assert.match(screen, /front-end -> catalogue\s+HTTP\s+\d+/);
      keep('Service map', screen);

      tmux('send-keys', '-t', session, 'Tab');
      await waitForScreen(session, 'the list again', (s) => /TIME (?:\(UTC\)|UTC) /.test(s));
      // Up to the nearest HTTP row above the newest, one row at a time (the next key once the selection moved).
      const selected = (text: string): string | undefined => text.split('\n').find((line) => line.startsWith('▸'));
      for (let i = 0; i < rows && (i === 0 || !SELECTED_HTTP.test(pane.screen())); i++) {
        const before = selected(pane.screen());
        tmux('send-keys', '-t', session, 'k');
        await waitForScreen(session, 'the selection moved up', (s) => selected(s) !== before);
      }
      tmux('send-keys', '-t', session, 'Enter');
      screen = await waitForScreen(session, 'the entry detail', (s) => /^Headers \(\d+\)/m.test(s));
      assert.match(screen, /^(GET|POST|PUT|DELETE) \S+ HTTP\/1\.1/m);
      assert.match(screen, /^ {2}Host: /m);
      keep('Entry detail', screen);

      tmux('send-keys', '-t', session, '?');
      screen = await waitForScreen(session, 'help', (s) => /Keys: entry detail/.test(s));
      keep('Help overlay (detail view)', screen);
      tmux('send-keys', '-t', session, 'Escape');
      await waitForScreen(session, 'the detail again', (s) => !/Keys: entry detail/.test(s));
      tmux('send-keys', '-t', session, 'Escape');
      await waitForScreen(session, 'the list again', (s) => /TIME (?:\(UTC\)|UTC) /.test(s));
      tmux('send-keys', '-t', session, 'G');
      screen = await waitForScreen(session, 'the end of the replay', (s) => /source ended/.test(s) && /FOLLOW/.test(s));
      assert.match(screen, /│ span \d+\.\ds │/, 'a finished demo shows its span, not a rate');
      keep('Entry list after the demo ended', screen);

      tmux('send-keys', '-t', session, 'q');
      screen = await waitForScreen(session, 'the exit status', (s) => /EXIT:\d+/.test(s));
      assert.match(screen, /EXIT:0/);
      assert.doesNotMatch(screen, /TIME \(UTC\)|kubectl-shark demo/, 'the alternate screen is gone');
      assert.equal(tmux('display-message', '-p', '-t', session, '#{alternate_on}').trim(), '0');
      assert.equal(tmux('display-message', '-p', '-t', session, '#{cursor_flag}').trim(), '1', 'cursor visible again');
    } finally {
      pane.kill();
    }
  });
}

function screensMarkdown(bySize: ReadonlyMap<string, readonly Capture[]>): string {
  const parts = [
    '# kubectl-shark TUI screens',
    '',
    `Text captures from test/e2e/tui-tmux.test.ts (tmux, ${[...bySize.keys()].join(' and ')}, TERM=xterm-256color, ${LABEL}),`,
    'regenerated with `npm run build && SHARK_TUI_SCREENS=docs/tui-screens.md node --import tsx --test test/e2e/tui-tmux.test.ts`.',
    'Colours are left out: tmux keeps them, these captures are the text.',
    "The demo mixes protocols: HTTP calls between the shop's services, REDIS rows from the catalogue's",
    "cache (`catalogue -> redis`) and PGSQL rows from the orders' database (`orders -> postgres`), each an",
    'edge of the service map labelled by its protocol. test/e2e/tui-demo-data-tmux.test.ts checks those',
    'rows, a `redis` and a `postgresql` filter applied while the demo plays, their detail panes and the map.',
    'What the viewer keeps in memory: `--max-entries N` entries (a ring, default 100000; the header counts',
    'those evicted) and, beside them, their bodies within `--max-body-memory SIZE` (default 256 MiB, e.g.',
    '`1Gi`, `0` for none): past it the oldest bodies are dropped, the header says `bodies dropped N` and the',
    'detail pane shows the body as dropped. A bad size exits 2 with one message and a pointer to `--help`.',
  ];
  for (const [size, screens] of bySize) {
    parts.push('', `## ${size}`);
    for (const { title, screen } of screens) parts.push('', `### ${title} (${size})`, '', '```text', screen, '```');
  }
  return `${parts.join('\n')}\n`;
}
