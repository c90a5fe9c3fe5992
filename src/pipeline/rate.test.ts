import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlidingRate } from './rate.ts';

test('counts arrivals inside the window only', () => {
  const rate = new SlidingRate({ windowMs: 1000, bucketMs: 100 });
  rate.record(0, 5);
  rate.record(550, 3);
  assert.equal(rate.countAt(999), 8);
  assert.equal(rate.countAt(1000), 3, 'the first bucket left the window');
  assert.equal(rate.countAt(1499), 3);
  assert.equal(rate.countAt(1500), 0, 'the window moves in whole buckets');
});

test('per second over the full window, and over the observed span (>= 1 s) before that', () => {
  const rate = new SlidingRate({ windowMs: 5000, bucketMs: 100 });
  assert.equal(rate.perSecond(0), 0);
  for (let t = 0; t < 2000; t += 100) rate.record(t, 3); // 30/s for 2 s
  assert.equal(rate.perSecond(2000), 30);
  for (let t = 2000; t < 10_000; t += 100) rate.record(t, 1); // then 10/s
  assert.equal(rate.perSecond(10_000), 10);
  assert.equal(rate.perSecond(20_000), 0);
});
