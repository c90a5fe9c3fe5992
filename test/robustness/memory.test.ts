/**
 * Memory stays bounded under adversarial input:
 *  - TcpAssembler's buffered bytes and live connections never pass their caps while thousands of
 *    connections with holes (that never fill) are fed in random order;
 *  - a long adversarial capture (never-ending headers, a huge body, a gzip bomb, thousands of
 *    connections with holes, thousands of non-HTTP connections) read through readCaptures keeps
 *    the heap within a fixed bound during the run and returns it afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { readCaptures } from '../../src/pipeline/read-capture.ts';
import { assertNoInternalErrors } from '../helpers/read-entries.ts';
import type { TcpSegment } from '../../src/remote-agent/ip/packet.ts';
import { newCaptureStats } from '../../src/remote-agent/stats.ts';
import { TcpAssembler, type TcpLimits } from '../../src/remote-agent/tcp/assembler.ts';
import { Prng } from '../bench/prng.ts';
import { tcpFrame } from './tcp-capture.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;

test('assembler caps hold with thousands of connections whose holes never fill', () => {
  const limits: TcpLimits = {
    maxBufferedBytesPerConnection: 16 * 1024,
    maxBufferedBytesTotal: 64 * 1024,
    maxBufferedSegmentsPerConnection: 128,
    maxConnections: 200,
    idleTimeoutUs: 10_000_000,
  };
  const stats = newCaptureStats();
  let delivered = 0;
  const asm = new TcpAssembler(
    {
      open: () => ({
        data: (_d, b) => {
          delivered += b.length;
        },
        gap: () => {},
        end: () => {},
        close: () => {},
      }),
    },
    stats,
    limits,
  );
  const rng = new Prng(99);
  const conns = Array.from({ length: 3000 }, (_, i) => ({ i, isn: rng.u32(), next: 1 + rng.int(1, 5000), synSent: false }));
  let maxBuffered = 0;
  let maxLive = 0;
  for (let step = 0; step < 60_000; step++) {
    const c = conns[rng.int(0, Math.min(conns.length - 1, 400 + Math.floor(step / 20)))]!;
    const base = { tsUs: 1000 + step * 50, srcIp: `10.1.${c.i >> 8}.${c.i & 255}`, dstIp: '10.2.0.1', srcPort: 30000 + c.i, dstPort: 80, ack: 1 };
    let seg: TcpSegment;
    if (!c.synSent) {
      c.synSent = true;
      seg = { ...base, seq: c.isn, flags: 0x02, payload: new Uint8Array(0) };
    } else {
      // Bytes from isn+1 up to the first `next` are never sent: a hole in front of everything.
      const len = rng.int(200, 1448);
      const skipAhead = rng.chance(0.2) ? rng.int(1, 20_000) : 0;
      seg = { ...base, seq: (c.isn + c.next + skipAhead) >>> 0, flags: 0x18, payload: new Uint8Array(len) };
      if (skipAhead === 0) c.next += len;
    }
    asm.segment(seg);
    maxBuffered = Math.max(maxBuffered, asm.bufferedBytes);
    maxLive = Math.max(maxLive, asm.liveConnections);
    assert.ok(asm.bufferedBytes <= limits.maxBufferedBytesTotal, `step ${step}: ${asm.bufferedBytes} buffered bytes > cap`);
    assert.ok(asm.liveConnections <= limits.maxConnections, `step ${step}: ${asm.liveConnections} live connections > cap`);
  }
  // The caps were reached, so the assertions above tested them.
  assert.ok(maxBuffered > limits.maxBufferedBytesTotal / 2, `buffering peaked at ${maxBuffered} only`);
  assert.equal(maxLive, limits.maxConnections);
  assert.ok(stats.gaps > 0 && stats.expiredConnections > 0, JSON.stringify(stats));
  asm.closeAll(10_000_000);
  assert.equal(asm.bufferedBytes, 0);
  assert.equal(asm.liveConnections, 0);
  assert.ok(delivered > 0);
});

/** Which part of the adversarial capture is being read (attributes the memory peak). */
let phase = '';

