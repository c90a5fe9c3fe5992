import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallSightings, MAX_SHARING } from './call-sightings.ts';

const at = (source: string, t: number, id = `${source}-${t}`) => ({ source, at: t, id });

test('a call is found by its key within the window, not after; keys that share a number stay apart', () => {
  const s = new CallSightings(1000, 100);
  s.remember('a', 7, at('front', 0));
  s.remember('b', 7, at('catalogue', 10));
  assert.equal(s.find('a', 7, 999)?.source, 'front');
  assert.equal(s.find('b', 7, 999)?.source, 'catalogue');
  assert.equal(s.find('c', 7, 999), undefined, 'same number, other key');
  assert.equal(s.find('a', 8, 999), undefined, 'same key under another number is another call: callers keep them consistent');
  assert.equal(s.find('a', 7, 1000), undefined, 'expired');
  assert.equal(s.size, 1, 'the expired sighting is forgotten, the later one is not');
  assert.equal(s.find('b', 7, 1009)?.id, 'catalogue-10');
  assert.equal(s.find('b', 7, 1010), undefined);
  assert.equal(s.size, 0);
});

test('remembering a key again replaces its sighting, and its old place in the queue does not expire the new one', () => {
  const s = new CallSightings(1000, 100);
  s.remember('a', 1, at('front', 0));
  s.remember('a', 1, at('catalogue', 500));
  assert.equal(s.size, 1);
  assert.equal(s.find('a', 1, 1200)?.source, 'catalogue');
  assert.equal(s.size, 1);
});

test('the size bound forgets the oldest first', () => {
  const s = new CallSightings(60_000, 3);
  for (let i = 0; i < 5; i++) s.remember(`k${i}`, i % 2, at('front', i));
  assert.equal(s.size, 3);
  assert.equal(s.find('k0', 0, 10), undefined);
  assert.equal(s.find('k1', 1, 10), undefined);
  for (const i of [2, 3, 4]) assert.equal(s.find(`k${i}`, i % 2, 10)?.id, `front-${i}`);
});

test('memory stays bounded over a long run: many keys, replacements and collisions', () => {
  const s = new CallSightings(100, 1000);
  for (let t = 0; t < 200_000; t++) {
    // Every key comes back (a replacement) and many share a number.
    s.remember(`k${t % 5000}`, t % 64, at(t % 2 === 0 ? 'front' : 'catalogue', t));
    assert.ok(s.size <= 1000);
  }
  assert.equal(s.size, 100, 'only the window is left: one call per ms over 100 ms');
});

test('calls made to share one number (a hostile agent) keep only the newest few under it', () => {
  const s = new CallSightings(60_000, 200_000);
  for (let i = 0; i < 10_000; i++) s.remember(`k${i}`, 42, at('front', i));
  assert.equal(s.size, MAX_SHARING);
  assert.equal(s.find('k9999', 42, 10_000)?.id, 'front-9999');
  assert.equal(s.find(`k${9999 - MAX_SHARING}`, 42, 10_000), undefined);
  // Other numbers are not affected.
  s.remember('other', 43, at('db', 10_000));
  assert.equal(s.find('other', 43, 10_001)?.source, 'db');
});
