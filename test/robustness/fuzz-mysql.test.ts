/**
 * Robustness of the MySQL dissector on hostile bytes: real client/server conversations (handshake,
 * queries, result sets with and without EOF, prepared statements with binary rows, multi-results,
 * errors) damaged (bit flips, truncations, inserted runs, forged lengths and counts, random bytes),
 * through the whole capture pipeline, and as byte streams cut anywhere with gaps, joined midway or
 * not; the MySQL captures of the corpus with random bit flips. Every case must end quickly, without
 * an exception or internal error, with entries the descriptor can summarise and show, whose row and
 * detail texts hold no control character. Floods (unanswered commands, forged huge lengths and
 * column counts, many statements) keep memory bounded. Every case is a pure function of (seed, index).
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
import { DEFAULT_DISSECT_OPTIONS, dissectContextFor } from '../../src/remote-agent/dissect/dissector.ts';
import { http1Dissector } from '../../src/remote-agent/dissect/http1/index.ts';
import { MAX_PENDING, MAX_STATEMENTS } from '../../src/remote-agent/dissect/mysql/connection.ts';
import { mysqlDescriptor } from '../../src/remote-agent/dissect/mysql/descriptor.ts';
import type { MysqlEntry } from '../../src/remote-agent/dissect/mysql/entry.ts';
import { mysqlDissector } from '../../src/remote-agent/dissect/mysql/index.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { Prng } from '../bench/prng.ts';
import { recorder } from '../helpers/http1-connection.ts';
import {
  bin, binaryRow, COM, columnDef, command, concat, eof, err, execute, greeting, lenenc, login, ok, packet, prepareOk, str, textResultSet, TYPE, u32, u8,
} from '../helpers/mysql-wire.ts';
import { readIndex, sharedPcapsDir } from '../helpers/shared-pcaps.ts';
import { TcpCaptureBuilder, type Exchange } from './tcp-capture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_CASES'] ?? 1500);
/** A case running longer than this is a hang (cases take a few milliseconds). */
const CASE_BUDGET_MS = 1500;
const T0 = 1_704_067_200_000_000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const corpus = sharedPcapsDir();
const MYSQL_CAPTURES = readIndex(corpus)
  .filter((r) => r.protocol === 'mysql')
  .map((r) => ({ name: r.file, data: new Uint8Array(readFileSync(join(corpus, r.file))) }));

/** One conversation of every kind the dissector knows, as exchanges (the greeting first). */
function seedConversation(deprecateEof: boolean): Exchange[] {
  const none = new Uint8Array(0);
  const MORE = 0x0008 | 2;
  return [
    { client: none, server: greeting() },
    { client: login({ user: 'app', auth: str('0123456789abcdef0123'), database: 'shop' }), server: ok(2) },
    { client: command(COM.QUERY, 'SELECT id, name FROM t WHERE name LIKE \'%a%\''), server: textResultSet(['id', 'name'], [['1', 'a'], ['2', null], ['3', 'x\u0007y']], { deprecateEof }) },
    { client: command(COM.QUERY, 'SELECT 1; UPDATE t SET a = 1'), server: concat(textResultSet(['1'], [['1']], { deprecateEof, status: MORE }), ok(deprecateEof ? 4 : 5, { affected: 2 })) },
    { client: command(COM.STMT_PREPARE, 'SELECT id, at FROM t WHERE id > ? AND name = ?'), server: prepareOk(3, 2, [{ name: 'id', type: TYPE.LONG }, { name: 'at', type: TYPE.DATETIME }], deprecateEof) },
    {
      client: execute(3, [bin.long(1), bin.text('zoë')]),
      server: concat(packet(1, lenenc(2)), columnDef(2, 'id', TYPE.LONG), columnDef(3, 'at', TYPE.DATETIME), deprecateEof ? new Uint8Array(0) : eof(4), binaryRow(deprecateEof ? 4 : 5, [u32(7), concat(u8(4), Uint8Array.of(0xe8, 0x07, 2, 29))]), deprecateEof ? ok(5, { header: 0xfe }) : eof(6)),
    },
    { client: execute(3, [bin.long(2), bin.text('b')], false), server: ok(1) },
    { client: command(COM.QUERY, 'SELEC nope'), server: err(1, 1064, '42000', 'You have an error\u001b[2J') },
    { client: command(COM.INIT_DB, 'shop'), server: ok(1) },
    { client: command(COM.STMT_CLOSE, u32(3)), server: none },
    { client: command(COM.PING), server: ok(1) },
    { client: command(COM.QUIT), server: none },
  ];
}

