/**
 * Colour in a real terminal: tmux (a private server) runs `kubectl shark demo` as an xterm with 256
 * colours would, and capture-pane -e shows which SGR colours reached the screen. `--color auto` on
 * such a terminal is in colour, also when the user's shell exports CI (Ink must still draw live
 * frames, chalk must still colour); NO_COLOR=1 and `--color never` give none.
 * Skipped, with the reason printed, when tmux is missing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAUNCHER } from '../helpers/run-cli.ts';
import { REPO_ROOT } from '../helpers/shared-pcaps.ts';
import { COLOR_SGR, hasTmux, NO_TMUX, terminalEnv, TmuxPane } from '../helpers/tmux.ts';
import { skipFor } from '../helpers/requirements.ts';

// Rows, with the milliseconds or without them (80 columns beside a wide outcome, e.g. a PostgreSQL command tag).
const ROW = /^[ ▸]\d\d:\d\d:\d\d(?:\.\d{3})? /m;

interface Case {
  readonly name: string;
  readonly env?: Record<string, string>;
  readonly args?: string;
  readonly coloured: boolean;
}

const CASES: readonly Case[] = [
  { name: 'auto on xterm-256color, no CI variable', coloured: true },
  { name: 'auto on xterm-256color with CI=true exported (Ink live, chalk in colour)', env: { CI: 'true' }, coloured: true },
  { name: 'auto with NO_COLOR=1', env: { NO_COLOR: '1' }, coloured: false },
  { name: '--color never', args: '--color never', coloured: false },
  { name: '--color always with TERM=dumb', env: { TERM: 'dumb' }, args: '--color always', coloured: true },
];

/** The smallest terminal the TUI supports and a large one (issue 11's acceptance sizes). */
const SIZES: readonly (readonly [number, number])[] = [
  [80, 24],
  [200, 50],
];

for (const c of CASES) for (const [columns, rows] of SIZES) {
  test(`TUI colour in tmux at ${columns}x${rows}: ${c.name} -> ${c.coloured ? 'colour' : 'no colour'}`, { skip: skipFor(hasTmux ? null : NO_TMUX) }, async () => {
    const pane = TmuxPane.start('color', columns, rows, `cd ${REPO_ROOT} && ${terminalEnv(c.env)} ${LAUNCHER} demo --speed 0 ${c.args ?? ''}`);
    try {
      // Rows on screen while the TUI runs: Ink draws live frames (in its CI mode it draws nothing
      // until it exits).
      await pane.waitForScreen('entry rows', (screen) => ROW.test(screen) && /source ended/.test(screen));
      const screen = pane.screenWithAttributes();
      if (c.coloured) assert.match(screen, COLOR_SGR, `colour codes expected:\n${JSON.stringify(screen.slice(0, 600))}`);
      else assert.doesNotMatch(screen, COLOR_SGR, `no colour codes expected:\n${JSON.stringify(screen.slice(0, 600))}`);
      assert.doesNotMatch(pane.screen(), /EXIT:/, 'still running');
      await pane.press('q');
      await pane.waitForScreen('the exit status', (s) => /EXIT:0/.test(s));
    } finally {
      pane.kill();
    }
  });
}
