/**
 * Robustness of the AMQP 0-9-1 dissector on hostile bytes: real client and server frames (built as
 * amqplib and RabbitMQ send them), damaged (bit flips, truncations, forged sizes and table
 * lengths, random runs), as TCP byte streams cut at random places with gaps, joined at the start
 * or midway; the AMQP captures of the corpus with random bit flips through the capture pipeline.
 * Every case must end quickly, without an exception or an internal error, with entries whose text
 * holds no control character and that the descriptor can summarise and show. Floods (requests
 * never answered, messages whose bodies never end, on every channel) keep memory bounded.
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
import { CapturePipeline } from '../../src/remote-agent/capture-pipeline.ts';
import { amqpDescriptor } from '../../src/remote-agent/dissect/amqp/descriptor.ts';
import type { AmqpEntry } from '../../src/remote-agent/dissect/amqp/entry.ts';
import { amqpDissector } from '../../src/remote-agent/dissect/amqp/index.ts';
import { MAX_HELD_BODY_BYTES } from '../../src/remote-agent/dissect/amqp/connection.ts';
import { DEFAULT_DISSECT_OPTIONS, dissectContextFor } from '../../src/remote-agent/dissect/dissector.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { Prng } from '../bench/prng.ts';
import * as w from '../helpers/amqp-wire.ts';
import { recorder } from '../helpers/http1-connection.ts';
import { readIndex, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_CASES'] ?? 2000);
const CASE_BUDGET_MS = 1000;
const T0 = 1_704_067_200_000_000;
/** Control characters (C0, DEL, C1, line separators) that must never be in an entry's text. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const corpus = sharedPcapsDir();
const AMQP_CAPTURES = readIndex(corpus)
  .filter((r) => r.protocol === 'amqp')
  .map((r) => ({ name: r.file, data: new Uint8Array(readFileSync(join(corpus, r.file))) }));

/** A client's and a server's frames, in the order of a real conversation. */
function seedFrames(): { client: Buffer[]; server: Buffer[] } {
  return {
    client: [
      w.PROTOCOL_HEADER,
      w.startOkPlain('guest', 'guest-password'),
      w.tuneOk(),
      w.connectionOpen('/'),
      w.channelOpen(1),
      w.queueDeclare(1, 'jobs', { args: { 'x-max-length': 10, 'x-dead-letter-exchange': 'dlx', nested: { a: [1, 'b', { c: true }] } } }),
      w.exchangeDeclare(1, 'orders', 'topic'),
      w.queueBind(1, 'jobs', 'orders', 'order.*'),
      w.publish(1, 'orders', 'order.created', 'x'.repeat(700), { contentType: 'application/json', headers: { 'x-id': 'a\u0007b' }, deliveryMode: 2, timestamp: 1 }, 256),
      w.consume(1, 'jobs', 'ctag'),
      w.ack(1, 1),
      w.get(1, 'jobs'),
      w.HEARTBEAT,
      w.close(1, 200, 'bye'),
      w.close(0, 200, 'bye'),
    ],
    server: [
      w.connectionStart(),
      w.tune(),
      w.connectionOpenOk(),
      w.channelOpenOk(1),
      w.queueDeclareOk(1, 'jobs', 3, 1),
      w.exchangeDeclareOk(1),
      w.queueBindOk(1),
      w.consumeOk(1, 'ctag'),
      w.deliver(1, 'ctag', 1, 'orders', 'order.created', Buffer.from([0, 1, 2, 0xff, 0x1b])),
      w.getOk(1, 2, 'orders', 'k', 0, 'body'),
      w.close(1, 404, 'NOT_FOUND - no queue', 50, 10),
      w.HEARTBEAT,
      w.closeOk(1),
      w.closeOk(0),
    ],
  };
}

