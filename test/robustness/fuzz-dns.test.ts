/**
 * Robustness of the DNS dissectors on hostile bytes: real and built DNS messages, damaged (bit
 * flips, truncations, random runs, forged counts and compression pointers), as UDP datagrams
 * through the capture pipeline and as TCP byte streams cut at random places with gaps; the DNS
 * captures of the corpus with random bit flips. Every case must end quickly, without an exception
 * or an internal error, with entries whose text holds no control character and that the
 * descriptor can summarise and show. A flood of unanswered queries over many flows keeps memory
 * bounded. Every case is a pure function of (seed, index): a failure names its index.
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
import { dnsDescriptor } from '../../src/remote-agent/dissect/dns/descriptor.ts';
import type { DnsEntry } from '../../src/remote-agent/dissect/dns/entry.ts';
import { dnsDatagramDissector, dnsStreamDissector } from '../../src/remote-agent/dissect/dns/index.ts';
import { parseDnsMessage } from '../../src/remote-agent/dissect/dns/message-parser.ts';
import { http1Dissector } from '../../src/remote-agent/dissect/http1/index.ts';
import { recorder } from '../helpers/http1-connection.ts';
import { ipv4, udp } from '../helpers/packets.ts';
import { CaptureFileParser } from '../../src/remote-agent/source/capture-file.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import { Prng } from '../bench/prng.ts';
import { concat, framed, ipv4 as ipv4Rdata, message, name, pointer, query, response, T, u16, u32 } from '../helpers/dns-wire.ts';
import { readIndex, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

// A real collection before each heap reading (as memory.test.ts does).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MASTER_SEED = Number(process.env['SHARK_FUZZ_SEED'] ?? 20_261_206);
const CASES = Number(process.env['SHARK_FUZZ_CASES'] ?? 3000);
/** A case running longer than this is a hang (cases take about a millisecond; the first warms up). */
const CASE_BUDGET_MS = 1000;
const RAW_IP = 101;
const T0 = 1_704_067_200_000_000;
/** Control characters (C0, DEL, C1, line separators) that must never be in an entry's text. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const corpus = sharedPcapsDir();
const DNS_CAPTURES = readIndex(corpus)
  .filter((r) => r.protocol === 'dns')
  .map((r) => ({ name: r.file, data: new Uint8Array(readFileSync(join(corpus, r.file))) }));

/** Messages to damage: every kind the parser knows, compressed and not. */
function seedMessages(): Uint8Array[] {
  const soa = concat(name('ns.x.test'), name('root.x.test'), u32(1), u32(2), u32(3), u32(4), u32(5));
  const answers = [
    { name: 'x.test', type: T.A, rdata: ipv4Rdata('10.1.2.3') },
    { name: 'x.test', type: T.AAAA, rdata: new Uint8Array(16).fill(1) },
    { name: 'x.test', type: T.CNAME, rdata: concat(Uint8Array.of(3, 0x61, 0x70, 0x69), pointer(12)) },
    { name: 'x.test', type: T.MX, rdata: concat(u16(5), pointer(12)) },
    { name: 'x.test', type: T.TXT, rdata: Uint8Array.of(3, 0x61, 0x0a, 0x1b) },
    { name: 'x.test', type: T.SOA, rdata: soa },
    { name: 'x.test', type: T.SRV, rdata: concat(u16(1), u16(2), u16(3), pointer(12)) },
    { name: 'x.test', type: T.HTTPS, rdata: concat(u16(1), name('.'), u16(1), u16(2), Uint8Array.of(1, 0x68)) },
    { name: 'x.test', type: T.CAA, rdata: concat(Uint8Array.of(0, 5), Buffer.from('issue\u0007bell')) },
    { name: 'x.test', type: 99_99, rdata: Uint8Array.of(1, 2, 3) },
  ];
  return [
    query(1, 'x.test'),
    query(2, 'a.b.c.d.e.f.x.test', T.ANY),
    response(1, 'x.test', T.A, answers),
    response(3, 'x.test', T.AXFR, [answers[5]!, answers[0]!, answers[5]!]),
    message({ id: 4, response: true, questions: [{ name: 'x.test', type: T.A }], additionals: [{ name: '.', type: T.OPT, class: 1232, ttl: 0x8000, rdata: concat(u16(10), u16(2), Uint8Array.of(1, 2)) }] }),
  ];
}

