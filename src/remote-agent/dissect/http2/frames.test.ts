/**
 * The frame reader alone: frames out of chunks cut anywhere, DATA streamed in the pieces it came in
 * (never buffered whole), padding removed, payloads bounded, the preface, hunting for frames after
 * joining midway or losing bytes, and the plausibility test the sniff shares.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { F, PREFACE, REQUEST, T, block, data, frame, headers, ping, settings } from '../../../../test/helpers/h2-frames.ts';
import { FrameReader, plausibleFrameHeader, type FrameHeader, type FrameSink } from './frames.ts';

type Event = string;

/** A sink that writes down what it is told, DATA pieces joined per frame. */
function recordingSink(): { sink: FrameSink; events: Event[]; pieces: number[] } {
  const events: Event[] = [];
  const pieces: number[] = [];
  let body = '';
  const sink: FrameSink = {
    preface: () => events.push('preface'),
    frame: (h: FrameHeader, p) => events.push(`frame t${h.type} s${h.streamId} f${h.flags} @${h.offset} ${p === null ? 'null' : Buffer.from(p).toString('hex')}`),
    dataStart: (h) => {
      body = '';
      events.push(`data+ s${h.streamId} @${h.offset} pad${h.padLength}`);
    },
    data: (_h, b) => {
      pieces.push(b.length);
      body += Buffer.from(b).toString('latin1');
    },
    dataLost: (_h, n) => {
      body += `<${n} lost>`;
    },
    dataEnd: (h) => events.push(`data- s${h.streamId} f${h.flags} "${body}"`),
    syncLost: (n) => events.push(`sync-lost ${n}`),
    resynced: (n) => events.push(`resynced ${n}`),
    violation: (r) => events.push(`violation ${r}`),
  };
  return { sink, events, pieces };
}

function readAll(chunks: readonly Uint8Array[], atBoundary = true, maxPayloadBytes = 1024): Event[] {
  const r = recordingSink();
  const reader = new FrameReader(r.sink, { atBoundary, maxPayloadBytes });
  for (const ch of chunks) reader.push(ch, 0);
  return r.events;
}

const STREAM = Buffer.concat([PREFACE, settings([[3, 100]]), headers(1, REQUEST('/x')), data(1, 'hello', true), ping()]);

test('frames come out the same however the bytes are cut (property)', () => {
  const whole = readAll([STREAM]);
  assert.deepEqual(whole.slice(0, 2), ['preface', `frame t4 s0 f0 @24 000300000064`]);
  assert.equal(whole.filter((e) => e.startsWith('data-')).join(), 'data- s1 f1 "hello"');
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 12 }), (cuts) => {
      const at = [...new Set(cuts)].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let prev = 0;
      for (const x of at) {
        chunks.push(STREAM.subarray(prev, x));
        prev = x;
      }
      chunks.push(STREAM.subarray(prev));
      assert.deepEqual(readAll(chunks), whole);
    }),
  );
});

test('a large DATA frame goes through in the pieces it arrived in, never buffered', () => {
  const body = Buffer.alloc(1 << 20, 0x61);
  const f = frame(T.DATA, F.END_STREAM, 1, body);
  const r = recordingSink();
  const reader = new FrameReader(r.sink, { atBoundary: true, maxPayloadBytes: 1024 });
  for (let i = 0; i < f.length; i += 1460) reader.push(f.subarray(i, i + 1460), 0);
  assert.equal(r.pieces.reduce((a, b) => a + b, 0), 1 << 20);
  assert.ok(Math.max(...r.pieces) <= 1460, 'no piece larger than a chunk');
  assert.equal(reader.offset, f.length);
});

test('DATA padding is removed; a pad length past the payload is a violation, all padding', () => {
  const padded = frame(T.DATA, F.PADDED, 3, Buffer.concat([Buffer.from([4]), Buffer.from('abc'), Buffer.alloc(4)]));
  assert.deepEqual(readAll([padded]), ['data+ s3 @0 pad4', 'data- s3 f8 "abc"']);
  const bad = frame(T.DATA, F.PADDED, 3, Buffer.from([9, 1, 2]));
  assert.deepEqual(readAll([bad]), ['violation DATA pad length 9 exceeds the frame\'s 2 bytes', 'data+ s3 @0 pad2', 'data- s3 f8 ""']);
});

test('a non-DATA payload past the bound is skipped and reported as null; the next frame is read', () => {
  const big = frame(T.HEADERS, F.END_HEADERS, 1, Buffer.alloc(5000));
  const events = readAll([Buffer.concat([big, ping()])], true, 4096);
  assert.deepEqual(events, [`frame t1 s1 f4 @0 null`, `frame t6 s0 f0 @5009 ${'00'.repeat(8)}`]);
});

