/**
 * A long keep-alive HTTP/1.1 connection that loses a few segments (the kernel drops frames under
 * load, as in the 30-minute soak) must pair again after each hole: the exchanges a hole touches
 * are lost or marked, every other exchange is an entry with its own response. Real bytes through
 * the whole `read` pipeline (pcap -> TCP reassembly -> HTTP/1 dissector -> pairing).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { Prng } from '../bench/prng.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { tcpFrame } from './tcp-capture.ts';

const EXCHANGES = 400;
/** Small segments so one response spans several of them (head and body in different ones). */
const SEGMENT = 120;
const CLIENT_IP = [10, 0, 0, 1];
const SERVER_IP = [10, 0, 0, 2];

const requestOf = (i: number): string => `GET /item/${i} HTTP/1.1\r\nHost: shop\r\nUser-Agent: h2load\r\n\r\n`;
function responseOf(i: number): string {
  const body = JSON.stringify({ id: i, pad: 'x'.repeat(200 + (i % 7) * 13) });
  return `HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

interface Segment {
  readonly fromClient: boolean;
  /** The exchange these bytes belong to. */
  readonly exchange: number;
  /** Index of the segment within its message. */
  readonly part: number;
  readonly payload: Uint8Array;
}

/** What to leave out of the capture: segment `part` of the request or response of `exchange`. */
interface Drop {
  readonly exchange: number;
  readonly fromClient: boolean;
  readonly part: number;
}

/**
 * One keep-alive connection, the client waiting for each response (h2load --h1 style), as a pcap
 * without the dropped segments. Sequence numbers still count them: the holes are real TCP holes.
 */
function keepAliveCapture(drops: readonly Drop[]): Uint8Array {
  const segments: Segment[] = [];
  const cut = (fromClient: boolean, exchange: number, text: string): void => {
    const bytes = Buffer.from(text, 'latin1');
    for (let off = 0, part = 0; off < bytes.length; off += SEGMENT, part++) {
      segments.push({ fromClient, exchange, part, payload: bytes.subarray(off, off + SEGMENT) });
    }
  };
  for (let i = 0; i < EXCHANGES; i++) {
    cut(true, i, requestOf(i));
    cut(false, i, responseOf(i));
  }
  const dropped = (s: Segment): boolean => drops.some((d) => d.exchange === s.exchange && d.fromClient === s.fromClient && d.part === s.part);
  let cSeq = 1_000;
  let sSeq = 900_000;
  let tsUs = 1_700_000_000_000_000;
  const frames: { tsUs: number; bytes: Uint8Array }[] = [];
  const frame = (fromClient: boolean, flags: number, payload: Uint8Array, keep = true): void => {
    const [src, dst, sport, dport] = fromClient ? [CLIENT_IP, SERVER_IP, 40_000, 80] : [SERVER_IP, CLIENT_IP, 80, 40_000];
    if (keep) frames.push({ tsUs: (tsUs += 100), bytes: tcpFrame(src, dst, sport, dport, fromClient ? cSeq : sSeq, fromClient ? sSeq : cSeq, flags, payload) });
    const advance = payload.length + (flags & 0x03 ? 1 : 0);
    if (fromClient) cSeq += advance;
    else sSeq += advance;
  };
  const none = new Uint8Array(0);
  frame(true, 0x02, none);
  frame(false, 0x12, none);
  frame(true, 0x10, none);
  for (const s of segments) frame(s.fromClient, 0x18, s.payload, !dropped(s));
  frame(true, 0x11, none);
  frame(false, 0x11, none);
  frame(true, 0x10, none);

  const out = Buffer.alloc(24 + frames.reduce((n, f) => n + 16 + f.bytes.length, 0));
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(262_144, 16);
  out.writeUInt32LE(1, 20);
  let p = 24;
  for (const f of frames) {
    out.writeUInt32LE(Math.floor(f.tsUs / 1e6), p);
    out.writeUInt32LE(f.tsUs % 1e6, p + 4);
    out.writeUInt32LE(f.bytes.length, p + 8);
    out.writeUInt32LE(f.bytes.length, p + 12);
    out.set(f.bytes, p + 16);
    p += 16 + f.bytes.length;
  }
  return out;
}

async function readCapture(bytes: Uint8Array): Promise<Awaited<ReturnType<typeof readEntries>>> {
  const dir = mkdtempSync(join(tmpdir(), 'shark-gap-'));
  try {
    const file = join(dir, 'keep-alive.pcap');
    writeFileSync(file, bytes);
    return await readEntries([file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The exchange number an entry's request asked for, and the one its response answers (-1: none). */
function idsOf(e: HttpEntry): { asked: number; answered: number } {
  const asked = Number(/^\/item\/(\d+)$/.exec(e.request.path)?.[1] ?? -1);
  // By content, not JSON.parse: a body cut by a hole is not whole JSON.
  const answered = Number(/^\{"id":(\d+),/.exec(e.response?.content.text ?? '')?.[1] ?? -1);
  return { asked, answered };
}

/**
 * Checks the entries of a capture with holes in the exchanges `touched`: every other exchange is
 * one entry, answered by its own response; nothing is answered by another request's response,
 * and no request is left waiting at the end.
 */
function assertRecovered(entries: readonly HttpEntry[], touched: ReadonlySet<number>): void {
  const byAsked = new Map<number, HttpEntry>();
  for (const e of entries) {
    const { asked, answered } = idsOf(e);
    if (answered !== -1) assert.equal(answered, asked, `entry for /item/${asked} carries the response of /item/${answered}`);
    assert.notEqual(e.error?.type, 'pair-not-found', `entry for /item/${asked} left waiting: ${e.error?.msg}`);
    byAsked.set(asked, e);
  }
  const wrong: string[] = [];
  for (let i = 0; i < EXCHANGES; i++) {
    if (touched.has(i)) continue;
    const e = byAsked.get(i);
    if (e === undefined) wrong.push(`${i}: no entry`);
    else if (e.response === null || (e.error ?? null) !== null) wrong.push(`${i}: ${e.error?.type ?? 'no response'} ${e.error?.msg ?? ''}`);
  }
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} untouched exchanges came out wrong`);
}

