/**
 * The codec's per-site caches (compact-codec.ts GUESS_SLOTS): a value site remembers the shapes,
 * subtrees and strings written there and checks those candidates before its lookups by hash, and
 * it stops looking up values that never repeat. These tests put every kind of change at one site
 * (unique values, values that collide in the cheap key, more values than the cache has ways, other
 * shapes and types) and hold the codec to exact round trips, and to still sharing a value that
 * starts to repeat after a long run of unique ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntryCodec, type PartSink, type PartSource } from './compact-codec.ts';

const NO_PARTS_KEPT: PartSink & PartSource = { put: () => 0, get: () => undefined };

function roundTrip(codec: EntryCodec, value: object): { back: unknown; bytes: number } {
  const at = codec.encode(value, NO_PARTS_KEPT);
  assert.ok(at !== undefined, 'encodable');
  return { back: codec.decode(at, NO_PARTS_KEPT, () => 'dropped'), bytes: at.length };
}

/** Strings of one length whose last and middle characters agree: one cache way for all of them. */
function colliding(i: number): string {
  return `k${String(i).padStart(4, '0')}-x-z`;
}

test('one site through unique, repeated, colliding, cache-overflowing, reshaped and retyped values: every entry comes back equal', () => {
  const codec = new EntryCodec();
  const values: object[] = [];
  for (let i = 0; i < 3000; i++) {
    const phase = Math.floor(i / 300);
    let site: unknown;
    switch (phase) {
      case 0: site = `unique-${i}-${i * 7919}`; break;
      case 1: site = ['GET', 'POST', 'PUT'][i % 3]; break;
      case 2: site = colliding(i % 40); break;
      case 3: site = { ip: `10.0.0.${i % 30}`, port: 80 }; break; // 30 small trees: more than the site's ways
      case 4: site = i % 2 === 0 ? { ip: '10.0.0.1', port: 80 } : { port: 80, ip: '10.0.0.1' }; break; // same keys, other order
      case 5: site = [i % 5, 'x', null]; break;
      case 6: site = [1.5, -0, NaN, i, -i, true, undefined][i % 7]; break;
      case 7: site = i % 3 === 0 ? null : { nested: { deeper: colliding(i % 50) }, n: i % 4 }; break;
      case 8: site = Object.assign(Object.create(null) as object, { bare: i % 3 }); break;
      default: site = `${'long value '.repeat(8)}${i % 2}`; // past the interning length
    }
    values.push({ id: `e-${i}`, site, headers: { Host: `h${i % 9}`, 'X-Id': `r${i}` }, n: i });
  }
  for (const v of values) assert.deepStrictEqual(roundTrip(codec, v).back, v);
  // A second pass over a codec whose caches are warm: same answers.
  for (const v of values) assert.deepStrictEqual(roundTrip(codec, v).back, v);
});

test('a site that held unique values for long still shares a value once it starts to repeat', () => {
  const codec = new EntryCodec();
  for (let i = 0; i < 2000; i++) roundTrip(codec, { trace: `trace-${i}-${(i * 2654435761) >>> 0}` });
  const repeated = 'a value sixty characters long, repeated from now on .........';
  const first = roundTrip(codec, { trace: repeated });
  let last = first;
  for (let i = 0; i < 200; i++) last = roundTrip(codec, { trace: repeated });
  assert.deepStrictEqual(last.back, { trace: repeated });
  assert.ok(last.bytes < first.bytes - repeated.length / 2, `interned after a while: ${first.bytes} B first, ${last.bytes} B after 200`);
});

test('small subtrees that never repeat are written whole, and shared again once they repeat', () => {
  const codec = new EntryCodec();
  for (let i = 0; i < 2000; i++) {
    const v = { peer: { ip: `10.${i >> 8}.${i & 255}.1`, port: i } };
    assert.deepStrictEqual(roundTrip(codec, v).back, v);
  }
  const same = { peer: { ip: '10.9.9.9', port: 443 } };
  const first = roundTrip(codec, same);
  let last = first;
  for (let i = 0; i < 200; i++) last = roundTrip(codec, same);
  assert.deepStrictEqual(last.back, same);
  assert.ok(last.bytes < first.bytes, `shared after a while: ${first.bytes} B first, ${last.bytes} B after 200`);
});
