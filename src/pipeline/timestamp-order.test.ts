import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEntry } from '../../test/helpers/entries.ts';
import { isoFromMicros, type Entry } from '../model/entry.ts';
import { TimestampOrderer } from './timestamp-order.ts';

function entry(id: string, tsUs: number, bodyChars = 0): Entry {
  return buildEntry({
    id,
    timestampUs: tsUs,
    elapsedMs: 0,
    requestSize: 0,
    responseSize: 0,
    requestHeadersSize: 0,
    statusText: 'OK',
    content: { size: bodyChars, mimeType: '', text: 'x'.repeat(bodyChars) },
    responseHeadersSize: 0,
  });
}

test('isoFromMicros keeps microseconds', () => {
  assert.equal(isoFromMicros(1452112929222549), '2016-01-06T20:42:09.222549Z');
  assert.equal(isoFromMicros(1000), '1970-01-01T00:00:00.001000Z');
});

test('entries wait for the watermark and come out in request-start order', () => {
  const out: string[] = [];
  const orderer = new TimestampOrderer((e) => out.push(e.id));
  orderer.push(entry('1-0', 3_000_000));
  orderer.push(entry('0-0', 1_000_000));
  orderer.push(entry('2-0', 2_000_000));
  orderer.releaseBefore(1_500_000);
  assert.deepEqual(out, ['0-0']);
  orderer.releaseBefore(Infinity);
  assert.deepEqual(out, ['0-0', '2-0', '1-0']);
});

test('an entry waits while a request of its millisecond may still be pending: timestamps are whole milliseconds, the watermark is not', () => {
  const out: string[] = [];
  const orderer = new TimestampOrderer((e) => out.push(e.id));
  // Pipelined request 111-6 started at .822232 and is still pending; 113-6 started at .822917.
  orderer.push(entry('113-6', 1_700_000_000_822_917));
  orderer.releaseBefore(1_700_000_000_822_232);
  assert.deepEqual(out, [], 'held: both are stamped 1700000000822 ms');
  orderer.push(entry('111-6', 1_700_000_000_822_232));
  orderer.releaseBefore(1_700_000_000_823_000);
  assert.deepEqual(out, ['111-6', '113-6']);
});

test('equal start times are ordered by connection then ordinal, numerically', () => {
  const out: string[] = [];
  const orderer = new TimestampOrderer((e) => out.push(e.id));
  for (const id of ['10-0', '9-1', '9-0', '2-10', '2-9']) orderer.push(entry(id, 5_000_000));
  orderer.releaseAll();
  assert.deepEqual(out, ['2-9', '2-10', '9-0', '9-1', '10-0']);
});

test('UDP flow ids (u<flow>-<n>) come after TCP connection ids at equal times, numerically among themselves', () => {
  const out: string[] = [];
  const orderer = new TimestampOrderer((e) => out.push(e.id));
  for (const id of ['u10-0', '3-0', 'u9-1', 'u9-0', '10-0']) orderer.push(entry(id, 5_000_000));
  orderer.releaseAll();
  assert.deepEqual(out, ['3-0', '10-0', 'u9-0', 'u9-1', 'u10-0']);
});

test('a full buffer releases the oldest early and counts it', () => {
  const out: string[] = [];
  const orderer = new TimestampOrderer((e) => out.push(e.id), { maxEntries: 2 });
  orderer.push(entry('0-0', 1));
  orderer.push(entry('0-1', 2));
  orderer.push(entry('0-2', 3));
  assert.deepEqual(out, ['0-0']);
  assert.equal(orderer.overflow, 1);
  assert.equal(orderer.held, 2);
});

test('the body-byte bound also releases early', () => {
  const out: string[] = [];
  const orderer = new TimestampOrderer((e) => out.push(e.id), { maxBodyBytes: 10_000 });
  orderer.push(entry('0-0', 1, 6000));
  orderer.push(entry('0-1', 2, 6000));
  assert.deepEqual(out, ['0-0']);
  assert.equal(orderer.overflow, 1);
});

/**
 * The order the orderer promises, worked out the slow way: at each release the least held entry by
 * (start time, id), found by a scan. Same limits, same early releases.
 */
class ReferenceOrderer {
  readonly #held: Entry[] = [];
  readonly out: string[] = [];
  readonly maxEntries: number;
  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }
  push(e: Entry): void {
    this.#held.push(e);
    while (this.#held.length > this.maxEntries) this.#releaseLeast();
  }
  releaseBefore(watermarkUs: number): void {
    while (this.#held.length > 0 && this.#least()[0].timestamp < Math.floor(watermarkUs / 1000)) this.#releaseLeast();
  }
  releaseAll(): void {
    while (this.#held.length > 0) this.#releaseLeast();
  }
  #least(): [Entry, number] {
    let best = 0;
    for (let i = 1; i < this.#held.length; i++) {
      const a = this.#held[i]!;
      const b = this.#held[best]!;
      const [ca, cb] = [/^(\D*)(\d+)-(\d+)$/.exec(a.id)!, /^(\D*)(\d+)-(\d+)$/.exec(b.id)!];
      const byId = ca[1] !== cb[1] ? (ca[1]! < cb[1]! ? -1 : 1) : Number(ca[2]) - Number(cb[2]) || Number(ca[3]) - Number(cb[3]);
      if (a.startTime < b.startTime || (a.startTime === b.startTime && byId < 0)) best = i;
    }
    return [this.#held[best]!, best];
  }
  #releaseLeast(): void {
    const [e, i] = this.#least();
    this.#held.splice(i, 1);
    this.out.push(e.id);
  }
}

test('mostly ordered, far out of order, tied and overflowing entries come out as a full scan orders them', () => {
  // A fixed LCG: the same sequence every run.
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (const maxEntries of [50_000, 300]) {
    const out: string[] = [];
    const orderer = new TimestampOrderer((e) => out.push(e.id), { maxEntries });
    const reference = new ReferenceOrderer(maxEntries);
    let nowUs = 1_000_000;
    for (let n = 0; n < 6000; n++) {
      nowUs += Math.floor(random() * 2000);
      const r = random();
      // Most finish a little out of order, some much earlier than their neighbours, some tie.
      const startUs = r < 0.8 ? nowUs - Math.floor(random() * 20_000) : r < 0.9 ? nowUs - Math.floor(random() * 2_000_000) : 1_000_000 + Math.floor(random() * 3) * 1000;
      const e = entry(`${Math.floor(random() * 40)}-${n}`, Math.max(0, startUs));
      orderer.push(e);
      reference.push(e);
      if (n % 97 === 0) {
        orderer.releaseBefore(nowUs - 1_000_000);
        reference.releaseBefore(nowUs - 1_000_000);
      }
    }
    orderer.releaseAll();
    reference.releaseAll();
    assert.equal(out.length, 6000);
    assert.deepEqual(out, reference.out, `maxEntries ${maxEntries}`);
    assert.equal(orderer.held, 0);
  }
});
