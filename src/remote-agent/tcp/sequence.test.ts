import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seqAdd, seqDiff } from './sequence.ts';

describe('seqDiff', () => {
  const cases: ReadonlyArray<readonly [string, number, number, number]> = [
    ['equal', 5, 5, 0],
    ['plainly after', 10, 3, 7],
    ['plainly before', 3, 10, -7],
    ['after, across the wrap', 2, 0xffff_fffe, 4],
    ['before, across the wrap', 0xffff_fffe, 2, -4],
    ['largest positive distance', 0x7fff_ffff, 0, 0x7fff_ffff],
    ['half the space away counts as before', 0x8000_0000, 0, -0x8000_0000],
  ];
  for (const [name, a, b, want] of cases) {
    it(name, () => assert.equal(seqDiff(a, b), want));
  }
});

describe('seqAdd', () => {
  it('adds without wrapping', () => assert.equal(seqAdd(100, 23), 123));
  it('wraps past 2^32 - 1', () => assert.equal(seqAdd(0xffff_fffa, 10), 4));
  it('stays unsigned', () => assert.equal(seqAdd(0xffff_ffff, 0), 0xffff_ffff));
});
