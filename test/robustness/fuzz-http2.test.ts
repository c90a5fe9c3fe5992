/**
 * Robustness of the HTTP/2 frame reader and connection beyond the capture cases of fuzz.test.ts
 * (http2-damage.ts): the reader alone on hostile byte streams, cut anywhere, must report the same
 * frames whatever the chunking and never throw; a header block that never ends (a CONTINUATION
 * chain of 64 MiB) must not make the connection hold more than its bound, nor stop it from
 * dissecting the next stream.
 *
 * Another seed: SHARK_FUZZ_SEED=7; more cases: SHARK_FUZZ_H2_READER_CASES=5000.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Entry } from '../../src/model/entry.ts';
import { readCaptures } from '../../src/pipeline/read-capture.ts';
import { DEFAULT_HTTP2_LIMITS } from '../../src/remote-agent/dissect/http2/connection.ts';
import { FrameReader, type FrameHeader, type FrameSink } from '../../src/remote-agent/dissect/http2/frames.ts';
import { Prng } from '../bench/prng.ts';
import { F, PREFACE, T, data, frame, headers, settings, REQUEST } from '../helpers/h2-frames.ts';
import { assertNoInternalErrors } from '../helpers/read-entries.ts';
import { TcpCaptureBuilder } from './tcp-capture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const READER_CASES = Number(process.env['SHARK_FUZZ_H2_READER_CASES'] ?? 1500);
const MB = 1024 * 1024;
const MAX_PAYLOAD = 4096;

/** A sink that writes down what the reader reports, data bytes joined per DATA frame. */
function recorder(): { sink: FrameSink; events: string[]; problems: string[] } {
  const events: string[] = [];
  const problems: string[] = [];
  let dataBytes: number[] = [];
  const head = (h: FrameHeader): string => `${h.type}/${h.flags}/${h.streamId}/${h.length}@${h.offset}`;
  const sink: FrameSink = {
    preface: () => events.push('preface'),
    frame(h, payload) {
      if (payload !== null && payload.length > MAX_PAYLOAD) problems.push(`a ${payload.length}-byte payload handed over (bound ${MAX_PAYLOAD})`);
      if (payload === null && h.length <= MAX_PAYLOAD) problems.push(`a ${h.length}-byte payload withheld`);
      events.push(`frame ${head(h)} ${payload === null ? 'skipped' : Buffer.from(payload).toString('hex')}`);
    },
    dataStart(h) {
      dataBytes = [];
      events.push(`data ${head(h)}`);
    },
    data(h, bytes) {
      dataBytes.push(...bytes);
      if (dataBytes.length > h.length) problems.push(`${dataBytes.length} data bytes in a ${h.length}-byte frame`);
    },
    dataLost: (_h, n) => events.push(`data lost ${n}`),
    dataEnd: (h) => events.push(`data end ${head(h)} ${Buffer.from(dataBytes).toString('hex')}`),
    syncLost: (n) => events.push(`sync lost ${n}`),
    resynced: (n) => events.push(`resynced ${n}`),
    violation: (r) => events.push(`violation ${r}`),
  };
  return { sink, events, problems };
}

/** Frames as peers send them mixed with random and lying ones, maybe after the preface. */
function hostileStream(rng: Prng): Uint8Array {
  const parts: Uint8Array[] = rng.chance(0.6) ? [PREFACE] : [];
  const n = rng.int(0, 40);
  for (let i = 0; i < n; i++) {
    switch (rng.int(0, 5)) {
      case 0:
        parts.push(headers(rng.int(0, 9), REQUEST(`/${i}`), rng.chance(0.5)));
        break;
      case 1: {
        const pad = rng.int(0, 300);
        const body = rng.bytes(rng.int(0, 9000));
        parts.push(frame(T.DATA, F.PADDED | (rng.chance(0.5) ? F.END_STREAM : 0), 1, Buffer.concat([Buffer.from([pad & 0xff]), body, Buffer.alloc(Math.min(pad, 255))])));
        break;
      }
      case 2:
        parts.push(settings([[1, rng.int(0, 0xffffffff)]]), data(3, rng.bytes(rng.int(0, 100)), true));
        break;
      case 3: {
        // A header that states another length than the payload that follows.
        const f = frame(rng.int(0, 12), rng.int(0, 255), rng.int(0, 0x7fffffff), rng.bytes(rng.int(0, 200)));
        f.writeUIntBE(rng.pick([0, 1, 16_384, 16_385, 0xffffff, rng.int(0, 0xffffff)]), 0, 3);
        parts.push(f);
        break;
      }
      case 4:
        parts.push(rng.bytes(rng.int(1, 100)));
        break;
      default:
        parts.push(frame(T.HEADERS, 0, 1, rng.bytes(rng.int(0, 6000))), frame(T.CONTINUATION, F.END_HEADERS, 1, rng.bytes(rng.int(0, 100))));
    }
  }
  return Buffer.concat(parts);
}

