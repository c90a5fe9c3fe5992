/**
 * Robustness of the Kafka dissector on hostile bytes: requests and responses of every decoded API
 * in every version (test-side encoder), damaged (truncations, bit flips, forged lengths and counts,
 * random runs), as byte streams cut at random places with gaps, and as whole captures through the
 * reader (with and without the handshake: mid-stream joining); the Kafka captures of the corpus
 * with random bit flips. Every case must end quickly, without an exception or an internal error,
 * with entries whose text holds no control character and that the descriptor can summarise, show
 * and redact. A flood of unanswered requests and a message claiming a huge size keep memory bounded.
 * Every case is a pure function of (seed, index): a failure names its index.
 *
 * More cases / another seed: SHARK_FUZZ_CASES=20000 SHARK_FUZZ_SEED=7.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SharkError } from '../../src/model/errors.ts';
import type { Entry } from '../../src/model/entry.ts';
import type { PayloadRedactor } from '../../src/model/protocol-descriptor.ts';
import { CapturePipeline } from '../../src/remote-agent/capture-pipeline.ts';
import { dissectContextFor, DEFAULT_DISSECT_OPTIONS } from '../../src/remote-agent/dissect/dissector.ts';
import { http1Dissector } from '../../src/remote-agent/dissect/http1/index.ts';
import { kafkaDescriptor } from '../../src/remote-agent/dissect/kafka/descriptor.ts';
import { isKafkaEntry, type KafkaEntry } from '../../src/remote-agent/dissect/kafka/entry.ts';
import { kafkaDissector } from '../../src/remote-agent/dissect/kafka/index.ts';
import { MAX_PENDING_PER_CONNECTION } from '../../src/remote-agent/dissect/kafka/stream.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { Prng } from '../bench/prng.ts';
import { REQUESTS, RESPONSES } from '../helpers/kafka-samples.ts';
import { APIS, encodeRequest, encodeResponse } from '../helpers/kafka-wire.ts';
import { readIndex, sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { TcpCaptureBuilder, type Exchange } from './tcp-capture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_CASES'] ?? 2000);
const CASE_BUDGET_MS = 1000;
const T0 = 1_704_067_200_000_000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const REDACTOR = { redacted: '[REDACTED]' } as PayloadRedactor;

const corpus = sharedPcapsDir();
const KAFKA_CAPTURES = readIndex(corpus)
  .filter((r) => r.protocol === 'kafka')
  .map((r) => ({ name: r.file, data: new Uint8Array(readFileSync(join(corpus, r.file))) }));

/** A request and its response, real per the encoder, of a random API and version. */
function exchange(rng: Prng, id: number): { request: Buffer; response: Buffer } {
  const api = rng.pick(APIS);
  const v = rng.int(0, api.maxVersion);
  return { request: encodeRequest(api.key, v, id, 'fuzz-client', REQUESTS[api.key]!), response: encodeResponse(api.key, v, id, RESPONSES[api.key]!) };
}

function damage(rng: Prng, seed: Uint8Array): { bytes: Uint8Array; what: string } {
  const b = Buffer.from(seed);
  switch (rng.int(0, 5)) {
    case 0: {
      const at = rng.int(0, b.length);
      return { bytes: b.subarray(0, at), what: `truncate@${at}` };
    }
    case 1: {
      const n = rng.int(1, 12);
      for (let i = 0; i < n; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      return { bytes: b, what: `bitflips(${n})` };
    }
    case 2: {
      // A forged int32 (a size, a count, a length) anywhere, often past any limit.
      const at = rng.int(0, Math.max(0, b.length - 4));
      if (b.length >= 4) b.writeInt32BE(rng.pick([-1, -2, 0x7fffffff, 0x10000000, rng.int(0, 1 << 20), rng.u32() | 0]), at);
      return { bytes: b, what: `int32@${at}` };
    }
    case 3: {
      // Forged varints (compact lengths, tagged field counts).
      const at = rng.int(0, Math.max(0, b.length - 5));
      for (let i = 0; i < 5 && at + i < b.length; i++) b[at + i] = 0x80 | rng.int(0, 0x7f);
      return { bytes: b, what: `varint@${at}` };
    }
    case 4: {
      const at = rng.int(0, b.length);
      const run = Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255)));
      return { bytes: Buffer.concat([b.subarray(0, at), run, b.subarray(at)]), what: `insert@${at}(${run.length})` };
    }
    default: {
      const bytes = Buffer.from(Array.from({ length: rng.int(0, 600) }, () => rng.int(0, 255)));
      return { bytes, what: `random(${bytes.length})` };
    }
  }
}