/** Streams an adversarial Ethernet/IPv4/TCP pcap in chunks (never held whole in memory). */
async function* adversarialCapture(rng: Prng): AsyncGenerator<Uint8Array> {
  const header = new Uint8Array(24);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, 0xa1b2c3d4, true);
  hv.setUint16(4, 2, true);
  hv.setUint16(6, 4, true);
  hv.setUint32(16, 262_144, true);
  hv.setUint32(20, 1, true);
  yield header;

  let ts = 1_700_000_000_000_000;
  let parts: Uint8Array[] = [];
  let size = 0;
  const record = (frame: Uint8Array): void => {
    ts += 7;
    const r = new Uint8Array(16 + frame.length);
    const v = new DataView(r.buffer);
    v.setUint32(0, Math.floor(ts / 1e6), true);
    v.setUint32(4, ts % 1e6, true);
    v.setUint32(8, frame.length, true);
    v.setUint32(12, frame.length, true);
    r.set(frame, 16);
    parts.push(r);
    size += r.length;
  };
  const take = (): Uint8Array => {
    const out = new Uint8Array(size);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    parts = [];
    size = 0;
    return out;
  };
  let connIndex = 0;
  interface Conn {
    send(fromClient: boolean, bytes: Uint8Array): void;
    /** `n` bytes of the direction are never captured: a hole. */
    skip(fromClient: boolean, n: number): void;
    fin(): void;
  }
  const open = (syn: boolean, port = 80): Conn => {
    const i = connIndex++;
    const cIp = [10, 3, (i >> 8) & 255, i & 255];
    const sIp = [10, 4, 0, 1];
    const seq = [rng.u32(), rng.u32()];
    const frame = (fromClient: boolean, flags: number, payload: Uint8Array): void => {
      const d = fromClient ? 0 : 1;
      record(tcpFrame(fromClient ? cIp : sIp, fromClient ? sIp : cIp, fromClient ? 40000 : port, fromClient ? port : 40000, seq[d]!, seq[1 - d]!, flags, payload));
      seq[d] = (seq[d]! + payload.length + (flags & 3 ? 1 : 0)) >>> 0;
    };
    if (syn) {
      frame(true, 0x02, new Uint8Array(0));
      frame(false, 0x12, new Uint8Array(0));
      frame(true, 0x10, new Uint8Array(0));
    }
    return {
      send: (fromClient, bytes) => {
        for (let o = 0; o < bytes.length; o += 1448) frame(fromClient, 0x18, bytes.subarray(o, Math.min(bytes.length, o + 1448)));
      },
      skip: (fromClient, n) => {
        const d = fromClient ? 0 : 1;
        seq[d] = (seq[d]! + n) >>> 0;
      },
      fin: () => {
        frame(true, 0x11, new Uint8Array(0));
        frame(false, 0x11, new Uint8Array(0));
      },
    };
  };
  const enc = new TextEncoder();

  // 1. Headers that never end: 48 MiB of header lines.
  phase = 'never-ending headers (48 MiB)';
  const flood = open(true);
  flood.send(true, enc.encode('GET /flood HTTP/1.1\r\nHost: h\r\n'));
  const lines = enc.encode('X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(1800));
  for (let n = 0; n < (48 * MB) / lines.length; n++) {
    flood.send(true, lines);
    if (size > 4 * MB) yield take();
  }
  flood.fin();

  // 2. A 64 MiB response body, and a gzip bomb (64 MiB of zeros).
  phase = '64 MiB body';
  const big = open(true);
  big.send(true, enc.encode('GET /big HTTP/1.1\r\nHost: h\r\n\r\n'));
  big.send(false, enc.encode(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${64 * MB}\r\n\r\n`));
  const block = rng.bytes(MB);
  for (let n = 0; n < 64; n++) {
    big.send(false, block);
    if (size > 4 * MB) yield take();
  }
  yield take();
  phase = 'gzip bomb (64 MiB of zeros)';
  const bomb = new Uint8Array(gzipSync(new Uint8Array(64 * MB), { level: 9 }));
  big.send(true, enc.encode('GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n'));
  big.send(false, enc.encode(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`));
  big.send(false, bomb);
  big.fin();
  yield take();

  // 3. 4000 connections whose first bytes are lost: everything after the hole is held.
  phase = '4000 connections with holes';
  for (let k = 0; k < 4000; k++) {
    const c = open(true);
    c.send(true, enc.encode('GET /hole HTTP/1.1\r\nHost: h\r\n\r\n'));
    c.skip(false, 40);
    c.send(false, rng.bytes(12 * 1024));
    if (size > 4 * MB) yield take();
  }

  // 4. 3000 non-HTTP connections without a handshake, 70 KB each (sniffing gives up).
  phase = '3000 non-HTTP connections';
  for (let k = 0; k < 3000; k++) {
    const c = open(false, 5000 + (k % 100));
    c.send(true, rng.bytes(70 * 1024));
    if (size > 4 * MB) yield take();
  }
  yield take();
}