/** One damaged message: what was done to it is in `what`. */
function damage(rng: Prng, seed: Uint8Array): { bytes: Uint8Array; what: string } {
  const b = seed.slice();
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
      // Forged section counts: the parser must trust them only as far as the bytes go.
      const at = rng.pick([4, 6, 8, 10]);
      b[at] = rng.int(0, 255);
      b[at + 1] = rng.int(0, 255);
      return { bytes: b, what: `count@${at}` };
    }
    case 3: {
      // Compression pointers anywhere: loops, forward jumps, pointers into the header.
      const n = rng.int(1, 6);
      for (let i = 0; i < n && b.length > 14; i++) {
        const at = rng.int(12, b.length - 2);
        b[at] = 0xc0 | rng.int(0, 0x3f);
        b[at + 1] = rng.int(0, 255);
      }
      return { bytes: b, what: `pointers(${n})` };
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

/** What every entry must satisfy: plain text, and a descriptor that can summarise and show it. */
function checkEntries(entries: readonly DnsEntry[]): void {
  for (const e of entries) {
    const text = JSON.stringify(e);
    const raw = JSON.parse(text) as unknown;
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
    };
    walk(raw);
    for (const s of strings) if (CONTROL.test(s)) throw new Error(`entry ${e.id} holds a control character: ${JSON.stringify(s)}`);
    const row = dnsDescriptor.summarize(e);
    for (const s of [row.verb, row.target, row.outcome]) if (CONTROL.test(s)) throw new Error(`row text holds a control character: ${JSON.stringify(s)}`);
    for (const section of dnsDescriptor.represent(e)) {
      if (section.kind !== 'table') continue;
      for (const r of section.rows) if (CONTROL.test(r.label) || CONTROL.test(r.value)) throw new Error(`detail row holds a control character: ${JSON.stringify(r)}`);
    }
    dnsDescriptor.dedupKey(e);
  }
}

function pipelineFor(stats: CaptureStats, entries: DnsEntry[]): CapturePipeline {
  return new CapturePipeline(
    stats,
    { entry: (e) => entries.push(e as unknown as DnsEntry) },
    { datagramDissectors: [dnsDatagramDissector], dissectors: [http1Dissector, dnsStreamDissector] },
  );
}

function checkStats(stats: CaptureStats): void {
  assert.equal(stats.internalErrors, 0, 'no internal error');
  for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') assert.ok(Number.isSafeInteger(v) && v >= 0, `stats.${k} = ${v}`);
}

