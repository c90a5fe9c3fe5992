/**
 * Robustness of the PostgreSQL dissector on hostile bytes: real-shaped sessions (startup with
 * SCRAM, simple and extended queries, COPY both ways, errors) with damaged messages (bit flips,
 * truncations, random runs, forged lengths and counts), as whole captures through the pipeline
 * (with and without the TCP handshake, so joined midway too) and as byte streams cut anywhere with
 * gaps; the PostgreSQL captures of the corpus with random bit flips. Every case must end quickly,
 * without an exception or an internal error, with entries whose text holds no control character
 * (but tab and newlines, which SQL and COPY data hold) and that the descriptor can summarise and
 * show. Floods (unanswered queries, a DataRow claiming a gigabyte, endless rows) keep memory bounded.
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
import { CapturePipeline } from '../../src/remote-agent/capture-pipeline.ts';
import { postgresqlDescriptor } from '../../src/remote-agent/dissect/postgresql/descriptor.ts';
import type { PostgresqlEntry } from '../../src/remote-agent/dissect/postgresql/entry.ts';
import { DEFAULT_DISSECT_OPTIONS, dissectContextFor } from '../../src/remote-agent/dissect/dissector.ts';
import { postgresqlDissector } from '../../src/remote-agent/dissect/postgresql/index.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { Prng } from '../bench/prng.ts';
import { recorder } from '../helpers/http1-connection.ts';
import * as pg from '../helpers/pg-wire.ts';
import { readIndex, sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { TcpCaptureBuilder, type Exchange } from './tcp-capture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_CASES'] ?? 1500);
const CASE_BUDGET_MS = 1000;
const T0 = 1_704_067_200_000_000;
/** Control characters that must never be in an entry's text (tab, LF and CR are SQL's and COPY's own). */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/;
const { concat } = pg;

const corpus = sharedPcapsDir();
const PG_CAPTURES = readIndex(corpus)
  .filter((r) => r.protocol === 'postgresql')
  .map((r) => ({ name: r.file, data: new Uint8Array(readFileSync(join(corpus, r.file))) }));

/** A session's exchanges: each a client part and the server's answer. */
function session(): Exchange[] {
  const open = pg.scramOpening('alice', 'shop');
  return [
    { client: pg.sslRequest(), server: Buffer.from('N') },
    { client: open.client[0]!, server: open.server[0]! },
    { client: open.client[1]!, server: open.server[1]! },
    { client: open.client[2]!, server: open.server[2]! },
    { client: pg.query('SELECT id, name FROM t; SELECT 1'), server: concat(pg.rowDescription([['id', 23], ['name', 25]]), pg.dataRow(['1', 'a\u0007b']), pg.dataRow([null, 'x']), pg.commandComplete('SELECT 2'), pg.commandComplete('SELECT 1'), pg.ready()) },
    { client: pg.query('DROP TABLE nope'), server: concat(pg.notice({ S: 'NOTICE', C: '00000', M: 'hm' }), pg.errorResponse({ S: 'ERROR', V: 'ERROR', C: '42P01', M: 'no\u001b[31m', D: 'detail', H: 'hint', P: '12' }), pg.ready()) },
    {
      client: concat(pg.parse('s1', 'SELECT $1::int8, $2', [20, 0]), pg.describe('S', 's1'), pg.bind('', 's1', [pg.int8(7n), 'two'], [1, 0]), pg.execute(''), pg.sync()),
      server: concat(pg.parseComplete(), pg.parameterDescription([20, 25]), pg.rowDescription([['a', 20, 1], ['b', 25]]), pg.bindComplete(), pg.dataRow([pg.int8(7n), 'two']), pg.commandComplete('SELECT 1'), pg.ready()),
    },
    { client: pg.query('COPY t FROM STDIN'), server: pg.copyInResponse(2) },
    { client: concat(pg.copyData('1\tone\n'), pg.copyData('\\.\n'), pg.copyDone()), server: concat(pg.commandComplete('COPY 1'), pg.ready()) },
    { client: pg.query('COPY t TO STDOUT'), server: concat(pg.copyOutResponse(2), pg.copyData('1\tone\n'), pg.copyDoneB(), pg.commandComplete('COPY 1'), pg.ready('T')) },
    { client: pg.terminate(), server: new Uint8Array(0) },
  ];
}

function damage(rng: Prng, seed: Uint8Array): { bytes: Uint8Array; what: string } {
  // A copy (a Buffer's slice() would be a view, and damage the seed for every later case).
  const b = new Uint8Array(seed);
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
      // A forged length or count (big-endian 32 or 16 bits) anywhere.
      const at = rng.int(0, Math.max(0, b.length - 4));
      const v = rng.pick([0, 0xffffffff, 0x7fffffff, 0x40000000, rng.u32(), 3, 4, 5]);
      for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (v >>> (24 - 8 * i)) & 0xff;
      return { bytes: b, what: `forged@${at}=${v}` };
    }
    case 3: {
      const at = rng.int(0, b.length - 1);
      const run = Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
      return { bytes: concat(b.subarray(0, at), run, b.subarray(at)), what: `insert@${at}(${run.length})` };
    }
    default: {
      const bytes = Uint8Array.from({ length: rng.int(0, 600) }, () => rng.int(0, 255));
      return { bytes, what: `random(${bytes.length})` };
    }
  }
}