/** Damages one byte string; what was done goes in the returned label. */
function damage(rng: Prng, seed: Uint8Array): { bytes: Uint8Array; what: string } {
  const b = seed.slice();
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
      // A forged packet length or sequence id in the first header.
      const at = rng.int(0, Math.min(3, b.length - 1));
      b[at] = rng.pick([0x00, 0xff, rng.int(0, 255)]);
      return { bytes: b, what: `header@${at}` };
    }
    case 3: {
      // Forged length-encoded numbers (column counts, string lengths) anywhere.
      const at = rng.int(0, b.length - 1);
      b[at] = rng.pick([0xfb, 0xfc, 0xfd, 0xfe, 0xff]);
      return { bytes: b, what: `lenenc@${at}` };
    }
    case 4: {
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

function checkEntries(entries: readonly MysqlEntry[]): void {
  for (const e of entries) {
    JSON.parse(JSON.stringify(e));
    const row = mysqlDescriptor.summarize(e);
    for (const s of [row.verb, row.target, row.outcome]) if (CONTROL.test(s)) throw new Error(`row text holds a control character: ${JSON.stringify(s)}`);
    for (const section of mysqlDescriptor.represent(e)) {
      if (section.kind !== 'table') continue;
      for (const r of section.rows) if (CONTROL.test(r.label) || CONTROL.test(r.value)) throw new Error(`detail row holds a control character: ${JSON.stringify(r)}`);
    }
    mysqlDescriptor.dedupKey(e);
    mysqlDescriptor.heldChars!(e);
    for (const v of mysqlDescriptor.kfl.variables) if (v.kind === 'computed') v.get(e);
  }
}

function checkStats(stats: CaptureStats): void {
  assert.equal(stats.internalErrors, 0, 'no internal error');
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `stats.${k} = ${v}`);
}

function pipelineFor(stats: CaptureStats, entries: MysqlEntry[]): CapturePipeline {
  return new CapturePipeline(stats, { entry: (e) => entries.push(e as unknown as MysqlEntry) }, { dissectors: [http1Dissector, mysqlDissector] });
}

function readPcap(data: Uint8Array, stats: CaptureStats, entries: MysqlEntry[]): void {
  const pipeline = pipelineFor(stats, entries);
  try {
    const parser = new CaptureFileParser(pipeline, stats);
    parser.push(data);
    parser.end();
  } catch (err) {
    if (!(err instanceof SharkError)) throw err;
  }
  pipeline.finish();
}

test('damaged MySQL conversations through the pipeline, and byte streams cut anywhere with gaps: no crash, no hang, no internal error', () => {
  let entriesSeen = 0;
  let slowest = 0;
  for (let index = 0; index < CASES; index++) {
    const rng = new Prng((MASTER_SEED * 1_000_003 + index) >>> 0);
    const started = performance.now();
    const what: string[] = [];
    try {
      const stats = newCaptureStats();
      const entries: MysqlEntry[] = [];
      const exchanges = seedConversation(rng.chance(0.5)).map((ex) => {
        if (!rng.chance(0.15)) return ex;
        const side = rng.chance(0.5) ? 'client' : 'server';
        const d = damage(rng, ex[side]);
        what.push(`${side}:${d.what}`);
        return { ...ex, [side]: d.bytes };
      });
      const skip = rng.chance(0.3) ? rng.int(1, 6) : 0;
      if (skip > 0) what.push(`midway+${skip}`);
      if (rng.chance(0.5)) {
        const b = new TcpCaptureBuilder();
        b.conversation(rng, 1, exchanges.slice(skip), { maxSegment: rng.int(1, 1400), handshake: skip === 0, close: rng.chance(0.7), clientPort: 40000, serverPort: rng.chance(0.8) ? 3306 : 13306 });
        readPcap(b.build(rng, false), stats, entries);
      } else {
        const r = recorder();
        const stream = mysqlDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 3306 }, aIsClientKnown: skip === 0, firstSeenUs: T0 }, r.ctx);
        let us = T0;
        for (const ex of exchanges.slice(skip)) {
          for (const [dir, bytes] of [[0, ex.client], [1, ex.server]] as const) {
            for (let at = 0; at < bytes.length; ) {
              const size = rng.int(1, 400);
              stream.data(dir, bytes.subarray(at, at + size), (us += rng.int(1, 5000)));
              if (rng.chance(0.01)) stream.gap(dir, rng.int(1, 200), us);
              at += size;
            }
          }
        }
        stream.close(rng.pick(['fin', 'rst', 'end-of-capture'] as const), us + 1);
        entries.push(...(r.all as unknown as MysqlEntry[]));
        Object.assign(stats, r.stats);
      }
      checkStats(stats);
      checkEntries(entries);
      entriesSeen += entries.length;
    } catch (err) {
      assert.fail(`case ${index} (seed ${MASTER_SEED}: ${what.join(', ')}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    const took = performance.now() - started;
    slowest = Math.max(slowest, took);
    assert.ok(took < CASE_BUDGET_MS, `case ${index} took ${took.toFixed(0)} ms (${what.join(', ')})`);
  }
  process.stdout.write(`# ${CASES} MySQL fuzz cases: ${entriesSeen} entries, slowest ${slowest.toFixed(1)} ms\n`);
  assert.ok(entriesSeen > CASES * 3, 'most cases still make entries');
});

