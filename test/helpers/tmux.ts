/**
 * A tmux pane on a private server (`tmux -L`), for TUI tests in a real terminal: start a command at
 * a given size, read the screen back (with `-e`, the SGR attributes as tmux keeps them), send keys,
 * wait for a screen. Never touches the user's default tmux server.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
export const NO_TMUX = 'tmux is not installed (apt-get install -y tmux)';

/**
 * The environment a TUI under test sees, whatever the test runner's is: an xterm with 256 colours,
 * and none of the variables that change colour or Ink's CI mode unless the test sets them.
 */
export function terminalEnv(set: Record<string, string> = {}): string {
  const unset = ['CI', 'CONTINUOUS_INTEGRATION', 'NO_COLOR', 'FORCE_COLOR', 'COLORTERM'].filter((name) => !(name in set));
  const assignments = Object.entries({ TERM: 'xterm-256color', ...set }).map(([name, value]) => `${name}='${value}'`);
  return ['env', ...unset.map((name) => `-u ${name}`), ...assignments].join(' ');
}

export class TmuxPane {
  readonly #socket: string;
  readonly #session = 'tui';

  private constructor(socket: string) {
    this.#socket = socket;
  }

  /** Runs `shellCommand` (sh -c) in a new pane of columns x rows; the pane stays after it exits. */
  static start(name: string, columns: number, rows: number, shellCommand: string): TmuxPane {
    const pane = new TmuxPane(`shark-${name}-${process.pid}-${Date.now()}`);
    pane.tmux('-f', '/dev/null', 'new-session', '-d', '-s', pane.#session, '-x', String(columns), '-y', String(rows), 'sh', '-c', `${shellCommand}; echo "EXIT:$?"; sleep 120`);
    return pane;
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
  }

  /** The visible screen as text. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.#session);
  }

  /** The visible screen with its SGR sequences (colours, bold, inverse). */
  screenWithAttributes(): string {
    return this.tmux('capture-pane', '-p', '-e', '-t', this.#session);
  }

  /** One key at a time: keys that arrive in one read reach Ink as one input string. */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) {
      this.tmux('send-keys', '-t', this.#session, key);
      await sleep(60);
    }
  }

  type(text: string): void {
    this.tmux('send-keys', '-t', this.#session, '-l', text);
  }

  async waitForScreen(what: string, accept: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = this.screen();
      if (accept(screen)) return screen;
      await sleep(100);
    }
    assert.fail(`timed out waiting for ${what}; screen:\n${screen}`);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.#socket, 'kill-server']);
  }
}

/** SGR sequences that set a foreground or background colour (16, 256 or truecolor). */
export const COLOR_SGR = /\u001b\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|[34]8;[25];[0-9;]+)(?:;[0-9;]*)?m/;