function checkEntries(entries: readonly PostgresqlEntry[]): void {
  for (const e of entries) {
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
    };
    walk(JSON.parse(JSON.stringify(e)) as unknown);
    for (const s of strings) if (CONTROL.test(s)) throw new Error(`entry ${e.id} holds a control character: ${JSON.stringify(s)}`);
    const row = postgresqlDescriptor.summarize(e);
    for (const s of [row.verb, row.target, row.outcome]) if (CONTROL.test(s)) throw new Error(`row text holds a control character: ${JSON.stringify(s)}`);
    for (const section of postgresqlDescriptor.represent(e)) {
      if (section.kind !== 'table') continue;
      for (const r of section.rows) if (CONTROL.test(r.label) || CONTROL.test(r.value)) throw new Error(`detail row holds a control character: ${JSON.stringify(r)}`);
    }
    postgresqlDescriptor.dedupKey(e);
    postgresqlDescriptor.heldChars!(e);
    assert.ok(!JSON.stringify(e).includes('SECRETPROOF'), 'the SASL proof is never kept');
  }
}

function checkStats(stats: CaptureStats): void {
  assert.equal(stats.internalErrors, 0, 'no internal error');
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `stats.${k} = ${v}`);
}

function readCapture(data: Uint8Array): { stats: CaptureStats; entries: PostgresqlEntry[] } {
  const stats = newCaptureStats();
  const entries: PostgresqlEntry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e) => e.protocol.name === 'postgresql' && entries.push(e as unknown as PostgresqlEntry) });
  try {
    const parser = new CaptureFileParser(pipeline, stats);
    parser.push(data);
    parser.end();
  } catch (err) {
    if (!(err instanceof SharkError)) throw err;
  }
  pipeline.finish();
  return { stats, entries };
}

test('damaged PostgreSQL sessions through the pipeline, and streams cut anywhere with gaps: no crash, no hang, no internal error', () => {
  const base = session();
  let entriesSeen = 0;
  let slowest = 0;
  for (let index = 0; index < CASES; index++) {
    const rng = new Prng((MASTER_SEED * 1_000_003 + index) >>> 0);
    const started = performance.now();
    const what: string[] = [];
    try {
      const exchanges = base.map((ex, i) => {
        if (!rng.chance(0.25)) return ex;
        const side = rng.chance(0.5) ? 'client' : 'server';
        const d = damage(rng, ex[side]);
        what.push(`${i}.${side}:${d.what}`);
        return { ...ex, [side]: d.bytes };
      });
      if (rng.chance(0.5)) {
        const b = new TcpCaptureBuilder();
        const handshake = rng.chance(0.7);
        what.push(handshake ? 'syn' : 'midway');
        // Joined midway: the capture starts at a random exchange.
        const from = handshake ? 0 : rng.int(0, exchanges.length - 1);
        b.conversation(rng, 1, exchanges.slice(from), { maxSegment: rng.pick([8, 64, 1460]), handshake, close: rng.chance(0.7), clientPort: 40000, serverPort: 5432 });
        const { stats, entries } = readCapture(b.build(rng, false));
        checkStats(stats);
        checkEntries(entries);
        entriesSeen += entries.length;
      } else {
        const r = recorder();
        const stream = postgresqlDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 5432 }, aIsClientKnown: true, firstSeenUs: T0 }, r.ctx);
        let t = T0;
        for (const ex of exchanges) {
          for (const [dir, bytes] of [[0, ex.client], [1, ex.server]] as const) {
            for (let at = 0; at < bytes.length; ) {
              const size = rng.int(1, 300);
              stream.data(dir, bytes.subarray(at, at + size), (t += rng.int(1, 5000)));
              if (rng.chance(0.02)) {
                const lost = rng.int(1, 100);
                what.push(`gap ${dir}:${lost}`);
                stream.gap(dir, lost, t);
              }
              at += size;
            }
          }
        }
        stream.close(rng.pick(['fin', 'rst', 'end-of-capture'] as const), t + 1_000_000);
        checkStats(r.stats);
        const entries = r.all as unknown as PostgresqlEntry[];
        checkEntries(entries);
        entriesSeen += entries.length;
        if (process.env['PGDBG'] && what.length === 0) console.log('stream', index, exchanges.map((e) => e.client.length + '/' + e.server.length).join(' '), entries.length, JSON.stringify(entries.map((e) => [e.request.kind, e.error, e.response?.messages])), r.stats.dissectionErrors);
      }
    } catch (err) {
      assert.fail(`case ${index} (seed ${MASTER_SEED}: ${what.join(', ')}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    const took = performance.now() - started;
    slowest = Math.max(slowest, took);
    assert.ok(took < CASE_BUDGET_MS, `case ${index} took ${took.toFixed(0)} ms (${what.join(', ')})`);
  }
  process.stdout.write(`# ${CASES} PostgreSQL fuzz cases: ${entriesSeen} entries, slowest ${slowest.toFixed(1)} ms\n`);
});

