/** The frame parser alone: header forms, de-masking, the sink's room, frame-level violations; every split. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolViolation } from '../../thrown-errors.ts';
import { FrameParser, type FrameHead, type FrameSink } from './frame-parser.ts';
import { BINARY, CLOSE, CONT, KEY, PING, TEXT, frame } from '../../../../test/helpers/websocket-frames.ts';

interface Seen {
  readonly head: Omit<FrameHead, 'tsUs'>;
  readonly payload: string;
  readonly count: number;
}

/** A sink that records each frame, keeping at most `room` payload bytes per frame. */
function recordingSink(room = Infinity): { sink: FrameSink; frames: Seen[] } {
  const frames: Seen[] = [];
  let head: FrameHead | null = null;
  let parts: Buffer[] = [];
  let count = 0;
  let kept = 0;
  const sink: FrameSink = {
    frame(h) {
      head = h;
      parts = [];
      count = 0;
      kept = 0;
    },
    room: () => room - kept,
    payload(k, n) {
      parts.push(Buffer.from(k));
      kept += k.length;
      count += n;
    },
    frameEnd() {
      const { tsUs: _ts, ...rest } = head!;
      frames.push({ head: rest, payload: Buffer.concat(parts).toString('latin1'), count });
    },
  };
  return { sink, frames };
}

/** Feeds `bytes` whole, split at every offset and byte by byte; every way must see the same frames. */
function parseEveryWay(bytes: Buffer, room = Infinity, startOffset = 0): Seen[] {
  const whole = recordingSink(room);
  new FrameParser(whole.sink, startOffset).push(bytes, 1);
  for (let at = 1; at < bytes.length; at++) {
    const split = recordingSink(room);
    const p = new FrameParser(split.sink, startOffset);
    p.push(bytes.subarray(0, at), 1);
    p.push(bytes.subarray(at), 1);
    assert.deepEqual(split.frames, whole.frames, `split at ${at}`);
  }
  const single = recordingSink(room);
  const p = new FrameParser(single.sink, startOffset);
  for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1), 1);
  assert.deepEqual(single.frames, whole.frames, 'byte by byte');
  assert.equal(p.offset, startOffset + bytes.length);
  return whole.frames;
}

test('7-, 16- and 64-bit lengths, masked and not, de-masked payloads and offsets', () => {
  const long = 'x'.repeat(300);
  const bytes = Buffer.concat([
    frame({ opcode: TEXT, payload: 'hello' }),
    frame({ opcode: TEXT, payload: 'masked', mask: KEY }),
    frame({ opcode: BINARY, payload: long, mask: KEY }),
    frame({ opcode: BINARY, payload: 'short in 64', lengthForm: 64 }),
    frame({ opcode: TEXT, payload: '', mask: KEY }),
  ]);
  const frames = parseEveryWay(bytes, Infinity, 1000);
  assert.deepEqual(
    frames.map((f) => [f.head.opcode, f.head.masked, f.head.length, f.head.headerBytes, f.head.offset, f.payload]),
    [
      [TEXT, false, 5, 2, 1000, 'hello'],
      [TEXT, true, 6, 6, 1007, 'masked'],
      [BINARY, true, 300, 8, 1019, long],
      [BINARY, false, 11, 10, 1327, 'short in 64'],
      [TEXT, true, 0, 6, 1348, ''],
    ],
  );
});

test('only the payload prefix the sink has room for is de-masked and handed over; the rest is counted', () => {
  const frames = parseEveryWay(frame({ opcode: TEXT, payload: 'abcdefghij', mask: KEY }), 4);
  assert.equal(frames[0].payload, 'abcd');
  assert.equal(frames[0].count, 10);
});

test('FIN and RSV1 are reported; control frames between fragments parse as frames of their own', () => {
  const bytes = Buffer.concat([
    frame({ opcode: TEXT, payload: 'par', fin: false, rsv: 4 }),
    frame({ opcode: PING, payload: 'p' }),
    frame({ opcode: CONT, payload: 'ts' }),
  ]);
  const frames = parseEveryWay(bytes);
  assert.deepEqual(
    frames.map((f) => [f.head.opcode, f.head.fin, f.head.rsv]),
    [
      [TEXT, false, 4],
      [PING, true, 0],
      [CONT, true, 0],
    ],
  );
});

test('frame-level violations throw ProtocolViolation', () => {
  const bad: [string, Buffer][] = [
    ['reserved opcode', frame({ opcode: 0x3, payload: 'x' })],
    ['reserved control opcode', frame({ opcode: 0xb })],
    ['fragmented control frame', frame({ opcode: PING, fin: false })],
    ['control frame over 125 bytes', frame({ opcode: CLOSE, payload: 'x'.repeat(126) })],
    ['RSV2', frame({ opcode: TEXT, rsv: 2 })],
    ['RSV3', frame({ opcode: TEXT, rsv: 1 })],
    ['64-bit length with the top bit set', Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1])],
    ['64-bit length past 2^53', Buffer.from([0x82, 127, 0, 0x20, 0, 0, 0, 0, 0, 0])],
  ];
  for (const [name, bytes] of bad) {
    const { sink } = recordingSink();
    assert.throws(() => new FrameParser(sink).push(bytes, 1), ProtocolViolation, name);
  }
});

test('a huge but legal length only counts bytes: no allocation follows from the header', () => {
  const { sink, frames } = recordingSink(16);
  const p = new FrameParser(sink);
  // 2^40 bytes announced; 1 MiB delivered.
  p.push(Buffer.from([0x82, 127, 0, 0, 0x01, 0, 0, 0, 0, 0]), 1);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 16; i++) p.push(chunk, 1);
  assert.equal(frames.length, 0);
  assert.equal(p.payloadRemaining, 2 ** 40 - 16 * chunk.length);
});

test('skipPayload accounts for bytes lost inside a payload and the next frame parses', () => {
  const { sink, frames } = recordingSink();
  const p = new FrameParser(sink);
  const f1 = frame({ opcode: BINARY, payload: 'abcdefgh' });
  p.push(f1.subarray(0, 4), 1);
  p.skipPayload(4);
  p.push(f1.subarray(8), 1);
  p.push(frame({ opcode: TEXT, payload: 'next' }), 1);
  assert.deepEqual(
    frames.map((f) => [f.payload, f.count]),
    [
      ['abgh', 4],
      ['next', 4],
    ],
  );
  assert.equal(p.offset, f1.length + 6);
});