function checkEntries(entries: readonly Entry[]): void {
  for (const e of entries) {
    assert.ok(isKafkaEntry(e), `a kafka entry (${e.protocol.name})`);
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
    };
    walk(JSON.parse(JSON.stringify(e)));
    for (const s of strings) if (CONTROL.test(s)) throw new Error(`entry ${e.id} holds a control character: ${JSON.stringify(s)}`);
    const row = kafkaDescriptor.summarize(e);
    for (const s of [row.verb, row.target, row.outcome]) if (CONTROL.test(s)) throw new Error(`row text holds a control character: ${JSON.stringify(s)}`);
    for (const section of kafkaDescriptor.represent(e)) {
      if (section.kind !== 'table') continue;
      for (const r of section.rows) if (CONTROL.test(r.label) || CONTROL.test(r.value)) throw new Error(`detail row holds a control character: ${JSON.stringify(r)}`);
    }
    kafkaDescriptor.dedupKey(e);
    kafkaDescriptor.redact(e, REDACTOR);
    for (const v of kafkaDescriptor.kfl.variables) if (v.kind === 'computed') v.get(e);
  }
}

function checkStats(stats: CaptureStats): void {
  assert.equal(stats.internalErrors, 0, 'no internal error');
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `stats.${k} = ${v}`);
}

/** Collects the entries emitted (or, with `keep` false, only counts them: a flood's entries are not the dissector's memory). */
function recorder(keep = true) {
  const stats = newCaptureStats();
  const all: Entry[] = [];
  let count = 0;
  const ctx = dissectContextFor({ options: DEFAULT_DISSECT_OPTIONS, stats, emit: (e) => (keep ? all.push(e) : count++) }, 'kafka');
  return { ctx, stats, all, count: () => (keep ? all.length : count) };
}

function readCapture(data: Uint8Array): { entries: Entry[]; stats: CaptureStats } {
  const stats = newCaptureStats();
  const entries: Entry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e) => entries.push(e) }, { dissectors: [http1Dissector, kafkaDissector] });
  try {
    const parser = new CaptureFileParser(pipeline, stats);
    parser.push(data);
    parser.end();
  } catch (err) {
    if (!(err instanceof SharkError)) throw err;
  }
  pipeline.finish();
  return { entries, stats };
}

test('damaged Kafka streams cut anywhere with gaps: no crash, no hang, no internal error, clean entries', () => {
  let entriesSeen = 0;
  let slowest = 0;
  for (let index = 0; index < CASES; index++) {
    const rng = new Prng((MASTER_SEED * 1_000_003 + index) >>> 0);
    const started = performance.now();
    const what: string[] = [];
    try {
      const r = recorder();
      const stream = kafkaDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 9092 }, aIsClientKnown: rng.chance(0.7), firstSeenUs: T0 }, r.ctx);
      const n = rng.int(1, 6);
      const sides: [Uint8Array[], Uint8Array[]] = [[], []];
      for (let i = 0; i < n; i++) {
        const ex = exchange(rng, i);
        for (const [dir, bytes] of [[0, ex.request], [1, ex.response]] as const) {
          const d = rng.chance(0.5) ? damage(rng, bytes) : { bytes, what: 'intact' };
          what.push(`${dir}:${d.what}`);
          sides[dir].push(d.bytes);
        }
      }
      for (let dir = 0 as 0 | 1; dir <= 1; dir++) {
        const bytes = Buffer.concat(sides[dir]);
        for (let at = 0; at < bytes.length; ) {
          const size = rng.int(1, 300);
          stream.data(dir, bytes.subarray(at, at + size), T0 + at);
          if (rng.chance(0.02)) stream.gap(dir, rng.int(1, 100), T0 + at);
          at += size;
        }
      }
      stream.close(rng.pick(['fin', 'rst', 'end-of-capture'] as const), T0 + 1_000_000);
      checkStats(r.stats);
      checkEntries(r.all);
      entriesSeen += r.all.length;
    } catch (err) {
      assert.fail(`case ${index} (seed ${MASTER_SEED}: ${what.join(', ')}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    const took = performance.now() - started;
    slowest = Math.max(slowest, took);
    assert.ok(took < CASE_BUDGET_MS, `case ${index} took ${took.toFixed(0)} ms (${what.join(', ')})`);
  }
  process.stdout.write(`# ${CASES} Kafka stream fuzz cases: ${entriesSeen} entries, slowest ${slowest.toFixed(1)} ms\n`);
});

