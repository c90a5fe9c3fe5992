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
