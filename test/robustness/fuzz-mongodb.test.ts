/**
 * Robustness of the MongoDB dissector on hostile bytes: messages as the driver and a server send
 * them (built with bson: OP_MSG with sequences, legacy OP_QUERY/OP_REPLY/OP_INSERT, OP_COMPRESSED,
 * exhaust streams), damaged (bit flips, truncations, forged lengths and section sizes, random
 * runs), as TCP captures read through the whole capture pipeline (segments cut anywhere, with and
 * without the handshake, so some joins are midway) and as byte streams with gaps. Every case must
 * end quickly, without an exception or an internal error, with entries whose fields hold no
 * control character and that the descriptor can summarise, show and redact. Documents nested far
 * deeper than MongoDB allows, a 48 MB length claim and a flood of unanswered requests keep time
 * and memory bounded. Every case is a pure function of (seed, index): a failure names its index.
 *
 * More cases / another seed: SHARK_FUZZ_CASES=20000 SHARK_FUZZ_SEED=7.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Binary, Long } from 'bson';
import type { Entry } from '../../src/model/entry.ts';
import { CapturePipeline } from '../../src/remote-agent/capture-pipeline.ts';
import { MAX_PENDING } from '../../src/remote-agent/dissect/mongodb/connection.ts';
import { mongodbDescriptor } from '../../src/remote-agent/dissect/mongodb/descriptor.ts';
import { isMongodbEntry, type MongodbEntry } from '../../src/remote-agent/dissect/mongodb/entry.ts';
import { mongodbDissector } from '../../src/remote-agent/dissect/mongodb/index.ts';
import { EntryRedactor } from '../../src/remote-agent/redact/entry-redactor.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { Prng } from '../bench/prng.ts';
import { benchCase } from '../bench/protocols/mongodb.ts';
import { recorder } from '../helpers/http1-connection.ts';
import { FLAG_CHECKSUM, FLAG_MORE_TO_COME, opCompressed, opInsert, opMsg, opQuery, opReply, withHeader } from '../helpers/mongodb-wire.ts';
import { TcpCaptureBuilder, type Exchange } from './tcp-capture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_CASES'] ?? 1500);
const CASE_BUDGET_MS = 1000;
const T0 = 1_704_067_200_000_000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Request/reply pairs to damage: every kind the parser knows. */
function seedExchanges(): Exchange[] {
  const secret = new Binary(Buffer.from('n,,n=u,r=nonce\u0007\u009b'));
  return [
    { client: opQuery(1, 'admin.$cmd', { isMaster: 1, client: { app: 'x\u001b[31m' } }), server: opReply(2, 1, [{ ismaster: true, maxWireVersion: 21, ok: 1 }]) },
    {
      client: opMsg({ insert: 'c\u0085', $db: 'd' }, { requestId: 3, flags: FLAG_CHECKSUM, sequences: [{ identifier: 'documents', documents: [{ _id: 1, s: 'a\u2028b' }, { _id: Long.fromNumber(2) }] }] }),
      server: opMsg({ n: 1, writeErrors: [{ index: 1, code: 11000, errmsg: 'dup\u0000key' }], ok: 1 }, { requestId: 4, responseTo: 3 }),
    },
    { client: opCompressed(opMsg({ find: 'c', filter: { a: { $regex: '(a+)+$' } }, $db: 'd' }, { requestId: 5 }), 'zlib'), server: opCompressed(opMsg({ ok: 0, code: 2, codeName: 'BadValue', errmsg: 'bad\u001b' }, { requestId: 6, responseTo: 5 }), 'zlib') },
    { client: opCompressed(opMsg({ saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: secret, $db: 'admin' }, { requestId: 7 }), 'zstd'), server: opCompressed(opMsg({ conversationId: 1, payload: secret, ok: 1 }, { requestId: 8, responseTo: 7 }), 'snappy') },
    { client: opMsg({ getMore: Long.fromNumber(9), collection: 'c', $db: 'd' }, { requestId: 9 }), server: Buffer.concat([opMsg({ ok: 1 }, { requestId: 10, responseTo: 9, flags: FLAG_MORE_TO_COME }), opMsg({ ok: 1 }, { requestId: 11, responseTo: 10 })]) },
    { client: Buffer.concat([opInsert(12, 'd.c', [{ a: 1 }]), opMsg({ delete: 'c', $db: 'd' }, { requestId: 13, flags: FLAG_MORE_TO_COME })]), server: new Uint8Array(0) },
    { client: opQuery(14, 'd.c', { $query: { a: 1 } }), server: opReply(15, 14, [{ $err: 'fail', code: 13 }], 2) },
  ];
}