function readAll(bytes: Uint8Array, atBoundary: boolean, cut: (at: number) => number): { events: string[]; problems: string[] } {
  const r = recorder();
  const reader = new FrameReader(r.sink, { atBoundary, maxPayloadBytes: MAX_PAYLOAD });
  for (let at = 0; at < bytes.length; ) {
    const n = Math.max(1, Math.min(bytes.length - at, cut(at)));
    reader.push(bytes.subarray(at, at + n), at);
    at += n;
  }
  return r;
}

/** Whether the reader hunted (joined midway, or met bytes that are no frame). */
const hunted = (events: readonly string[]): boolean => events.some((e) => e.startsWith('resynced') || e.startsWith('sync lost') || e.startsWith('violation'));

/**
 * Runs the reader cases; `equalWhen` says for which the frames reported byte by byte must equal
 * those reported from one push. Returns how many frames and how many compared cases there were.
 */
function readerCases(equalWhen: (whole: readonly string[], atBoundary: boolean) => boolean): { frames: number; compared: number } {
  let frames = 0;
  let compared = 0;
  for (let index = 0; index < READER_CASES; index++) {
    const rng = new Prng((MASTER_SEED * 31 + index) >>> 0);
    const bytes = hostileStream(rng);
    const atBoundary = rng.chance(0.7);
    try {
      const whole = readAll(bytes, atBoundary, () => bytes.length);
      const chunkRng = new Prng(index);
      const pieces = readAll(bytes, atBoundary, () => (chunkRng.chance(0.3) ? 1 : chunkRng.int(1, 3000)));
      assert.deepEqual(whole.problems, []);
      assert.deepEqual(pieces.problems, []);
      if (equalWhen(whole.events, atBoundary)) {
        assert.deepEqual(pieces.events, whole.events, 'the same frames, byte by byte or whole');
        compared++;
      }
      frames += whole.events.filter((e) => e.startsWith('frame') || e.startsWith('data ')).length;
    } catch (err) {
      assert.fail(`reader case ${index} (seed ${MASTER_SEED}, ${bytes.length} bytes): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  return { frames, compared };
}

test('the frame reader on hostile streams: never throws, bounded payloads, the same frames whatever the chunking while it does not hunt', () => {
  // Not at a boundary, the reader hunts from the first byte.
  const { frames, compared } = readerCases((whole, atBoundary) => atBoundary && !hunted(whole));
  process.stdout.write(`# ${READER_CASES} hostile streams: ${frames} frames reported; ${compared} read without hunting compared chunked and whole\n`);
  assert.ok(frames > READER_CASES * 3, 'the streams hold frames, not only garbage');
  assert.ok(compared > READER_CASES / 4, 'many streams compared');
});

// Found by this test: the hunt asked for a chain of CHAIN_AT_START (2) frames at its window's first
// byte also after the window slid past the bytes the hunt began with, so where the reader resynced
// depended on TCP segmentation (frames.ts #huntWindowSlid).
test('the frame reader hunting: the same frames whatever the chunking', () => {
  readerCases(() => true);
});

test('a CONTINUATION chain of 64 MiB: the connection holds at most its header block bound and goes on', async (t) => {
  const rng = new Prng(MASTER_SEED);
  const piece = Buffer.alloc(16_384, 0x40);
  const CHAIN = 4096;
  const chain = Buffer.concat([frame(T.HEADERS, 0, 1, piece), ...Array.from({ length: CHAIN }, (_, i) => frame(T.CONTINUATION, i === CHAIN - 1 ? F.END_HEADERS : 0, 1, piece))]);
  const builder = new TcpCaptureBuilder();
  builder.conversation(
    rng,
    0,
    [
      { client: Buffer.concat([PREFACE, settings()]), server: settings() },
      { client: chain, server: Buffer.alloc(0) },
      { client: headers(3, REQUEST('/after')), server: Buffer.concat([headers(3, [[':status', '200']]), data(3, 'ok', true)]) },
    ],
    { maxSegment: 65000, handshake: true, close: true, clientPort: 43000, serverPort: 8080 },
  );
  const capture = builder.build(rng, false);
  const entries: Entry[] = [];
  gc();
  const before = process.memoryUsage();
  const baseline = before.heapUsed + before.arrayBuffers;
  let peak = 0;
  let chunks = 0;
  async function* chunked(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < capture.length; at += MB) yield capture.slice(at, at + MB);
  }
  const result = await readCaptures([{ label: 'continuation-chain', chunks: chunked() }], (e) => entries.push(e), {
    waitForSink: () => {
      if (++chunks % 4 === 0) {
        gc();
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.arrayBuffers - baseline);
      }
      return undefined;
    },
  });
  assertNoInternalErrors(result, 'the CONTINUATION chain');
  t.diagnostic(`${(capture.length / MB).toFixed(0)} MiB capture, ${chunks} chunks; live heap + array buffers peak ${(peak / MB).toFixed(1)} MiB over the start (header block bound ${DEFAULT_HTTP2_LIMITS.maxHeaderBlockBytes / 1024} KiB)`);
  assert.ok(capture.length > 64 * MB);
  assert.ok(peak < 32 * MB, `live memory grew by ${(peak / MB).toFixed(1)} MiB`);
  const after = entries.find((e) => JSON.stringify(e).includes('/after'));
  assert.ok(after !== undefined, `the stream after the chain is dissected (${entries.length} entries)`);
});
