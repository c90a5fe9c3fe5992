/**
 * A long live TUI session keeps its heap flat once the store is full.
 *
 * In a live tap every frame shows text never shown before (the header's counts, the newest rows).
 * Ink 6 cached the measured size of every text it ever laid out in a Map that was never emptied
 * (ink/build/measure-text.js, wrap-text.js): a 30-minute tap at 8k entries/s grew ~20 MB a minute
 * with 396k cached texts. Ink 8 keeps 4,096 of each. This test renders many frames of new rows
 * through the real App and the tap's own store (bounded by --max-entries), and checks that the
 * heap after a full collection does not grow between a first and a later, four times longer part.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EventEmitter } from 'node:events';
import { render } from 'ink';
import { compileKfl } from '../../src/kfl/index.ts';
import { RingEntryStore } from '../../src/pipeline/entry-store.ts';
import { App } from '../../src/tui/app.tsx';
import { makeEntry, plain, settle } from '../helpers/tui-store.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
/** The store's ring is full long before the first measurement, so the entries held stay the same. */
const MAX_ENTRIES = 300;
/** Past the store's fill and Ink's caches' (two generations of 4,096 texts, a few new texts a frame). */
const WARM_UP_FRAMES = 3_000;
const FIRST_PART_FRAMES = 500;
const SECOND_PART_FRAMES = 2_000;

/**
 * A terminal of fixed size that keeps only the last frame (ink-testing-library keeps every frame,
 * which would be the growth measured). Ink renders to it as to the tap's terminal: interactive,
 * not in debug mode, with its frame rate raised so the test is not paced by the 30 fps default.
 */
class LastWriteTerminal extends EventEmitter {
  readonly isTTY = true;
  readonly columns = 140;
  readonly rows = 16;
  /** The last write with text in it (Ink also writes bare control sequences around a frame). */
  last = '';
  write(data: string): boolean {
    if (data.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').length > 0) this.last = data;
    return true;
  }
}

function heapAfterFullCollection(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('TUI: thousands of frames of new rows do not grow the heap once the store is full', async () => {
  let pending: (() => void) | null = null;
  // The store's frame timer, driven by the test: one notification, one frame per new entry.
  const store = new RingEntryStore({ maxEntries: MAX_ENTRIES, schedule: (fn) => ((pending = fn), { cancel: () => (pending = null) }) });
  const terminal = new LastWriteTerminal();
  const ui = render(
    <App store={store} source="tap: memory" targets={4} compile={(query) => compileKfl(query)} isInputActive={false} onCopy={() => {}} size={{ columns: terminal.columns, rows: terminal.rows }} />,
    { stdout: terminal as unknown as NodeJS.WriteStream, interactive: true, maxFps: 10_000, patchConsole: false, exitOnCtrlC: false },
  );
  let index = 0;
  const frames = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i += 1) {
      index += 1;
      store.add(makeEntry({ index, url: `/orders/${index}/items?page=${index % 97}`, elapsedMs: (index % 500) / 10, status: index % 13 === 0 ? 503 : 200 }));
      const fire = pending;
      pending = null;
      fire?.();
      await settle(2);
    }
  };
  try {
    await frames(WARM_UP_FRAMES);
    const atStart = heapAfterFullCollection();
    await frames(FIRST_PART_FRAMES);
    const afterFirst = heapAfterFullCollection();
    await frames(SECOND_PART_FRAMES);
    const afterSecond = heapAfterFullCollection();
    const last = plain(terminal.last);
    assert.match(last, new RegExp(`/orders/${index}/items`), 'the newest entry is on the screen: frames were rendered');
    const firstGrowth = (afterFirst - atStart) / MB;
    const secondGrowth = (afterSecond - afterFirst) / MB;
    console.log(`heap after full collections: ${(atStart / MB).toFixed(1)} MB at frame ${WARM_UP_FRAMES}, +${firstGrowth.toFixed(2)} MB over ${FIRST_PART_FRAMES} frames, +${secondGrowth.toFixed(2)} MB over the next ${SECOND_PART_FRAMES}`);
    // With Ink 6.8's unbounded caches this test measured +37 MB over the first part and +148 MB
    // over the second; Ink 8's stop at their 4,096 texts, and the store is full.
    assert.ok(secondGrowth < 2, `the heap grew ${secondGrowth.toFixed(2)} MB over ${SECOND_PART_FRAMES} frames with the store full (first part: ${firstGrowth.toFixed(2)} MB)`);
  } finally {
    ui.unmount();
    store.dispose();
  }
});
