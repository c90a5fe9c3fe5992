import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMemory, parseMemoryQuantity, parseQuantity } from './quantity.ts';

test('memory quantities as the API server reads them', () => {
  const cases: [string, number][] = [
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['512Ki', 512 * 1024],
    ['1G', 1e9],
    ['500M', 5e8],
    ['129e6', 129e6],
    ['1E3', 1000],
    ['268435456', 268435456],
    ['.5Mi', 2 ** 19],
    ['1k', 1000],
    // Milli-bytes are legal (a classic typo for Mi): rounded up to a whole byte.
    ['100m', 1],
    ['0', 0],
  ];
  for (const [text, bytes] of cases) assert.equal(parseMemoryQuantity(text), bytes, text);
});

test('not quantities: null', () => {
  for (const text of ['', 'Mi', '12 Mi', '12MB', '1.2.3', 'abc', '-1Gi', '1Zi']) assert.equal(parseMemoryQuantity(text), null, text);
  assert.equal(parseMemoryQuantity(undefined), null);
  assert.equal(parseQuantity('-1Gi'), -(2 ** 30));
});

test('formatMemory for messages', () => {
  assert.equal(formatMemory(256 * 2 ** 20), '256 MiB');
  assert.equal(formatMemory(96.5 * 2 ** 20), '96.5 MiB');
  assert.equal(formatMemory(1.5 * 2 ** 30), '1.5 GiB');
  assert.equal(formatMemory(2 ** 30), '1 GiB');
});