const cases: { name: string; drops: Drop[] }[] = [
  { name: 'a body segment of one response', drops: [{ exchange: 100, fromClient: false, part: 1 }] },
  { name: 'the head segment of one response', drops: [{ exchange: 100, fromClient: false, part: 0 }] },
  { name: 'a whole response (head and body)', drops: [0, 1, 2].map((part) => ({ exchange: 100, fromClient: false, part })) },
  { name: 'the first segment of one request', drops: [{ exchange: 100, fromClient: true, part: 0 }] },
  {
    name: 'holes in both directions at several places',
    drops: [
      { exchange: 50, fromClient: false, part: 0 },
      { exchange: 120, fromClient: true, part: 0 },
      { exchange: 200, fromClient: false, part: 1 },
      { exchange: 201, fromClient: false, part: 0 },
      { exchange: 300, fromClient: true, part: 0 },
      { exchange: 300, fromClient: false, part: 2 },
    ],
  },
];

for (const { name, drops } of cases) {
  test(`keep-alive HTTP/1 pairs again after a capture hole: ${name}`, async () => {
    const { entries, result } = await readCapture(keepAliveCapture(drops));
    const touched = new Set(drops.map((d) => d.exchange));
    assert.ok(result.stats.gaps >= 1, 'the hole is reported by reassembly');
    assertRecovered(entries, touched);
  });
}

test('the same connection without holes: every exchange paired (the test capture is sound)', async () => {
  const { entries, result } = await readCapture(keepAliveCapture([]));
  assert.equal(result.stats.gaps, 0);
  assert.equal(entries.length, EXCHANGES);
  assertRecovered(entries, new Set());
});

test('a request whose whole response fell in a hole is an entry marked lost, counted as unpaired', async () => {
  const drops = [0, 1, 2].map((part) => ({ exchange: 100, fromClient: false, part }));
  const { entries, result } = await readCapture(keepAliveCapture(drops));
  const lost = entries.filter((e) => e.request.path === '/item/100');
  assert.equal(lost.length, 1);
  assert.equal(lost[0]!.response, null);
  assert.deepEqual(lost[0]!.error, { type: 'dissection', msg: 'response lost in a capture gap' });
  assert.equal(result.stats.unpairedRequests, 1);
  assert.equal(entries.length, EXCHANGES);
  // Entries still come out in request order.
  assert.deepEqual(entries.map((e) => idsOf(e).asked), Array.from({ length: EXCHANGES }, (_, i) => i));
});

test('random segment loss (1%, as a loaded node drops frames): every untouched exchange paired, in 5 seeded runs', async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const rng = new Prng(seed);
    const drops: Drop[] = [];
    for (let i = 0; i < EXCHANGES; i++) {
      for (let part = 0; part * SEGMENT < requestOf(i).length; part++) if (rng.chance(0.01)) drops.push({ exchange: i, fromClient: true, part });
      for (let part = 0; part * SEGMENT < responseOf(i).length; part++) if (rng.chance(0.01)) drops.push({ exchange: i, fromClient: false, part });
    }
    const { entries } = await readCapture(keepAliveCapture(drops));
    assertRecovered(entries, new Set(drops.map((d) => d.exchange)));
  }
});
