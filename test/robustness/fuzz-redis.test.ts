/**
 * Robustness of the Redis dissector on hostile bytes: real RESP2/RESP3 conversations (commands,
 * pipelines, transactions, pub/sub, every reply type), damaged (bit flips, truncations, inserted
 * runs, forged lengths and counts, random bytes), cut at random places with gaps, from the
 * connection's start or joined midway; the Redis captures of the corpus with random bit flips.
 * Every case must end quickly, without an exception or an internal error, with entries whose
 * text holds no control character and that the descriptor can summarise, show and redact. A flood
 * of unanswered commands keeps memory bounded. Every case is a pure function of (seed, index).
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
import { redisDescriptor } from '../../src/remote-agent/dissect/redis/descriptor.ts';
import type { RedisEntry } from '../../src/remote-agent/dissect/redis/entry.ts';
import { MAX_PENDING_COMMANDS } from '../../src/remote-agent/dissect/redis/connection.ts';
import { redisDissector } from '../../src/remote-agent/dissect/redis/index.ts';
import { EntryRedactor } from '../../src/remote-agent/redact/entry-redactor.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { Prng } from '../bench/prng.ts';
import { recorder } from '../helpers/http1-connection.ts';
import { readIndex, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_CASES'] ?? 3000);
const CASE_BUDGET_MS = 1000;
const T0 = 1_704_067_200_000_000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const corpus = sharedPcapsDir();
const REDIS_CAPTURES = readIndex(corpus)
  .filter((r) => r.protocol === 'redis')
  .map((r) => ({ name: r.file, data: new Uint8Array(readFileSync(join(corpus, r.file))) }));

const cmd = (...words: string[]): string => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w, 'latin1')}\r\n${w}\r\n`).join('')}`;

/** Conversations to damage: [client bytes, server bytes]. */
const SEEDS: readonly (readonly [string, string])[] = [
  [cmd('SET', 'k', 'v', 'EX', '10') + cmd('GET', 'k') + cmd('LPUSH', 'k', 'x'), '+OK\r\n$1\r\nv\r\n-WRONGTYPE Operation against a key\r\n'],
  [cmd('AUTH', 'user', 'secret') + cmd('HELLO', '3', 'AUTH', 'u', 'p'), '+OK\r\n%2\r\n+proto\r\n:3\r\n+mode\r\n$10\r\nstandalone\r\n'],
  [cmd('MULTI') + cmd('INCR', 'n') + cmd('GET', 'x') + cmd('EXEC'), '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n$-1\r\n'],
  [cmd('SUBSCRIBE', 'a', 'b') + cmd('PSUBSCRIBE', 'n*'), '*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$2\r\nnx\r\n$1\r\n\x1b\r\n'],
  [cmd('SMEMBERS', 's') + cmd('ZSCORE', 'z', 'm') + cmd('INFO') + cmd('GET', 'k'), '~2\r\n+a\r\n+b\r\n,3.5\r\n=9\r\ntxt:\x07ell\x00\r\n|1\r\n+ttl\r\n:10\r\n$3\r\n\xff\xfe\n\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nd\r\n'],
  ['PING\r\nset "a b" \'c\'\r\nECHO "\\x00\\n"\r\n', '+PONG\r\n+OK\r\n$2\r\n\x00\n\r\n'],
];

function damage(rng: Prng, seed: Buffer): { bytes: Buffer; what: string } {
  const b = Buffer.from(seed);
  switch (rng.int(0, 6)) {
    case 0: {
      const at = rng.int(0, b.length);
      return { bytes: b.subarray(0, at), what: `truncate@${at}` };
    }
    case 1: {
      const n = rng.int(1, 12);
      for (let i = 0; i < n && b.length > 0; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      return { bytes: b, what: `bitflips(${n})` };
    }
    case 2: {
      // Forged lengths and counts: huge, negative, not numbers.
      const forged = rng.pick(['*2147483647\r\n', '$999999999\r\n', '$-7\r\n', '*-1\r\n', '%99999\r\n', '|3\r\n', '>0\r\n', '*1\r\n'.repeat(40), '$x\r\n']);
      const at = rng.int(0, b.length);
      return { bytes: Buffer.concat([b.subarray(0, at), Buffer.from(forged, 'latin1'), b.subarray(at)]), what: `forged@${at}(${forged.slice(0, 12).trim()})` };
    }
    case 3: {
      const at = rng.int(0, b.length);
      const run = Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255)));
      return { bytes: Buffer.concat([b.subarray(0, at), run, b.subarray(at)]), what: `insert@${at}(${run.length})` };
    }
    case 4: {
      // A line that never ends.
      return { bytes: Buffer.concat([b, Buffer.from(`+${'a'.repeat(rng.int(1, 100_000))}`)]), what: 'long line' };
    }
    default: {
      const bytes = Buffer.from(Array.from({ length: rng.int(0, 600) }, () => rng.int(0, 255)));
      return { bytes, what: `random(${bytes.length})` };
    }
  }
}

const redactor = new EntryRedactor();

function checkEntries(entries: readonly RedisEntry[]): void {
  for (const e of entries) {
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
    };
    walk(JSON.parse(JSON.stringify(e)));
    for (const s of strings) if (CONTROL.test(s)) throw new Error(`entry ${e.id} holds a control character: ${JSON.stringify(s)}`);
    const row = redisDescriptor.summarize(e);
    for (const s of [row.verb, row.target, row.outcome]) if (CONTROL.test(s)) throw new Error(`row text holds a control character: ${JSON.stringify(s)}`);
    for (const section of redisDescriptor.represent(e)) {
      if (section.kind === 'table') for (const r of section.rows) if (CONTROL.test(r.label) || CONTROL.test(r.value)) throw new Error(`detail row: ${JSON.stringify(r)}`);
    }
    redisDescriptor.dedupKey(e);
    redisDescriptor.heldChars!(e);
    redactor.redact(e);
  }
}