test('the preface is recognised only from the first byte; a server direction starts with frames', () => {
  assert.deepEqual(readAll([settings()]), ['frame t4 s0 f0 @0 ']);
  assert.deepEqual(readAll([PREFACE.subarray(0, 5), PREFACE.subarray(5)]), ['preface']);
});

test('joined midway: the reader hunts for a chain of frames and starts there', () => {
  const junk = Buffer.from('rest of a DATA payload from before the capture');
  const events = readAll([Buffer.concat([junk, headers(1, REQUEST('/a')), data(1, 'b', true), ping()])], false);
  assert.equal(events[0], `resynced ${junk.length}`);
  assert.match(events[1]!, new RegExp(`^frame t1 s1 f4 @${junk.length} `));
});

test('a gap inside a DATA payload keeps the framing; a gap elsewhere loses it and the reader hunts', () => {
  const r = recordingSink();
  const reader = new FrameReader(r.sink, { atBoundary: true, maxPayloadBytes: 1024 });
  const d = data(1, '0123456789', true);
  reader.push(d.subarray(0, 12), 0);
  reader.gap(4);
  reader.push(d.subarray(16), 0);
  assert.deepEqual(r.events, ['data+ s1 @0 pad0', 'data- s1 f1 "012<4 lost>789"']);
  reader.push(headers(3, REQUEST('/c')).subarray(0, 5), 0);
  reader.gap(20);
  reader.push(Buffer.concat([Buffer.from('xx'), ping(), ping(), ping()]), 0);
  assert.deepEqual(r.events.slice(2), ['sync-lost 20', 'resynced 22', `frame t6 s0 f0 @${d.length + 5 + 20 + 2} ${'00'.repeat(8)}`, `frame t6 s0 f0 @${d.length + 5 + 20 + 19} ${'00'.repeat(8)}`, `frame t6 s0 f0 @${d.length + 5 + 20 + 36} ${'00'.repeat(8)}`]);
  assert.equal(reader.offset, d.length + 5 + 20 + 2 + 51);
});

test('hunting is bounded: megabytes of garbage keep at most the window', () => {
  const r = recordingSink();
  const reader = new FrameReader(r.sink, { atBoundary: false, maxPayloadBytes: 1024 });
  const garbage = Buffer.alloc(4 << 20, 0xff);
  for (let i = 0; i < garbage.length; i += 65536) reader.push(garbage.subarray(i, i + 65536), 0);
  assert.ok(reader.hunting);
  assert.deepEqual(r.events, []);
  reader.push(Buffer.concat([ping(), ping(), ping()]), 0);
  assert.equal(r.events[0], `resynced ${4 << 20}`);
  assert.equal(reader.offset, (4 << 20) + 51);
});

test('plausible frame headers: each type with its rules; text never', () => {
  const ok = (b: Uint8Array): boolean => plausibleFrameHeader(b, 0, 16384) >= 0;
  assert.ok(ok(settings()));
  assert.ok(ok(frame(T.SETTINGS, F.ACK, 0)));
  assert.ok(!ok(frame(T.SETTINGS, F.ACK, 0, Buffer.alloc(6))), 'an ACK carries nothing');
  assert.ok(!ok(frame(T.SETTINGS, 0, 1)), 'SETTINGS is for stream 0');
  assert.ok(!ok(frame(T.DATA, 0, 0, Buffer.alloc(1))), 'DATA needs a stream');
  assert.ok(!ok(frame(T.DATA, 0x40, 1)), 'undefined flag');
  assert.ok(!ok(frame(T.PING, 0, 0, Buffer.alloc(7))), 'PING is 8 bytes');
  assert.ok(!ok(frame(0x0b, 0, 1)), 'unknown type');
  assert.ok(ok(headers(1, REQUEST('/'))));
  assert.ok(ok(frame(T.CONTINUATION, F.END_HEADERS, 1, block([['a', 'b']]))));
  assert.ok(!ok(Buffer.from('GET / HTTP/1.1')));
  assert.ok(!ok(Buffer.from('\tabcdefghij')));
});

test('a direction that starts with no frame (an HTTP/1 request to an HTTP/2-only server) is a violation, and the reader hunts', () => {
  const r = recordingSink();
  const reader = new FrameReader(r.sink, { atBoundary: true, maxPayloadBytes: 1024 });
  reader.push(Buffer.from('POST /index.html HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\nfield=value'), 0);
  assert.deepEqual(r.events, ['violation the bytes at the start of the direction are not HTTP/2 frames']);
  assert.ok(reader.hunting);
  // A server's direction starts with frames: no violation.
  assert.deepEqual(readAll([settings()]), ['frame t4 s0 f0 @0 ']);
});