function damage(rng: Prng, seed: Uint8Array): { bytes: Uint8Array; what: string } {
  const b = Buffer.from(seed);
  if (b.length === 0) return { bytes: b, what: 'empty' };
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
      // A forged int32 where lengths live: the message length, a section or document length.
      const at = rng.pick([0, 16, 20, 21, 25].filter((x) => x + 4 <= b.length));
      if (at === undefined) return { bytes: b, what: 'short' };
      b.writeInt32LE(rng.pick([-1, 0, 4, 5, 0x7fffffff, 48_000_001, rng.int(0, 4096)]), at);
      return { bytes: b, what: `length@${at}` };
    }
    case 3: {
      const at = rng.int(0, b.length - 1);
      const run = Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
      return { bytes: Buffer.concat([b.subarray(0, at), run, b.subarray(at)]), what: `insert@${at}(${run.length})` };
    }
    case 4: {
      // A BSON type byte changed inside the first document.
      const at = rng.int(Math.min(26, b.length - 1), b.length - 1);
      b[at] = rng.pick([0x03, 0x04, 0x05, 0x0b, 0x0f, 0x11, 0x13, 0x7f, 0xff, 0x42]);
      return { bytes: b, what: `type@${at}` };
    }
    default: {
      const bytes = Uint8Array.from({ length: rng.int(0, 600) }, () => rng.int(0, 255));
      return { bytes, what: `random(${bytes.length})` };
    }
  }
}

function checkEntries(entries: readonly MongodbEntry[], redactor: EntryRedactor): void {
  for (const e of entries) {
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
    };
    walk(JSON.parse(JSON.stringify(e)));
    for (const s of strings) if (CONTROL.test(s)) throw new Error(`entry ${e.id} holds a control character: ${JSON.stringify(s)}`);
    const row = mongodbDescriptor.summarize(e);
    for (const s of [row.verb, row.target, row.outcome]) if (CONTROL.test(s)) throw new Error(`row text holds a control character: ${JSON.stringify(s)}`);
    for (const section of mongodbDescriptor.represent(e)) {
      if (section.kind !== 'table') continue;
      for (const r of section.rows) if (CONTROL.test(r.label) || CONTROL.test(r.value)) throw new Error(`detail row holds a control character: ${JSON.stringify(r)}`);
    }
    mongodbDescriptor.dedupKey(e);
    mongodbDescriptor.heldChars!(e);
    redactor.redact(e);
    if (/nonce|SCRAM proof/.test(e.request.document?.text ?? '') && e.request.command === 'saslStart') throw new Error(`SASL payload left in ${e.id}`);
  }
}

function checkStats(stats: CaptureStats): void {
  assert.equal(stats.internalErrors, 0, 'no internal error');
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `stats.${k} = ${v}`);
}

function readCapture(pcap: Uint8Array): { stats: CaptureStats; entries: MongodbEntry[] } {
  const stats = newCaptureStats();
  const all: Entry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e) => all.push(e) });
  const parser = new CaptureFileParser(pipeline, stats);
  parser.push(pcap);
  parser.end();
  pipeline.finish();
  return { stats, entries: all.filter(isMongodbEntry) };
}