test('the MySQL captures of the corpus with random bit flips: no crash, no internal error', () => {
  assert.equal(MYSQL_CAPTURES.length, 3);
  for (let index = 0; index < Math.ceil(CASES / 5); index++) {
    const rng = new Prng((MASTER_SEED * 7 + index) >>> 0);
    const seed = rng.pick(MYSQL_CAPTURES);
    const data = seed.data.slice();
    const flips = rng.int(1, 40);
    // Past the file header: damage the packets, not the file format (fuzz.test.ts's part).
    for (let i = 0; i < flips; i++) data[rng.int(64, data.length - 1)]! ^= 1 << rng.int(0, 7);
    const stats = newCaptureStats();
    const entries: MysqlEntry[] = [];
    try {
      readPcap(data, stats, entries);
    } catch (err) {
      throw new Error(`case ${index} (${seed.name}, ${flips} flips): ${String(err)}`);
    }
    checkStats(stats);
    checkEntries(entries);
  }
});

test('floods keep memory bounded: unanswered commands, forged 16 MiB packets and column counts, statements never closed', () => {
  // Entries are counted, and only the last few kept: the dissector's memory is what is measured.
  const stats = newCaptureStats();
  let emitted = 0;
  const last: MysqlEntry[] = [];
  const ctx = dissectContextFor({ options: { ...DEFAULT_DISSECT_OPTIONS, maxBodyBytes: 4096 }, stats, emit: (e) => {
    emitted++;
    last.push(e as unknown as MysqlEntry);
    if (last.length > 50) last.shift();
  } }, 'mysql');
  const stream = mysqlDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 3306 }, aIsClientKnown: true, firstSeenUs: T0 }, ctx);
  let us = T0;
  stream.data(1, greeting(), us++);
  stream.data(0, login({ user: 'app', auth: str('x'.repeat(20)) }), us++);
  stream.data(1, ok(2), us++);
  gc();
  const before = process.memoryUsage().heapUsed;
  // 1. Commands never answered.
  const COMMANDS = 50_000;
  for (let i = 0; i < COMMANDS; i++) stream.data(0, command(COM.QUERY, `SELECT ${'x'.repeat(200)} FROM t${i}`), us++);
  assert.ok(stream.oldestPendingUs() !== Infinity);
  // 2. Statements prepared and never closed.
  for (let i = 0; i < MAX_STATEMENTS * 4; i++) {
    stream.data(0, command(COM.STMT_PREPARE, `SELECT ? FROM t${i}`), us++);
    stream.data(1, prepareOk(i + 1, 1, [], true), us++);
  }
  // 3. A server that claims a column count of 16 million, then sends definitions and rows forever.
  stream.data(0, command(COM.QUERY, 'SELECT *'), us++);
  stream.data(1, packet(1, lenenc(0xffffff)), us++);
  for (let i = 0; i < 20_000; i++) stream.data(1, columnDef(2 + (i & 0xff), `c${i}`), us++);
  // 4. A client that sends a 16 MiB query in pieces, and a server a 16 MiB row.
  stream.data(0, packet(0, concat(u8(COM.QUERY), str('SELECT 1'))).subarray(0, 4), us++);
  const chunk = new Uint8Array(64 * 1024).fill(0x41);
  stream.data(0, Uint8Array.of(0xff, 0xff, 0xff, 0, COM.QUERY), us++);
  for (let i = 0; i < 256; i++) stream.data(0, chunk, us++);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  process.stdout.write(`# ${COMMANDS} unanswered commands, ${MAX_STATEMENTS * 4} statements, 20000 forged definitions, 16 MiB query: heap grew ${(grown / 1048576).toFixed(1)} MiB\n`);
  assert.ok(grown < 48 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB`);
  assert.ok(emitted >= COMMANDS - MAX_PENDING, `unanswered commands left the queue (${emitted})`);
  stream.close('end-of-capture', us);
  assert.equal(stream.oldestPendingUs(), Infinity);
  assert.equal(stats.internalErrors, 0);
  checkEntries(last);
});
