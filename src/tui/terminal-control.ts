/**
 * Terminal set-up for the full-screen TUI (pure strings and env decisions, no I/O of its own):
 * the alternate screen and cursor sequences (xterm private modes 1049 and 25) and the colour choice.
 */
export const ENTER_FULLSCREEN = '\u001b[?1049h\u001b[H\u001b[?25l';
export const LEAVE_FULLSCREEN = '\u001b[?25h\u001b[?1049l';

export type ColorChoice = 'auto' | 'always' | 'never';

/**
 * The FORCE_COLOR value that makes chalk (through Ink) honour `--color` and NO_COLOR
 * (https://no-color.org: present and not empty disables colour when the user chose nothing),
 * or undefined to leave chalk's own detection alone.
 */
export function forceColorFor(choice: ColorChoice, env: NodeJS.ProcessEnv): string | undefined {
  if (choice === 'never') return '0';
  if (choice === 'always') return env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false' ? env.FORCE_COLOR : '1';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return '0';
  return undefined;
}