test('damaged MongoDB conversations through the capture pipeline, and damaged streams with gaps: no crash, no hang, no internal error', () => {
  const seeds = seedExchanges();
  const redactor = new EntryRedactor();
  let entriesSeen = 0;
  let slowest = 0;
  for (let index = 0; index < CASES; index++) {
    const rng = new Prng((MASTER_SEED * 1_000_003 + index) >>> 0);
    const started = performance.now();
    const what: string[] = [];
    try {
      const exchanges = Array.from({ length: rng.int(1, 6) }, () => {
        const ex = rng.pick(seeds);
        const c = rng.chance(0.4) ? damage(rng, ex.client) : { bytes: ex.client, what: 'intact' };
        const s = rng.chance(0.4) ? damage(rng, ex.server) : { bytes: ex.server, what: 'intact' };
        what.push(`${c.what}/${s.what}`);
        return { client: c.bytes, server: s.bytes };
      });
      let entries: MongodbEntry[];
      let stats: CaptureStats;
      if (rng.chance(0.5)) {
        const b = new TcpCaptureBuilder();
        b.conversation(rng, 1, exchanges, { maxSegment: rng.int(1, 1500), handshake: rng.chance(0.7), close: rng.chance(0.7), clientPort: 40_000, serverPort: 27017 });
        ({ entries, stats } = readCapture(b.build(rng, false)));
      } else {
        const r = recorder();
        const stream = mongodbDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 27017 }, aIsClientKnown: true, firstSeenUs: T0 }, r.ctx);
        let ts = T0;
        for (const ex of exchanges) {
          for (const [dir, bytes] of [[0, ex.client], [1, ex.server]] as const) {
            for (let at = 0; at < bytes.length; ) {
              const size = rng.int(1, 300);
              stream.data(dir, bytes.subarray(at, at + size), (ts += rng.int(1, 1000)));
              if (rng.chance(0.03)) stream.gap(dir, rng.int(1, 200), ts);
              at += size;
            }
          }
        }
        stream.close(rng.pick(['fin', 'rst', 'end-of-capture'] as const), ts + 1);
        entries = r.all as unknown as MongodbEntry[];
        stats = r.stats;
      }
      checkStats(stats);
      checkEntries(entries, redactor);
      entriesSeen += entries.length;
    } catch (err) {
      assert.fail(`case ${index} (seed ${MASTER_SEED}: ${what.join(', ')}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    const took = performance.now() - started;
    slowest = Math.max(slowest, took);
    assert.ok(took < CASE_BUDGET_MS, `case ${index} took ${took.toFixed(0)} ms (${what.join(', ')})`);
  }
  process.stdout.write(`# ${CASES} MongoDB fuzz cases: ${entriesSeen} entries, slowest ${slowest.toFixed(1)} ms\n`);
  assert.ok(entriesSeen > CASES, 'intact exchanges among the damaged ones still make entries');
});

/** A document nested `depth` deep, written directly (the bson encoder itself would recurse). */
function deepDocument(depth: number): Buffer {
  const size = 5 + depth * 7;
  const b = Buffer.alloc(size);
  for (let k = 0; k < depth; k++) {
    b.writeInt32LE(size - k * 7, k * 6);
    b[k * 6 + 4] = 0x03;
    b[k * 6 + 5] = 0;
    b[size - 1 - k] = 0;
  }
  b.writeInt32LE(5, depth * 6);
  return b;
}