test('an intact session through the pipeline is every entry, with and without the handshake', () => {
  const rng = new Prng(MASTER_SEED);
  const b = new TcpCaptureBuilder();
  b.conversation(rng, 1, session(), { maxSegment: 7, handshake: true, close: true, clientPort: 40000, serverPort: 5432 });
  const { stats, entries } = readCapture(b.build(rng, false));
  checkStats(stats);
  assert.deepEqual(entries.map((e) => e.request.kind), ['ssl-request', 'startup', 'simple-query', 'simple-query', 'extended-query', 'simple-query', 'simple-query', 'terminate']);
  assert.equal(stats.dissectionErrors, 0);
  // Joined at the first query: the rest of the session.
  const mid = new TcpCaptureBuilder();
  mid.conversation(rng, 1, session().slice(4), { maxSegment: 1460, handshake: false, close: true, clientPort: 40000, serverPort: 5432 });
  const joined = readCapture(mid.build(rng, false));
  assert.deepEqual(joined.entries.map((e) => `${e.request.kind} ${e.response?.commandTags.join(',') ?? '-'}`), [
    'simple-query SELECT 2,SELECT 1', 'simple-query ', 'extended-query SELECT 1', 'simple-query COPY 1', 'simple-query COPY 1', 'terminate -',
  ]);
});

test('through the pipeline, an SSLRequest answered S is one entry and the TLS after it counts as undissected TLS', () => {
  const rng = new Prng(MASTER_SEED + 1);
  const b = new TcpCaptureBuilder();
  const clientHello = Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00);
  const serverHello = Uint8Array.of(0x16, 0x03, 0x03, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00);
  b.conversation(rng, 1, [{ client: pg.sslRequest(), server: Uint8Array.of(0x53) }, { client: clientHello, server: serverHello }], { maxSegment: 1460, handshake: true, close: true, clientPort: 40000, serverPort: 5432 });
  const { stats, entries } = readCapture(b.build(rng, false));
  assert.deepEqual(entries.map((e) => `${e.request.kind} ${e.response?.encryptionAnswer}`), ['ssl-request S']);
  assert.deepEqual({ ...stats.undissected.connections }, { tls: 1 });
  assert.equal(stats.dissectionErrors, 0);
});

test('the PostgreSQL captures of the corpus with random bit flips: no crash, no internal error', () => {
  assert.ok(PG_CAPTURES.length >= 3);
  for (let index = 0; index < Math.ceil(CASES / 5); index++) {
    const rng = new Prng((MASTER_SEED * 7 + index) >>> 0);
    const seed = rng.pick(PG_CAPTURES);
    const data = seed.data.slice();
    const flips = rng.int(1, 40);
    for (let i = 0; i < flips; i++) data[rng.int(64, data.length - 1)]! ^= 1 << rng.int(0, 7);
    const { stats, entries } = readCapture(data);
    checkStats(stats);
    checkEntries(entries);
  }
});

test('floods stay bounded: unanswered queries, a DataRow claiming a gigabyte, endless rows', () => {
  // Entries are counted, not kept: what grows is the dissector's own.
  const stats = newCaptureStats();
  let emitted = 0;
  const ctx = dissectContextFor({ options: { ...DEFAULT_DISSECT_OPTIONS, maxBodyBytes: 64 * 1024 }, stats, emit: () => emitted++ }, 'postgresql');
  const stream = postgresqlDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 5432 }, aIsClientKnown: true, firstSeenUs: T0 }, ctx);
  gc();
  const before = process.memoryUsage().heapUsed;
  // 200,000 queries never answered: the queue stays at its cap, the oldest leave one-sided.
  for (let i = 0; i < 200_000; i++) stream.data(0, pg.query(`SELECT ${'x'.repeat(100)} /* ${i} */`), T0 + i);
  const pending = stream.oldestPendingUs();
  assert.ok(pending >= T0 + 200_000 - 256, 'only the newest queries wait');
  // A DataRow that claims 1 GB, fed 64 MiB of it: only the keep limit is held.
  stream.data(0, pg.query('SELECT big'), T0 + 300_000);
  const huge = new Uint8Array(1 + 4);
  huge[0] = 0x44;
  new DataView(huge.buffer).setUint32(1, 0x3fffffff);
  stream.data(1, huge, T0 + 300_001);
  const chunk = new Uint8Array(1024 * 1024).fill(0x61);
  for (let i = 0; i < 64; i++) stream.data(1, chunk, T0 + 300_002 + i);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  process.stdout.write(`# 200,000 unanswered queries and a 1 GB DataRow (64 MiB fed): heap grew ${(grown / 1048576).toFixed(1)} MiB\n`);
  assert.ok(grown < 64 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB`);
  stream.close('end-of-capture', T0 + 400_000);
  assert.equal(stats.internalErrors, 0);
  assert.equal(emitted, 200_001);
  assert.equal(stats.unpairedRequests, 200_001);
});
