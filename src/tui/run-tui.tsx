/**
 * The TUI entry point for `kubectl shark demo`, `read` on a terminal and, later, live taps.
 * Enters the alternate screen, renders <App>, and restores the terminal on every way out: q or
 * ctrl-c, SIGINT/SIGTERM/SIGHUP, a render error or an uncaught exception.
 *
 * Ink (and chalk below it) is imported only after FORCE_COLOR is set to the level decided here,
 * because chalk reads the colour level once, when it is loaded.
 */
import { sanitizeBlock } from '../model/terminal-text.ts';
import type { EntryStore } from '../pipeline/store-api.ts';
import { osc52Sequence } from './clipboard.ts';
import { colorLevelFor, ENTER_FULLSCREEN, LEAVE_FULLSCREEN, type ColorChoice } from './terminal-control.ts';

export interface TuiOptions {
  store: EntryStore;
  /** Shown in the header, e.g. "demo: assets/demo/microservices.pcapng". */
  source: string;
  targets: number;
  color: ColorChoice;
  initialFilter?: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** The variables Ink's CI check (the is-in-ci package) reads, once, when it is loaded. */
const CI_MARKERS = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

/**
 * Ink renders only the last frame when it believes it runs in CI; on a terminal the viewer must
 * render live whatever the environment says (a developer's shell may well export CI). So on a TTY
 * the CI markers are hidden while Ink loads and put back at once: nothing else sees a changed
 * environment, and colour was decided before (FORCE_COLOR), so it does not depend on them either.
 */
async function loadingInkLive<T>(isTTY: boolean, load: () => Promise<T>): Promise<T> {
  if (!isTTY) return load();
  const saved = CI_MARKERS.map((name) => [name, process.env[name]] as const);
  for (const [name] of saved) delete process.env[name];
  try {
    return await load();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** Resolves with the exit code: 0 after q, 128 + n after signal n, 1 after an error. */
export async function runTui(options: TuiOptions): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  process.env.FORCE_COLOR = String(colorLevelFor(options.color, process.env, stdout.isTTY === true));
  const [{ render }, { App }, { compileKfl }] = await loadingInkLive(stdout.isTTY === true, () =>
    Promise.all([import('ink'), import('./app.tsx'), import('../kfl/index.ts')]),
  );

  let isRestored = false;
  const restore = (): void => {
    if (isRestored) return;
    isRestored = true;
    stdout.write(LEAVE_FULLSCREEN);
  };
  stdout.write(ENTER_FULLSCREEN);

  const instance = render(
    <App
      store={options.store}
      source={options.source}
      targets={options.targets}
      compile={(query) => compileKfl(query)}
      initialFilter={options.initialFilter}
      isInputActive={stdin.isTTY === true}
      onCopy={(text) => stdout.write(osc52Sequence(text))}
    />,
    { stdin, stdout, exitOnCtrlC: false, patchConsole: true },
  );

  return new Promise<number>((resolve) => {
    const listeners: [string, (...args: unknown[]) => void][] = [];
    const finish = (code: number, error?: unknown): void => {
      for (const [event, listener] of listeners) process.off(event, listener);
      instance.unmount();
      instance.cleanup();
      restore();
      if (error !== undefined) process.stderr.write(`kubectl-shark: ${sanitizeBlock(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
      resolve(code);
    };
    const on = (event: string, listener: (...args: unknown[]) => void): void => {
      listeners.push([event, listener]);
      process.on(event, listener);
    };
    for (const [signal, code] of Object.entries(SIGNAL_CODES)) on(signal, () => finish(code));
    on('uncaughtException', (error) => finish(1, error));
    on('unhandledRejection', (error) => finish(1, error));
    on('exit', restore);
    instance.waitUntilExit().then(
      () => finish(0),
      (error: unknown) => finish(1, error),
    );
  });
}