test('hostile shapes: a document nested 150,000 deep, a 48 MB length claim, OP_COMPRESSED claiming more than it holds', () => {
  const deep = deepDocument(150_000);
  const deepMsg = withHeader(1, 0, 2013, Buffer.concat([Buffer.alloc(4), Buffer.from([0]), deep]));
  const bomb = opCompressed(opMsg({ ping: 1, pad: 'z'.repeat(2_000_000), $db: 'admin' }, { requestId: 3 }), 'zlib');
  bomb.writeInt32LE(1000, 20); // declared uncompressed size far below the real one
  const claim = Buffer.alloc(64);
  claim.writeInt32LE(48_000_000, 0);
  claim.writeInt32LE(5, 4);
  claim.writeInt32LE(2013, 12);
  const r = recorder({ maxBodyBytes: 64 * 1024 });
  const stream = mongodbDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 27017 }, aIsClientKnown: true, firstSeenUs: T0 }, r.ctx);
  const started = performance.now();
  stream.data(0, deepMsg, T0);
  stream.data(1, opMsg({ ok: 1 }, { requestId: 2, responseTo: 1 }), T0 + 1);
  stream.data(0, bomb, T0 + 2);
  stream.data(1, opMsg({ ok: 1 }, { requestId: 4, responseTo: 3 }), T0 + 3);
  stream.data(0, claim, T0 + 4);
  gc();
  const before = process.memoryUsage().heapUsed;
  // 4 MB more of the claimed 48 MB message: skipped past the keep limit, not held.
  for (let i = 0; i < 64; i++) stream.data(0, Buffer.alloc(64 * 1024, 0x61), T0 + 5 + i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  stream.close('fin', T0 + 100);
  const took = performance.now() - started;
  const entries = r.all as unknown as MongodbEntry[];
  assert.ok(took < 2000, `took ${took.toFixed(0)} ms`);
  assert.ok(grown < 24 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB while a 48 MB message streamed`);
  assert.equal(entries[0]!.request.document!.text, `{"$undecodable":${deep.length}}`, 'too deep: not decoded');
  assert.equal(entries[0]!.response!.success, true);
  assert.equal(entries[1]!.request.decoded, false, 'a compressed message larger than it claims is not opened');
  assert.equal(entries[1]!.request.compressor, 'zlib');
  assert.equal(r.stats.internalErrors, 0);
  process.stdout.write(`# hostile shapes: ${took.toFixed(0)} ms, heap grew ${(grown / 1048576).toFixed(1)} MiB\n`);
});

test('a flood of unanswered requests on one connection: pending requests and memory stay bounded', () => {
  const r = recorder();
  const stream = mongodbDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 27017 }, aIsClientKnown: true, firstSeenUs: T0 }, r.ctx);
  gc();
  const before = process.memoryUsage().heapUsed;
  const N = 20_000;
  for (let i = 0; i < N; i++) stream.data(0, opMsg({ find: 'c', filter: { pad: 'p'.repeat(200), i }, $db: 'd' }, { requestId: i + 1 }), T0 + i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  const emitted = r.all.length;
  // The recorder holds what was emitted: count only what the stream itself holds.
  const held = stream.oldestPendingUs();
  stream.close('fin', T0 + N);
  process.stdout.write(`# ${N} unanswered requests (cap ${MAX_PENDING}): ${emitted} emitted before the close, heap grew ${(grown / 1048576).toFixed(1)} MiB (entries included)\n`);
  assert.equal(emitted, N - MAX_PENDING, 'past the cap, the oldest come out unanswered');
  assert.ok(held >= T0 + N - MAX_PENDING, 'only the newest wait');
  assert.equal(r.all.length, N);
  assert.equal(r.stats.unpairedRequests, N);
  assert.ok(grown < 200 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB`);
});

test('the benchmark conversation read through the capture pipeline: every exchange one entry, all answered', () => {
  const rng = new Prng(MASTER_SEED);
  const b = new TcpCaptureBuilder();
  let expected = 0;
  for (let i = 0; i < 5; i++) {
    const c = benchCase.conversation(rng, i);
    expected += c.entries;
    b.conversation(rng, i, c.exchanges, { maxSegment: 1460, handshake: true, close: true, clientPort: 40_000 + i, serverPort: benchCase.serverPort });
  }
  const { entries, stats } = readCapture(b.build(rng, false));
  checkStats(stats);
  assert.equal(entries.length, expected);
  assert.ok(entries.every((e) => e.response !== null && e.response.success && e.error === null));
  assert.equal(stats.dissectionErrors, 0);
});