test('damaged DNS datagrams through the pipeline, and damaged TCP streams cut anywhere: no crash, no hang, no internal error', () => {
  const seeds = seedMessages();
  let entriesSeen = 0;
  let slowest = 0;
  for (let index = 0; index < CASES; index++) {
    const rng = new Prng((MASTER_SEED * 1_000_003 + index) >>> 0);
    const started = performance.now();
    const what: string[] = [];
    try {
      const stats = newCaptureStats();
      const entries: DnsEntry[] = [];
      if (rng.chance(0.6)) {
        // UDP: a few datagrams each way on port 53, some damaged.
        const pipeline = pipelineFor(stats, entries);
        const n = rng.int(1, 8);
        for (let i = 0; i < n; i++) {
          const d = rng.chance(0.7) ? damage(rng, rng.pick(seeds)) : { bytes: rng.pick(seeds), what: 'intact' };
          what.push(d.what);
          const toServer = rng.chance(0.5);
          const data = ipv4(udp({ srcPort: toServer ? 40000 + rng.int(0, 2) : 53, dstPort: toServer ? 53 : 40000 + rng.int(0, 2), payload: d.bytes }), {
            proto: 17,
            src: toServer ? '10.0.0.1' : '10.0.0.53',
            dst: toServer ? '10.0.0.53' : '10.0.0.1',
          });
          pipeline.frame({ tsUs: T0 + i * rng.int(0, 40_000_000), linkType: RAW_IP, data, origLen: data.length });
        }
        pipeline.finish();
      } else {
        // TCP: length-prefixed messages, some damaged, cut at random places, maybe with a gap.
        const r = recorder();
        const stream = dnsStreamDissector.open(
          { index: 1, a: { ip: '10.0.0.1', port: 40000 }, b: { ip: '10.0.0.53', port: 53 }, aIsClientKnown: true, firstSeenUs: T0 },
          r.ctx,
        );
        for (let dir = 0 as 0 | 1; dir <= 1; dir++) {
          const parts = Array.from({ length: rng.int(1, 4) }, () => {
            const d = rng.chance(0.6) ? damage(rng, rng.pick(seeds)) : { bytes: rng.pick(seeds), what: 'intact' };
            what.push(`${dir}:${d.what}`);
            return rng.chance(0.8) ? framed(d.bytes) : d.bytes;
          });
          const bytes = concat(...parts);
          for (let at = 0; at < bytes.length; ) {
            const size = rng.int(1, 300);
            stream.data(dir, bytes.subarray(at, at + size), T0 + at);
            if (rng.chance(0.02)) stream.gap(dir, rng.int(1, 100), T0 + at);
            at += size;
          }
        }
        stream.close(rng.pick(['fin', 'rst', 'end-of-capture'] as const), T0 + 1_000_000);
        entries.push(...(r.all as unknown as DnsEntry[]));
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
  process.stdout.write(`# ${CASES} DNS fuzz cases: ${entriesSeen} entries, slowest ${slowest.toFixed(1)} ms\n`);
});

test('the parser alone on random bytes with forged headers: never throws, ends fast', () => {
  const rng = new Prng(MASTER_SEED);
  for (let i = 0; i < CASES * 3; i++) {
    const body = Uint8Array.from({ length: rng.int(0, 2000) }, () => (rng.chance(0.2) ? 0xc0 | rng.int(0, 63) : rng.int(0, 255)));
    const header = concat(u16(i), u16(rng.int(0, 0xffff)), u16(rng.int(0, 50)), u16(rng.int(0, 500)), u16(rng.int(0, 500)), u16(rng.int(0, 500)));
    const m = parseDnsMessage(concat(header, body));
    assert.ok(m !== null);
  }
});

test('the DNS captures of the corpus with random bit flips: no crash, no internal error', () => {
  assert.ok(DNS_CAPTURES.length >= 5);
  for (let index = 0; index < Math.ceil(CASES / 10); index++) {
    const rng = new Prng((MASTER_SEED * 7 + index) >>> 0);
    const seed = rng.pick(DNS_CAPTURES);
    const data = seed.data.slice();
    const flips = rng.int(1, 40);
    // Past the file header: damage the packets, not the file format (that is fuzz.test.ts's part).
    for (let i = 0; i < flips; i++) data[rng.int(64, data.length - 1)]! ^= 1 << rng.int(0, 7);
    const stats = newCaptureStats();
    const entries: DnsEntry[] = [];
    const pipeline = pipelineFor(stats, entries);
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

test('a flood of unanswered queries over many flows: flows, pending queries and memory stay bounded', () => {
  const stats = newCaptureStats();
  let emitted = 0;
  const pipeline = new CapturePipeline(stats, { entry: () => emitted++ }, { datagramDissectors: [dnsDatagramDissector], udp: { maxFlows: 1024 } });
  gc();
  const before = process.memoryUsage().heapUsed;
  const FLOWS = 30_000;
  for (let i = 0; i < FLOWS; i++) {
    // Each query from a new port; a few ids repeat per port; a long name each, never answered.
    const q = query(i & 0xffff, `${'q'.repeat(50)}.${i}.flood.test`);
    const data = ipv4(udp({ srcPort: 1024 + (i % 60_000), dstPort: 53, payload: q }), { proto: 17, src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, dst: '10.0.0.53' });
    pipeline.frame({ tsUs: T0 + i, linkType: RAW_IP, data, origLen: data.length });
  }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  process.stdout.write(`# ${FLOWS} unanswered queries on ${FLOWS} flows (cap 1024): heap grew ${(grown / 1048576).toFixed(1)} MiB\n`);
  assert.ok(emitted >= FLOWS - 1024, `flows past the cap were forgotten and their queries emitted (${emitted})`);
  assert.ok(grown < 64 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MiB`);
  pipeline.finish();
  assert.equal(emitted, FLOWS);
  assert.equal(stats.unpairedRequests, FLOWS);
  assert.equal(pipeline.oldestPendingUs(), Infinity);
  assert.equal(stats.internalErrors, 0);
});
