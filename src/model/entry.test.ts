import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isoFromMicros } from './entry.ts';

/** The definition: a Date's ISO text with three more digits of microseconds. */
function reference(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  const micros = Math.floor(tsUs - ms * 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

const MAX_US = 8.64e18; // Date's range, in microseconds

test('isoFromMicros agrees with the Date definition, in sequences that share seconds and jump', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -MAX_US, max: MAX_US, noNaN: true }),
      fc.array(fc.oneof(fc.integer({ min: -3_000_000, max: 3_000_000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxLength: 20 }),
      (start, steps) => {
        let t = start;
        for (const step of [0, ...steps]) {
          t += step;
          if (Math.abs(t) > MAX_US) continue;
          assert.equal(isoFromMicros(t), reference(t), `at ${t}`);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('isoFromMicros of capture times: microseconds, second boundaries, before 1970', () => {
  for (const t of [0, 1, 999, 1000, 999_999, 1_000_000, 1_700_000_000_123_456, 1_700_000_000_999_999, 1_700_000_001_000_000, -1, -1_000_000, -1_000_001, 0.5, 1_700_000_000_000_000.75]) {
    assert.equal(isoFromMicros(t), reference(t), `at ${t}`);
  }
  assert.equal(isoFromMicros(1_700_000_000_000_042), '2023-11-14T22:13:20.000042Z');
});

test('isoFromMicros throws on a time outside Date range, as Date does', () => {
  for (const t of [Number.NaN, Number.POSITIVE_INFINITY, 9e18]) assert.throws(() => isoFromMicros(t), RangeError);
  // A valid time after an invalid one is still right (nothing stale cached).
  assert.equal(isoFromMicros(1_000_000), reference(1_000_000));
});
