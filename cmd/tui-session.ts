/**
 * Runs the TUI over a RingEntryStore fed in the background (a capture file, the demo replay, a
 * live tap). The feed is aborted when the user quits; a feed error found at once (not a capture,
 * missing file) is reported before the screen is taken, a later one after it is given back.
 */
import type { CompiledFilter } from '../src/kfl/api.ts';
import { RingEntryStore, type EntryStoreOptions } from '../src/pipeline/entry-store.ts';
import { runTui } from '../src/tui/run-tui.tsx';
import type { ColorChoice } from '../src/tui/terminal-control.ts';

export interface TuiSessionOptions {
  readonly source: string;
  readonly targets: number;
  readonly color: ColorChoice;
  readonly maxEntries: number;
  /** Bytes of bodies kept beside the entries (--max-body-memory); the store's default without it. */
  readonly maxBodyMemory?: number;
  readonly filter: CompiledFilter | undefined;
  /** Fills the store until done or aborted; rejects with what went wrong. */
  readonly feed: (store: RingEntryStore, signal: AbortSignal) => Promise<void>;
  /** Maps a feed error to an exit code after printing it. */
  readonly report: (err: unknown) => number;
}

/** How long a feed may take to fail before the screen is taken over (a bad file fails at once). */
const EARLY_FAILURE_MS = 300;

/** The store's options from the session's flags. */
export function tuiStoreOptions(options: Pick<TuiSessionOptions, 'maxEntries' | 'maxBodyMemory'>): EntryStoreOptions {
  return { maxEntries: options.maxEntries, ...(options.maxBodyMemory !== undefined ? { maxBodyBytes: options.maxBodyMemory } : {}) };
}

export async function runTuiSession(options: TuiSessionOptions): Promise<number> {
  const store = new RingEntryStore(tuiStoreOptions(options));
  if (options.filter) store.setFilter(options.filter);
  const abort = new AbortController();
  let feedError: unknown;
  let failed = false;
  const feeding = options
    .feed(store, abort.signal)
    .catch((err: unknown) => {
      failed = true;
      feedError = err;
    })
    .finally(() => store.end());
  await Promise.race([feeding, new Promise((r) => setTimeout(r, EARLY_FAILURE_MS))]);
  if (failed) {
    store.dispose();
    return options.report(feedError);
  }
  const code = await runTui({
    store,
    source: options.source,
    targets: options.targets,
    color: options.color,
    ...(options.filter ? { initialFilter: options.filter.query } : {}),
  });
  abort.abort();
  await feeding;
  store.dispose();
  if (failed && !abort.signal.aborted) return options.report(feedError);
  return failed ? Math.max(code, options.report(feedError)) : code;
}
