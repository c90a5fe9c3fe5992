/**
 * Terminal set-up for the full-screen TUI (pure strings and env decisions, no I/O of its own):
 * the alternate screen and cursor sequences (xterm private modes 1049 and 25) and the colour choice.
 */
export const ENTER_FULLSCREEN = '\u001b[?1049h\u001b[H\u001b[?25l';
export const LEAVE_FULLSCREEN = '\u001b[?25h\u001b[?1049l';

export type ColorChoice = 'auto' | 'always' | 'never';

/** chalk's levels: none, 16 colours, 256 colours, truecolor. */
export type ColorLevel = 0 | 1 | 2 | 3;

/**
 * The colour level for `--color` and the environment, decided here once and handed to chalk (under
 * Ink) as FORCE_COLOR, so chalk's own guesses (among them "any CI variable means no colour") never
 * apply. In order:
 * - `never`: none. `always`: FORCE_COLOR's level when it asks for colour, else what TERM and
 *   COLORTERM say the terminal can do, at least 16 colours.
 * - `auto`: NO_COLOR present and not empty (https://no-color.org) turns colour off; else an explicit
 *   FORCE_COLOR decides (`0`/`false` none, `1`-`3`, empty or `true` 16 colours); else colour only on
 *   a terminal (stdout a TTY, TERM set and not `dumb`), as deep as TERM and COLORTERM say.
 */
export function colorLevelFor(choice: ColorChoice, env: NodeJS.ProcessEnv, isTTY: boolean): ColorLevel {
  if (choice === 'never') return 0;
  const forced = forcedLevel(env.FORCE_COLOR);
  if (choice === 'always') return forced !== undefined && forced > 0 ? forced : (Math.max(1, terminalLevel(env)) as ColorLevel);
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (forced !== undefined) return forced;
  return isTTY ? terminalLevel(env) : 0;
}

/** FORCE_COLOR as the force-color convention (and chalk) reads it; undefined when unset. */
function forcedLevel(value: string | undefined): ColorLevel | undefined {
  if (value === undefined) return undefined;
  if (value === 'false' || value === '0') return 0;
  const level = Number.parseInt(value, 10);
  return Number.isNaN(level) || level < 1 ? 1 : (Math.min(level, 3) as ColorLevel);
}

/** What TERM and COLORTERM say a terminal can show: no TERM or `dumb` means no colour. */
function terminalLevel(env: NodeJS.ProcessEnv): ColorLevel {
  const term = env.TERM ?? '';
  const colorTerm = env.COLORTERM ?? '';
  if (term === 'dumb') return 0;
  if (colorTerm === 'truecolor' || colorTerm === '24bit' || /-(direct|truecolor)$/.test(term)) return 3;
  if (/-256(color)?$/.test(term)) return 2;
  return term !== '' || colorTerm !== '' ? 1 : 0;
}
