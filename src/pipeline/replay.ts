/**
 * Plays recorded entries at their recorded pace, for `demo`: an entry is released once its offset
 * from the first entry, divided by the speed, has passed on the wall clock. Everything that is due
 * goes out in one batch and the replay then sleeps until the next entry is due, so a busy recording
 * costs one timer per batch, not one per entry. With `loop`, the recording starts over with shifted
 * times and suffixed ids, as if the traffic went on.
 */
import { setTimeout as sleepWithSignal } from 'node:timers/promises';
import type { Entry } from '../model/entry.ts';

export interface ReplayOptions {
  /** Recorded ms per wall-clock ms (default 1); 0 = as fast as possible. */
  speed?: number;
  /** Start over after the last entry, forever (until the signal aborts). */
  loop?: boolean;
  /** Wall clock in ms (default performance.now()); injectable for tests. */
  now?: () => number;
  /** Waits ms (default a timer that the signal cancels); injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Aborting ends the replay promptly; the returned promise then resolves (it does not reject). */
  signal?: AbortSignal;
}

/** Pause between the end of one loop and the start of the next, in recorded time. */
export const LOOP_GAP_MS = 1000;
/** Shortest sleep: entries due within it share a batch instead of each getting its own timer. */
export const MIN_SLEEP_MS = 10;
/** Largest synchronous batch: after it the event loop gets a turn (input, abort, rendering). */
export const MAX_BATCH = 4096;

export async function replayEntries(
  entries: readonly Entry[],
  onEntry: (e: Entry) => void,
  options: ReplayOptions = {},
): Promise<void> {
  const speed = options.speed ?? 1;
  if (!Number.isFinite(speed) || speed < 0) throw new RangeError(`replay speed must be a number >= 0, got ${speed}`);
  const signal = options.signal;
  const first = entries[0];
  if (first === undefined || aborted(signal)) return;
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => sleepWithSignal(ms, undefined, signal ? { signal } : {}));
  const origin = first.timestamp;
  const loopSpanMs = entries[entries.length - 1]!.timestamp - origin + LOOP_GAP_MS;
  const startedAt = now();

  for (let loop = 0; ; loop++) {
    const shiftMs = loop * loopSpanMs;
    let i = 0;
    while (i < entries.length) {
      if (aborted(signal)) return;
      // Recorded time reached so far; with speed 0 everything is due at once.
      const reached = speed === 0 ? Infinity : (now() - startedAt) * speed;
      let batch = 0;
      while (i < entries.length && batch < MAX_BATCH && entries[i]!.timestamp - origin + shiftMs <= reached) {
        onEntry(loop === 0 ? entries[i]! : shifted(entries[i]!, loop, shiftMs));
        i++;
        batch++;
      }
      if (i >= entries.length) break;
      if (batch === MAX_BATCH) {
        await nextTurn();
        continue;
      }
      const waitMs = (entries[i]!.timestamp - origin + shiftMs - reached) / speed;
      await abortable(sleep(Math.max(MIN_SLEEP_MS, waitMs)), signal);
    }
    if (options.loop !== true || aborted(signal)) return;
    if (speed === 0) await nextTurn(); // an endless loop must still let the abort through
  }
}

/** The entry as replayed in loop `loop` (>= 1): later by `shiftMs`, with an id unique across loops. */
export function shifted(entry: Entry, loop: number, shiftMs: number): Entry {
  return {
    ...entry,
    id: `${entry.id}#${loop}`,
    timestamp: entry.timestamp + shiftMs,
    startTime: shiftIso(entry.startTime, shiftMs),
  };
}

const ISO_WITH_MICROS = /^(.*T\d\d:\d\d:\d\d)\.(\d{3})(\d*)Z$/;

/** Shifts an ISO 8601 time by whole ms, keeping digits below the millisecond as they were. */
export function shiftIso(iso: string, shiftMs: number): string {
  const m = ISO_WITH_MICROS.exec(iso);
  if (m === null) {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? iso : new Date(ms + shiftMs).toISOString();
  }
  const ms = Date.parse(`${m[1]}.${m[2]}Z`) + shiftMs;
  return `${new Date(ms).toISOString().slice(0, -1)}${m[3]}Z`;
}

/** Resolves when `wait` does or when the signal aborts, whichever comes first. */
function abortable(wait: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return wait;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    wait.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve(); // the default sleep rejects with AbortError
        else reject(err);
      },
    );
  });
}

/** A function, not an inline check: onEntry may abort, which TypeScript's narrowing cannot see. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