function damage(rng: Prng, frame: Buffer): { bytes: Uint8Array; what: string } {
  const b = Buffer.from(frame);
  switch (rng.int(0, 5)) {
    case 0: {
      const at = rng.int(0, b.length);
      return { bytes: b.subarray(0, at), what: `truncate@${at}` };
    }
    case 1: {
      const n = rng.int(1, 8);
      for (let i = 0; i < n; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      return { bytes: b, what: `bitflips(${n})` };
    }
    case 2: {
      // A forged frame size: short, long, or huge.
      if (b.length >= 7) b.writeUInt32BE(rng.pick([0, 1, rng.int(0, 200), 0x7fff_ffff, 0xffff_ffff, b.length]), 3);
      return { bytes: b, what: 'size' };
    }
    case 3: {
      // A forged table or string length somewhere in the payload.
      if (b.length > 12) b.writeUInt32BE(rng.pick([0xffff_ffff, rng.int(0, 5000), 0x7fff_ffff]), rng.int(7, b.length - 4));
      return { bytes: b, what: 'length' };
    }
    case 4: {
      const at = rng.int(0, b.length);
      const junk = Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
      return { bytes: w.concat(b.subarray(0, at), junk, b.subarray(at)), what: `insert@${at}(${junk.length})` };
    }
    default: {
      const bytes = Uint8Array.from({ length: rng.int(0, 400) }, () => (rng.chance(0.3) ? rng.pick([1, 2, 3, 8, 0xce, 0]) : rng.int(0, 255)));
      return { bytes, what: `random(${bytes.length})` };
    }
  }
}

function checkEntries(entries: readonly AmqpEntry[]): void {
  for (const e of entries) {
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          strings.push(k);
          // A message body is the application's bytes, kept as sent (the TUI sanitises what it draws).
          if (k !== 'text') walk(x);
        }
      }
    };
    walk(JSON.parse(JSON.stringify(e)));
    for (const s of strings) if (CONTROL.test(s)) throw new Error(`entry ${e.id} holds a control character: ${JSON.stringify(s)}`);
    const row = amqpDescriptor.summarize(e);
    for (const s of [row.verb, row.target, row.outcome]) if (CONTROL.test(s)) throw new Error(`row text holds a control character: ${JSON.stringify(s)}`);
    for (const section of amqpDescriptor.represent(e)) {
      if (section.kind !== 'table') continue;
      for (const r of section.rows) if (CONTROL.test(r.label) || CONTROL.test(r.value)) throw new Error(`detail row holds a control character: ${JSON.stringify(r)}`);
    }
    amqpDescriptor.dedupKey(e);
  }
}

function checkStats(stats: CaptureStats): void {
  assert.equal(stats.internalErrors, 0, 'no internal error');
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `stats.${k} = ${v}`);
}

