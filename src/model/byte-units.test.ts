import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from './byte-units.ts';

test('sizes read as 394 B, 1.3 KiB, 15 KiB, 5.0 MiB: binary units with a space', () => {
  assert.deepEqual(
    [0, 394, 1023, 1024, 1331, 15_000, 1024 * 1024 - 1, 5 * 1024 * 1024, 3 * 1024 ** 4].map(formatBytes),
    ['0 B', '394 B', '1023 B', '1.0 KiB', '1.3 KiB', '15 KiB', '1.0 MiB', '5.0 MiB', '3.0 TiB'],
  );
});

test('sizes that are not counts still print something sane', () => {
  assert.deepEqual([-1, Number.NaN, Number.POSITIVE_INFINITY].map(formatBytes), ['0 B', '0 B', '0 B']);
});