function checkStats(stats: CaptureStats): void {
  assert.equal(stats.internalErrors, 0, 'no internal error');
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `stats.${k} = ${v}`);
}

test('damaged RESP conversations cut anywhere, with gaps, from the start or joined midway: no crash, no hang, no internal error', () => {
  let entriesSeen = 0;
  let slowest = 0;
  for (let index = 0; index < CASES; index++) {
    const rng = new Prng((MASTER_SEED * 1_000_003 + index) >>> 0);
    const started = performance.now();
    const what: string[] = [];
    try {
      const r = recorder({ maxBodyBytes: rng.pick([16, 1024, 65_536]), responseTimeoutUs: rng.pick([1000, 120_000_000]) });
      const midway = rng.chance(0.3);
      const stream = redisDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.6', port: 6379 }, aIsClientKnown: !midway, firstSeenUs: T0 }, r.ctx);
      if (midway) what.push('midway');
      const seed = rng.pick(SEEDS);
      const sides = seed.map((s) => {
        const bytes = Buffer.from(s, 'latin1');
        if (!rng.chance(0.7)) return bytes;
        const d = damage(rng, bytes);
        what.push(d.what);
        return d.bytes;
      });
      // Interleave the two directions in random runs, as segments come.
      const at = [0, 0];
      let t = T0;
      while (at[0]! < sides[0]!.length || at[1]! < sides[1]!.length) {
        const dir = (at[0]! >= sides[0]!.length ? 1 : at[1]! >= sides[1]!.length ? 0 : rng.int(0, 1)) as 0 | 1;
        const size = rng.int(1, 200);
        stream.data(dir, sides[dir]!.subarray(at[dir]!, at[dir]! + size), (t += rng.int(0, 500)));
        if (rng.chance(0.02)) stream.gap(dir, rng.int(1, 100), t);
        at[dir]! += size;
      }
      stream.close(rng.pick(['fin', 'rst', 'end-of-capture'] as const), t + 1_000_000);
      const entries = r.all as unknown as RedisEntry[];
      checkStats(r.stats);
      checkEntries(entries);
      entriesSeen += entries.length;
    } catch (err) {
      assert.fail(`case ${index} (seed ${MASTER_SEED}: ${what.join(', ')}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    const took = performance.now() - started;
    slowest = Math.max(slowest, took);
    assert.ok(took < CASE_BUDGET_MS, `case ${index} took ${took.toFixed(0)} ms (${what.join(', ')})`);
  }
  process.stdout.write(`# ${CASES} Redis fuzz cases: ${entriesSeen} entries, slowest ${slowest.toFixed(1)} ms\n`);
});

test('the Redis captures of the corpus with random bit flips: no crash, no internal error', () => {
  assert.ok(REDIS_CAPTURES.length >= 5);
  for (let index = 0; index < Math.ceil(CASES / 20); index++) {
    const rng = new Prng((MASTER_SEED * 7 + index) >>> 0);
    const seed = rng.pick(REDIS_CAPTURES);
    const data = seed.data.slice();
    const flips = rng.int(1, 40);
    for (let i = 0; i < flips; i++) data[rng.int(64, data.length - 1)]! ^= 1 << rng.int(0, 7);
    const stats = newCaptureStats();
    const entries: RedisEntry[] = [];
    const pipeline = new CapturePipeline(stats, { entry: (e) => e.protocol.name === 'redis' && entries.push(e as unknown as RedisEntry) });
    try {
      const parser = new CaptureFileParser(pipeline, stats);
      parser.push(data);
      parser.end();
    } catch (err) {
      if (!(err instanceof SharkError)) throw new Error(`case ${index} (${seed.name}, ${flips} flips): ${String(err)}`);
    }
    pipeline.finish();
    checkStats(stats);
    checkEntries(entries);
  }
});

test('a flood of unanswered commands on one connection: pending commands and memory stay bounded', () => {
  const r = recorder();
  // Entries are counted, not kept: what stays in memory is the dissector's.
  let emitted = 0;
  const ctx = { ...r.ctx, emit: () => void emitted++ };
  const stream = redisDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.6', port: 6379 }, aIsClientKnown: true, firstSeenUs: T0 }, ctx);
  gc();
  const before = process.memoryUsage().heapUsed;
  const COMMANDS = 200_000;
  const value = 'v'.repeat(1024);
  for (let i = 0; i < COMMANDS; i += 100) {
    let batch = '';
    for (let j = i; j < i + 100; j++) batch += cmd('SET', `flood:${j}`, value);
    stream.data(0, Buffer.from(batch, 'latin1'), T0 + i);
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  process.stdout.write(`# ${COMMANDS} unanswered 1 KiB SETs on one connection: heap grew ${(grown / 1048576).toFixed(1)} MiB, ${emitted} left one-sided at the cap\n`);
  assert.ok(grown < 64 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB`);
  assert.equal(emitted, COMMANDS - MAX_PENDING_COMMANDS, 'commands past the cap left without a reply');
  stream.close('end-of-capture', T0 + COMMANDS);
  assert.equal(emitted, COMMANDS);
  assert.equal(r.stats.unpairedRequests, COMMANDS);
  assert.equal(stream.oldestPendingUs(), Infinity);
});