test('a long adversarial capture through readCaptures keeps the heap bounded', async (t) => {
  gc();
  const before = process.memoryUsage();
  const baseline = before.heapUsed + before.arrayBuffers;
  let peak = 0;
  const peaks = new Map<string, number>();
  let chunks = 0;
  let entries = 0;
  // Live memory: collected first, so garbage the GC has not got round to does not count.
  const sample = (): void => {
    gc();
    const m = process.memoryUsage();
    const used = m.heapUsed + m.arrayBuffers - baseline;
    peak = Math.max(peak, used);
    peaks.set(phase, Math.max(peaks.get(phase) ?? 0, used));
  };
  const result = await readCaptures(
    [{ label: 'adversarial', chunks: adversarialCapture(new Prng(5)) }],
    () => {
      entries++;
    },
    {
      tcp: { maxBufferedBytesTotal: 32 * MB },
      waitForSink: () => {
        if (++chunks % 2 === 0) sample();
        return undefined;
      },
    },
  );
  assertNoInternalErrors(result, 'the adversarial capture');
  sample();
  // ArrayBuffer backing stores are freed by a sweeper after the collection: give it a turn.
  await new Promise((r) => setTimeout(r, 50));
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const after = process.memoryUsage();
  const retained = after.heapUsed + after.arrayBuffers - baseline;
  t.diagnostic(
    `read ${(result.stats.bytes / MB).toFixed(0)} MiB in ${chunks} chunks, ${result.stats.connections} connections, ${entries} entries; ` +
      `peak heap+arrayBuffers growth ${(peak / MB).toFixed(1)} MiB, retained after gc ${(retained / MB).toFixed(1)} MiB ` +
      `(heapUsed ${((after.heapUsed - before.heapUsed) / MB).toFixed(1)} MiB, arrayBuffers ${((after.arrayBuffers - before.arrayBuffers) / MB).toFixed(1)} MiB, external ${((after.external - before.external) / MB).toFixed(1)} MiB)`,
  );
  t.diagnostic(`live memory peak by part: ${[...peaks].map(([k, v]) => `${k}: ${(v / MB).toFixed(1)} MiB`).join('; ')}`);
  assert.ok(result.stats.bytes > 200 * MB, 'the capture is long');
  assert.ok(result.stats.connections > 7000, `connections: ${result.stats.connections}`);
  assert.ok(peak < 200 * MB, `live heap + array buffers grew by ${(peak / MB).toFixed(1)} MiB during the run (bound 200 MiB)`);
  assert.ok(retained < 64 * MB, `${(retained / MB).toFixed(1)} MiB still used after the run and gc (bound 64 MiB)`);
});