test('whole captures through the reader, with and without the handshake, some damaged: every intact exchange of a clean capture is an entry', () => {
  for (let index = 0; index < Math.ceil(CASES / 20); index++) {
    const rng = new Prng((MASTER_SEED * 31 + index) >>> 0);
    const builder = new TcpCaptureBuilder();
    const damaged = rng.chance(0.5);
    const handshake = rng.chance(0.6);
    const conversations = rng.int(1, 4);
    let intact = 0;
    for (let c = 0; c < conversations; c++) {
      const exchanges: Exchange[] = [];
      for (let i = 0; i < rng.int(1, 8); i++) {
        const ex = exchange(rng, 100 + i);
        exchanges.push(damaged && rng.chance(0.3) ? { client: damage(rng, ex.request).bytes, server: damage(rng, ex.response).bytes } : { client: ex.request, server: ex.response });
        intact++;
      }
      builder.conversation(rng, c, exchanges, { maxSegment: rng.int(20, 1500), handshake, close: rng.chance(0.5), clientPort: 40000 + c, serverPort: 9092 });
    }
    const interleave = rng.chance(0.3);
    const { entries, stats } = readCapture(builder.build(rng, interleave));
    checkStats(stats);
    checkEntries(entries);
    // Reordered frames may reach the reader as gaps; a clean, ordered capture must lose nothing,
    // with or without the handshake (the first request header names the client).
    if (!damaged && !interleave) {
      assert.equal(entries.length, intact, `case ${index}: every exchange an entry`);
      assert.equal(stats.dissectionErrors, 0, `case ${index}: no violation`);
      assert.ok(entries.every((e) => (e as KafkaEntry).response !== null || (e as KafkaEntry).error === null), `case ${index}: all answered`);
    }
  }
});

test('the Kafka captures of the corpus with random bit flips: no crash, no internal error', () => {
  assert.equal(KAFKA_CAPTURES.length, 4);
  for (let index = 0; index < Math.ceil(CASES / 10); index++) {
    const rng = new Prng((MASTER_SEED * 7 + index) >>> 0);
    const seed = rng.pick(KAFKA_CAPTURES);
    const data = seed.data.slice();
    const flips = rng.int(1, 40);
    for (let i = 0; i < flips; i++) data[rng.int(64, data.length - 1)]! ^= 1 << rng.int(0, 7);
    const { entries, stats } = readCapture(data);
    checkStats(stats);
    checkEntries(entries);
  }
});

test('a flood of unanswered requests and messages claiming huge sizes: pending requests and memory stay bounded', () => {
  const r = recorder(false);
  const stream = kafkaDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 9092 }, aIsClientKnown: true, firstSeenUs: T0 }, r.ctx);
  gc();
  const before = process.memoryUsage().heapUsed;
  const N = 50_000;
  for (let i = 0; i < N; i++) stream.data(0, encodeRequest(3, 1, i, 'flood', { topics: [{ name: `topic-${'x'.repeat(100)}-${i}` }] }), T0 + i);
  // A response claiming 90 MiB (under the 100 MiB cap): kept only up to 1 MiB, the rest skipped as it comes.
  const huge = Buffer.alloc(64 * 1024);
  huge.writeInt32BE(90 * 1024 * 1024, 0);
  huge.writeInt32BE(N - 1, 4);
  stream.data(1, huge, T0 + N);
  for (let i = 0; i < 400; i++) stream.data(1, new Uint8Array(64 * 1024), T0 + N + i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  process.stdout.write(`# ${N} unanswered requests (cap ${MAX_PENDING_PER_CONNECTION}) and 25 MiB of a 90 MiB response: heap grew ${(grown / 1048576).toFixed(1)} MiB\n`);
  assert.ok(grown < 16 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB`);
  assert.equal(r.count(), N - MAX_PENDING_PER_CONNECTION, 'the oldest past the cap come out unanswered');
  stream.close('fin', T0 + N + 1000);
  assert.equal(r.count(), N);
  assert.equal(r.stats.unpairedRequests, N);
  // A size past 100 MiB is refused outright: the framing is lost, counted as a violation.
  const r2 = recorder();
  const s2 = kafkaDissector.open({ index: 2, a: { ip: '10.0.0.1', port: 40001 }, b: { ip: '10.0.0.2', port: 9092 }, aIsClientKnown: true, firstSeenUs: T0 }, r2.ctx);
  const over = Buffer.alloc(16);
  over.writeInt32BE(100 * 1024 * 1024 + 1, 0);
  s2.data(0, over, T0);
  assert.equal(r2.stats.dissectionErrors, 1);
  checkStats(r.stats);
});
