import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HalfStream } from './half-stream.ts';

function halfAt(nextSeq: number): HalfStream {
  const half = new HalfStream();
  half.start(nextSeq);
  return half;
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function layout(half: HalfStream): string[] {
  return half.pending.map((p) => `${p.seq}:${new TextDecoder().decode(p.bytes)}`);
}

describe('HalfStream.buffer', () => {
  it('appends segments that follow the last buffered one', () => {
    const half = halfAt(100);
    assert.equal(half.buffer(110, bytes('abc'), 1), 3);
    assert.equal(half.buffer(113, bytes('de'), 2), 2);
    assert.deepEqual(layout(half), ['110:abc', '113:de']);
    assert.equal(half.pendingBytes, 5);
  });

  it('inserts in sequence order', () => {
    const half = halfAt(100);
    half.buffer(120, bytes('xy'), 1);
    half.buffer(105, bytes('ab'), 2);
    half.buffer(110, bytes('cd'), 3);
    assert.deepEqual(layout(half), ['105:ab', '110:cd', '120:xy']);
  });

  it('keeps the first copy of overlapping bytes and adds only the new ones', () => {
    const half = halfAt(100);
    half.buffer(105, bytes('BC'), 1);
    half.buffer(110, bytes('H'), 1);
    assert.equal(half.buffer(104, bytes('abcdefgh'), 2), 5);
    assert.deepEqual(layout(half), ['104:a', '105:BC', '107:def', '110:H', '111:h']);
    assert.equal(half.pendingBytes, 8);
  });

  it('adds nothing for an exact duplicate', () => {
    const half = halfAt(100);
    half.buffer(105, bytes('abc'), 1);
    assert.equal(half.buffer(105, bytes('xyz'), 2), 0);
    assert.deepEqual(layout(half), ['105:abc']);
  });

  it('copies: later changes to the source buffer do not reach buffered bytes', () => {
    const half = halfAt(100);
    const source = bytes('abc');
    half.buffer(105, source, 1);
    source.fill(0);
    assert.deepEqual(layout(half), ['105:abc']);
  });

  it('works across the 2^32 wrap', () => {
    const half = halfAt(0xffff_fff0);
    half.buffer(2, bytes('late'), 1);
    half.buffer(0xffff_fffe, bytes('wrap'), 2);
    assert.deepEqual(layout(half), [`${0xffff_fffe}:wrap`, '2:late']);
  });

  it('dropFront frees the bytes of the first segments', () => {
    const half = halfAt(100);
    half.buffer(105, bytes('ab'), 1);
    half.buffer(110, bytes('cde'), 1);
    assert.equal(half.dropFront(1), 2);
    assert.equal(half.pendingBytes, 3);
    assert.deepEqual(layout(half), ['110:cde']);
  });
});

describe('HalfStream.noteAck', () => {
  it('keeps the highest acknowledgement, wrap-aware', () => {
    const half = halfAt(0xffff_fff0);
    half.noteAck(0xffff_fff8);
    half.noteAck(4);
    half.noteAck(0xffff_fffa);
    assert.equal(half.ackedTo, 4);
  });
});
