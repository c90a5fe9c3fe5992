import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageFramer, type FramedMessage, type FramerSpec } from './message-framer.ts';

/** A toy protocol: one length byte (the whole message's length, header included), then data. */
function spec(maxKeepBytes = 1024, resync?: FramerSpec['resync']): FramerSpec {
  return {
    maxKeepBytes,
    frameLength: (head) => (head.length < 1 ? 'more' : head[0]! === 0 ? 'bad' : head[0]!),
    ...(resync === undefined ? {} : { resync }),
  };
}

function msg(body: string): Uint8Array {
  return Uint8Array.from([body.length + 1, ...Buffer.from(body)]);
}

function framer(s: FramerSpec): { f: MessageFramer; out: FramedMessage[]; lost: { n: number } } {
  const out: FramedMessage[] = [];
  const lost = { n: 0 };
  return { f: new MessageFramer(s, (m) => out.push(m), () => lost.n++), out, lost };
}

const text = (m: FramedMessage): string => Buffer.from(m.bytes.subarray(1)).toString();

test('messages split anywhere and run together come out whole, in order, with their times', () => {
  const { f, out } = framer(spec());
  const all = Buffer.concat([msg('hello'), msg('a'), msg('world!')]);
  for (let i = 0; i < all.length; i++) f.data(all.subarray(i, i + 1), 100 + i);
  assert.deepEqual(out.map(text), ['hello', 'a', 'world!']);
  assert.deepEqual(out.map((m) => [m.startUs, m.endUs]), [[100, 105], [106, 107], [108, 114]]);
  assert.equal(f.held, 0);
  const { f: g, out: o2 } = framer(spec());
  g.data(all, 7);
  assert.deepEqual(o2.map(text), ['hello', 'a', 'world!']);
});

test('a message longer than maxKeepBytes is kept only up to it and the rest is skipped, in step', () => {
  const { f, out } = framer(spec(4));
  const long = msg('0123456789');
  f.data(long.subarray(0, 3), 1);
  f.data(long.subarray(3), 2);
  f.data(msg('ok'), 3);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.truncated, true);
  assert.equal(out[0]!.length, 11);
  assert.equal(out[0]!.bytes.length, 4);
  assert.equal(text(out[1]!), 'ok');
  assert.ok(f.held <= 4);
});

test('a gap inside a message of known length keeps the framing; one between messages loses it', () => {
  const { f, out, lost } = framer(spec());
  const m = msg('abcdefgh');
  f.data(m.subarray(0, 3), 1);
  f.gap(4, 2);
  f.data(m.subarray(7), 3);
  f.data(msg('next'), 4);
  assert.deepEqual(out.map((x) => [x.lostBytes, x.truncated]), [[4, true], [0, false]]);
  assert.equal(text(out[1]!), 'next');
  assert.equal(lost.n, 0);
  f.gap(10, 5);
  f.data(msg('gone'), 6);
  assert.equal(out.length, 2, 'a lost direction without resync stays lost');
  assert.equal(lost.n, 1);
  assert.equal(f.state, 'lost');
});

test('a refused header loses the framing; resync finds the next start in later bytes', () => {
  // Resync: a message starts at a byte 5 followed by "sync" (the toy protocol's marker).
  const find = (w: Uint8Array): number => Buffer.from(w).indexOf(Buffer.from([5, ...Buffer.from('sync')]));
  const { f, out, lost } = framer(spec(1024, find));
  f.data(Uint8Array.from([0, 1, 2]), 1);
  assert.equal(lost.n, 1);
  f.data(Uint8Array.from([9, 9, 5, 0x73]), 2);
  f.data(Buffer.concat([Buffer.from('ync'), msg('after')]), 3);
  assert.deepEqual(out.map(text), ['sync', 'after']);
  assert.equal(f.state, 'framing');
});

test('a start in the same segment as a refused header is found (not thrown away with it)', () => {
  const find = (w: Uint8Array): number => Buffer.from(w).indexOf(Buffer.from([5, ...Buffer.from('sync')]));
  const { f, out, lost } = framer(spec(1024, find));
  f.data(Buffer.concat([Uint8Array.from([0, 1, 2]), msg('sync'), msg('more')]), 1);
  assert.equal(lost.n, 1);
  assert.deepEqual(out.map(text), ['sync', 'more']);
});

test('bytes given as a Buffer are copied: the caller may reuse its memory (a capture ring) once data() returns', () => {
  const { f, out } = framer(spec());
  const wire = Buffer.from(msg('hello world'));
  const scratch = Buffer.alloc(wire.length);
  // The first part, then the caller overwrites its buffer before the rest comes.
  wire.copy(scratch, 0, 0, 5);
  f.data(scratch.subarray(0, 5), 1);
  scratch.fill(0x21);
  wire.copy(scratch, 0, 5);
  f.data(scratch.subarray(0, wire.length - 5), 2);
  scratch.fill(0x21);
  assert.deepEqual(out.map(text), ['hello world']);
});

test('a header that never completes is bounded: the framing is given up', () => {
  const s: FramerSpec = { maxKeepBytes: 16, frameLength: () => 'more' };
  const { f, lost } = framer(s);
  for (let i = 0; i < 100; i++) f.data(new Uint8Array(1024), i);
  assert.equal(lost.n, 1);
  assert.ok(f.held < 2048);
});

test('a refused header: the resync searches the rest of the same bytes, so a start right after it is not lost', () => {
  // The resync takes a length byte 3 as a start.
  const { f, out, lost } = framer(spec(1024, (w) => w.indexOf(3)));
  f.data(Buffer.concat([Uint8Array.of(0, 1, 2), Uint8Array.of(3, 0x53, 0x53)]), 1);
  assert.equal(lost.n, 1);
  assert.deepEqual(out.map(text), ['SS'], 'the message after the refused byte, from the same segment');
});

test('a refused header in the middle of a segment: resync looks at the rest of that segment too', () => {
  // The marker 0xEE starts a message again; after it, the toy protocol's messages.
  const resync = (window: Uint8Array): number => window.indexOf(0xee);
  const s: FramerSpec = {
    maxKeepBytes: 1024,
    frameLength: (head) => (head.length < 1 ? 'more' : head[0] === 0xee ? 1 : head[0]! === 0 ? 'bad' : head[0]!),
    resync,
  };
  const { f, out, lost } = framer(s);
  f.data(Buffer.concat([Uint8Array.of(0, 9, 9), Uint8Array.of(0xee), msg('after')]), 100);
  assert.equal(lost.n, 1);
  assert.deepEqual(out.map((m) => m.bytes[0] === 0xee ? '<mark>' : text(m)), ['<mark>', 'after'], 'found in the same segment');
});
