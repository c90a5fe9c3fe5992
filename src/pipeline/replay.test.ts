import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
import { LOOP_GAP_MS, MAX_BATCH, replayEntries, shiftIso } from './replay.ts';
import { testEntry } from '../../test/helpers/entry-store.ts';

const T0 = 1_700_000_000_000;

/** A clock that sleep() moves forward: every wait is recorded, and no test waits for real. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; waits: number[] } {
  let t = 500;
  const waits: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      waits.push(ms);
      t += ms;
    },
    waits,
  };
}

/** Entries at these offsets (ms) from T0, ids "0", "1", ... */
function recording(offsets: readonly number[]): Entry[] {
  return offsets.map((o, i) => testEntry({ id: String(i), timestamp: T0 + o }));
}

test('entries come out in order at their recorded pace, due ones in one batch', async () => {
  const time = fakeTime();
  const out: { id: string; at: number }[] = [];
  await replayEntries(recording([0, 0, 1000, 1000, 1000, 3000]), (e) => out.push({ id: e.id, at: time.now() }), time);
  assert.deepEqual(out, [
    { id: '0', at: 500 }, { id: '1', at: 500 },
    { id: '2', at: 1500 }, { id: '3', at: 1500 }, { id: '4', at: 1500 },
    { id: '5', at: 3500 },
  ]);
  assert.deepEqual(time.waits, [1000, 2000], 'one sleep per batch, not per entry');
});

test('speed 2 halves the waits; speed 0 does not wait at all', async () => {
  const fast = fakeTime();
  const ids: string[] = [];
  await replayEntries(recording([0, 1000, 3000]), (e) => ids.push(e.id), { ...fast, speed: 2 });
  assert.deepEqual(fast.waits, [500, 1000]);
  assert.deepEqual(ids, ['0', '1', '2']);
  const instant = fakeTime();
  const all: string[] = [];
  await replayEntries(recording([0, 1000, 3000, 60_000]), (e) => all.push(e.id), { ...instant, speed: 0 });
  assert.deepEqual(instant.waits, []);
  assert.deepEqual(all, ['0', '1', '2', '3']);
});

test('a late wake-up releases everything that became due together', async () => {
  let t = 0;
  const waits: number[] = [];
  const batches: string[][] = [];
  let current: string[] = [];
  const sleep = async (ms: number): Promise<void> => {
    waits.push(ms);
    batches.push(current);
    current = [];
    t += ms + 1500; // the machine was busy
  };
  await replayEntries(recording([0, 1000, 2000, 2400, 5000]), (e) => current.push(e.id), { now: () => t, sleep });
  batches.push(current);
  assert.deepEqual(batches, [['0'], ['1', '2', '3'], ['4']]);
  assert.deepEqual(waits, [1000, 5000 - 2500]);
});

test('huge due batches are split so the event loop gets a turn', async () => {
  const time = fakeTime();
  const offsets = new Array<number>(MAX_BATCH * 2 + 1).fill(0);
  let count = 0;
  await replayEntries(recording(offsets), () => count++, time);
  assert.equal(count, offsets.length);
  assert.deepEqual(time.waits, []);
});

test('loop starts over with shifted times and #<loop> ids', async () => {
  const time = fakeTime();
  const controller = new AbortController();
  const out: Entry[] = [];
  const source = recording([0, 2000]);
  await replayEntries(source, (e) => {
    out.push(e);
    if (out.length === 6) controller.abort();
  }, { ...time, loop: true, signal: controller.signal });
  assert.deepEqual(out.map((e) => e.id), ['0', '1', '0#1', '1#1', '0#2', '1#2']);
  const span = 2000 + LOOP_GAP_MS;
  assert.deepEqual(out.map((e) => e.timestamp - T0), [0, 2000, span, span + 2000, 2 * span, 2 * span + 2000]);
  assert.equal(out[2]!.startTime, shiftIso(source[0]!.startTime, span));
  assert.equal(Date.parse(out[3]!.startTime), out[3]!.timestamp, 'startTime agrees with timestamp');
  assert.deepEqual(time.waits, [2000, LOOP_GAP_MS, 2000, LOOP_GAP_MS, 2000]);
  assert.equal(source[0]!.id, '0', 'the recording itself is not modified');
});

test('shiftIso keeps the microseconds', () => {
  assert.equal(shiftIso('2016-01-06T20:42:09.222549Z', 1000), '2016-01-06T20:42:10.222549Z');
  assert.equal(shiftIso('2016-01-06T23:59:59.999001Z', 2), '2016-01-07T00:00:00.001001Z');
  assert.equal(shiftIso('2016-01-06T20:42:09Z', 1000), '2016-01-06T20:42:10.000Z');
});

test('abort during a sleep ends the replay at once', async () => {
  const controller = new AbortController();
  const ids: string[] = [];
  let sleeps = 0;
  const never = (): Promise<void> => {
    sleeps++;
    queueMicrotask(() => controller.abort());
    return new Promise<void>(() => {}); // a sleep that would never end by itself
  };
  await replayEntries(recording([0, 60_000]), (e) => ids.push(e.id), { now: () => 0, sleep: never, signal: controller.signal });
  assert.deepEqual(ids, ['0']);
  assert.equal(sleeps, 1);
});

test('abort with the default sleep clears its timer, and an aborted signal replays nothing', async () => {
  const controller = new AbortController();
  const ids: string[] = [];
  const done = replayEntries(recording([0, 3_600_000]), (e) => ids.push(e.id), { signal: controller.signal });
  setImmediate(() => controller.abort());
  await done; // would hang for an hour if the timer survived the abort
  assert.deepEqual(ids, ['0']);
  const nothing: string[] = [];
  await replayEntries(recording([0]), (e) => nothing.push(e.id), { signal: AbortSignal.abort() });
  assert.deepEqual(nothing, []);
});

test('speed 0 with loop still stops on abort', async () => {
  const controller = new AbortController();
  let count = 0;
  setImmediate(() => controller.abort());
  await replayEntries(recording([0, 10]), () => count++, { speed: 0, loop: true, signal: controller.signal });
  assert.ok(count >= 2, `released ${count}`);
});

test('empty recordings and bad speeds', async () => {
  await replayEntries([], () => assert.fail('nothing to replay'), { loop: true });
  await assert.rejects(replayEntries(recording([0]), () => {}, { speed: -1 }), RangeError);
});
