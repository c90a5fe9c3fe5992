import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from '../source/frame.ts';
import { HandoverOverlap } from './ring-handover.ts';

function frame(text: string, origLen = text.length, tsUs = 0): Frame {
  return { tsUs, linkType: 101, data: new TextEncoder().encode(text), origLen };
}

/** Delivers the old ring, then the new ring through the overlap: what the reader gets. */
function handOver(oldRing: readonly Frame[], newRing: readonly Frame[], window = newRing.length): string[] {
  const overlap = new HandoverOverlap();
  const out: string[] = [];
  for (const f of oldRing) {
    overlap.remember(f);
    out.push(new TextDecoder().decode(f.data));
  }
  overlap.seal(window);
  for (const f of newRing) if (!overlap.isCopy(f)) out.push(new TextDecoder().decode(f.data));
  return out;
}

test('frames both rings held are handed out once, in the old ring order; the rest of the new ring follows', () => {
  const got = handOver([frame('a'), frame('b'), frame('c'), frame('d')], [frame('c', 1, 99), frame('d', 1, 98), frame('e'), frame('f')]);
  assert.deepEqual(got, ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('packets seen in another order by the two sockets (two CPUs) are still matched', () => {
  assert.deepEqual(handOver([frame('a'), frame('b'), frame('c')], [frame('c'), frame('b'), frame('d')]), ['a', 'b', 'c', 'd']);
});

test('two identical packets seen by both sockets are both kept; an identical one only in the new ring is kept', () => {
  assert.deepEqual(handOver([frame('x'), frame('x')], [frame('x'), frame('x'), frame('y')]), ['x', 'x', 'y']);
  assert.deepEqual(handOver([frame('x')], [frame('x'), frame('x')]), ['x', 'x']);
});

test('same bytes but another length on the wire (a truncated copy of a bigger packet) is not a copy', () => {
  assert.deepEqual(handOver([frame('abc', 3)], [frame('abc', 1500)]), ['abc', 'abc']);
});

test('past the window nothing is skipped, and the copies are released', () => {
  const overlap = new HandoverOverlap();
  overlap.remember(frame('late'));
  overlap.remember(frame('never'));
  overlap.seal(1);
  assert.equal(overlap.isCopy(frame('other')), false);
  assert.equal(overlap.active, false);
  assert.equal(overlap.pending, 0);
  assert.equal(overlap.isCopy(frame('late')), false, 'outside the window: a new packet');
  assert.equal(overlap.skipped, 0);
});

test('the remembered copy does not alias the ring: reusing the slot does not change it', () => {
  const overlap = new HandoverOverlap();
  const slot = new TextEncoder().encode('abcd');
  overlap.remember({ tsUs: 0, linkType: 101, data: slot, origLen: 4 });
  slot.set(new TextEncoder().encode('zzzz'));
  overlap.seal(2);
  assert.equal(overlap.isCopy(frame('zzzz')), false);
  assert.equal(overlap.isCopy(frame('abcd')), true);
  assert.equal(overlap.skipped, 1);
  assert.throws(() => overlap.remember(frame('q')), /after seal/);
});