test('damaged AMQP streams cut anywhere, with gaps, joined at the start or midway: no crash, no hang, no internal error', () => {
  const seeds = seedFrames();
  let entriesSeen = 0;
  let slowest = 0;
  for (let index = 0; index < CASES; index++) {
    const rng = new Prng((MASTER_SEED * 1_000_003 + index) >>> 0);
    const started = performance.now();
    const what: string[] = [];
    try {
      const r = recorder({ maxBodyBytes: rng.pick([16, 1024, 65536]), responseTimeoutUs: rng.pick([1000, 120_000_000]) });
      const joined = rng.chance(0.3);
      const stream = amqpDissector.open(
        { index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 5672 }, aIsClientKnown: !joined, firstSeenUs: T0 },
        r.ctx,
      );
      const dirs: Uint8Array[] = [seeds.client, seeds.server].map((frames, dir) => {
        const parts = frames.map((f) => {
          if (!rng.chance(0.15)) return f;
          const d = damage(rng, f);
          what.push(`${dir}:${d.what}`);
          return d.bytes;
        });
        const all = w.concat(...parts);
        return joined ? all.subarray(rng.int(0, Math.min(60, all.length))) : all;
      });
      // Both directions interleaved, each cut at random sizes, with an occasional gap.
      const at = [0, 0];
      let ts = T0;
      while (at[0]! < dirs[0]!.length || at[1]! < dirs[1]!.length) {
        const dir = (at[0]! >= dirs[0]!.length ? 1 : at[1]! >= dirs[1]!.length ? 0 : rng.int(0, 1)) as 0 | 1;
        const size = rng.int(1, 200);
        ts += rng.int(0, 3000);
        stream.data(dir, dirs[dir]!.subarray(at[dir]!, at[dir]! + size), ts);
        if (rng.chance(0.01)) stream.gap(dir, rng.int(1, 300), ts);
        at[dir]! += size;
      }
      stream.close(rng.pick(['fin', 'rst', 'end-of-capture'] as const), ts + 1);
      const entries = r.all as unknown as AmqpEntry[];
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
  process.stdout.write(`# ${CASES} AMQP fuzz cases: ${entriesSeen} entries, slowest ${slowest.toFixed(1)} ms\n`);
});

test('the AMQP captures of the corpus with random bit flips: no crash, no internal error', () => {
  assert.equal(AMQP_CAPTURES.length, 3);
  for (let index = 0; index < Math.ceil(CASES / 5); index++) {
    const rng = new Prng((MASTER_SEED * 7 + index) >>> 0);
    const seed = rng.pick(AMQP_CAPTURES);
    const data = seed.data.slice();
    const flips = rng.int(1, 40);
    for (let i = 0; i < flips; i++) data[rng.int(64, data.length - 1)]! ^= 1 << rng.int(0, 7);
    const stats = newCaptureStats();
    const entries: AmqpEntry[] = [];
    const pipeline = new CapturePipeline(stats, { entry: (e) => entries.push(e as unknown as AmqpEntry) }, { dissectors: [amqpDissector] });
    try {
      const parser = new CaptureFileParser(pipeline, stats);
      parser.push(data);
      parser.end();
    } catch (err) {
      if (!(err instanceof SharkError)) throw new Error(`case ${index} (${seed.name}, ${flips} flips): ${String(err)}`);
    }
    pipeline.finish();
    checkStats(stats);
    checkEntries(entries.filter((e) => e.protocol.name === 'amqp'));
  }
});

test('floods on one connection: unanswered requests and never-ending bodies on every channel keep memory bounded', async () => {
  // Entries are counted, not kept: what grows is the dissector's own memory.
  const stats = newCaptureStats();
  let emitted = 0;
  const ctx = dissectContextFor({ options: { ...DEFAULT_DISSECT_OPTIONS, maxBodyBytes: 1024 * 1024 }, stats, emit: () => emitted++ }, 'amqp');
  const r = { stats, get count(): number { return emitted; } };
  const stream = amqpDissector.open({ index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.2', port: 5672 }, aIsClientKnown: true, firstSeenUs: T0 }, ctx);
  stream.data(0, w.PROTOCOL_HEADER, T0);
  // Bodies live in ArrayBuffers, outside the JS heap: both count.
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  // ArrayBuffer memory is swept after the collection, on another thread: collect and wait until
  // what is left is what is held (one gc() alone left 20 MiB of dead bodies counted, now and then).
  const settled = async (): Promise<number> => {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return used();
  };
  const before = await settled();
  const REQUESTS = 50_000;
  for (let i = 0; i < REQUESTS; i++) stream.data(0, w.queueDeclare(1 + (i % 60_000), `queue-${'q'.repeat(100)}-${i}`), T0 + i);
  // Every channel starts a message of 1 GiB, and gets 64 KiB of it.
  const chunk = Buffer.alloc(65536 - 8, 0x61);
  for (let ch = 1; ch <= 4000; ch++) {
    stream.data(0, w.concat(w.method(ch, 60, 40, w.short(0), w.shortstr('x'), w.shortstr('k'), w.bits(false, false)), w.frame(2, ch, w.concat(w.short(60), w.short(0), w.longlong(2 ** 30), w.short(0)))), T0 + REQUESTS + ch);
    stream.data(0, w.frame(3, ch, chunk), T0 + REQUESTS + ch);
  }
  const grown = (await settled()) - before;
  process.stdout.write(`# ${REQUESTS} unanswered requests, 4000 endless bodies: heap grew ${(grown / 1048576).toFixed(1)} MiB, ${r.count} entries so far\n`);
  assert.ok(grown < MAX_HELD_BODY_BYTES + 16 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB`);
  assert.ok(stream.oldestPendingUs() >= T0);
  stream.close('end-of-capture', T0 + 10_000_000);
  assert.equal(stream.oldestPendingUs(), Infinity);
  assert.equal(r.stats.internalErrors, 0);
  assert.ok(r.count >= REQUESTS, 'every request came out, answered or not');
});
