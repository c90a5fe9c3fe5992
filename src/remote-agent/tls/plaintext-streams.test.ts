/**
 * TLS probe records -> entries, through the same dissectors as packet capture. The plaintext is
 * real traffic (node:http and node:http2 through a recording proxy: the chunks each socket read),
 * fed as the records a hooked end would produce, in the recorded chunking and cut anew; the sockets
 * are real, so roles come from this process's LISTEN socket and fds resolve through /proc.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import type { Entry } from '../../model/entry.ts';
import { compileKfl } from '../../kfl/index.ts';
import { CapturePipeline } from '../capture-pipeline.ts';
import type { HttpEntry } from '../dissect/http1/entry.ts';
import { newCaptureStats, type CaptureStats } from '../stats.ts';
import type { TlsDataEvent, TlsEvent, TlsSkipEvent } from './events.ts';
import { PlaintextStreams } from './plaintext-streams.ts';
import { ProcSocketLookup } from './proc-sockets.ts';
import { randomCuts, recordsOf, startRecordingProxy, type RecordedConnection } from '../../../test/helpers/recorded-tcp.ts';

const T0 = 1_765_000_000_000_000;
const PID = process.pid;
const BODY_A = 100 * 1024;
const BODY_B = 200 * 1024;
const BODY_C = 70 * 1024;

interface Recorded {
  readonly h1: RecordedConnection;
  readonly h2: RecordedConnection;
}

let recorded: Recorded;
const cleanups: (() => Promise<void> | void)[] = [];

/** HTTP/1.1 keep-alive: GET (100 KiB answer), POST 200 KiB (70 KiB answer), GET 404, on one connection. */
async function recordHttp1(): Promise<RecordedConnection> {
  const server = http.createServer((req, res) => {
    let got = 0;
    req.on('data', (b: Buffer) => (got += b.length));
    req.on('end', () => {
      if (req.url === '/a') res.end(Buffer.alloc(BODY_A, 0x61));
      else if (req.url === '/b') {
        res.statusCode = got === BODY_B ? 200 : 500;
        res.end(Buffer.alloc(BODY_C, 0x63));
      }
      else {
        res.statusCode = 404;
        res.end('no');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy = await startRecordingProxy((server.address() as net.AddressInfo).port);
  cleanups.push(() => proxy.close(), () => void server.close());
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  cleanups.push(() => agent.destroy());
  const call = (method: string, path: string, body?: Buffer): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port, method, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  assert.equal(await call('GET', '/a'), 200);
  assert.equal(await call('POST', '/b', Buffer.alloc(BODY_B, 0x62)), 200);
  assert.equal(await call('GET', '/missing'), 404);
  assert.equal(proxy.connections.length, 1, 'one kept-alive connection');
  return proxy.connections[0]!;
}

/** HTTP/2 with prior knowledge: five concurrent streams, one answer of 100 KiB. */
async function recordHttp2(): Promise<RecordedConnection> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    stream.respond({ ':status': path === '/big' ? 200 : 201, 'content-type': 'text/plain' });
    stream.end(path === '/big' ? Buffer.alloc(BODY_A, 0x78) : `hello ${path}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxy = await startRecordingProxy((server.address() as net.AddressInfo).port);
  cleanups.push(() => proxy.close(), () => void server.close());
  const client = http2.connect(`http://127.0.0.1:${proxy.port}`);
  cleanups.push(() => void client.close());
  const get = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = client.request({ ':path': path });
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', () => undefined);
      req.on('end', () => resolve(status));
      req.on('error', reject);
      req.end();
    });
  const statuses = await Promise.all(['/big', '/1', '/2', '/3', '/4'].map(get));
  assert.deepEqual(statuses, [200, 201, 201, 201, 201]);
  assert.equal(proxy.connections.length, 1);
  return proxy.connections[0]!;
}

before(async () => {
  recorded = { h1: await recordHttp1(), h2: await recordHttp2() };
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function pipelineWith(stats: CaptureStats = newCaptureStats()) {
  const entries: Entry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e) => entries.push(e) }, { tls: { sockets: new ProcSocketLookup() } });
  return { stats, entries, pipeline };
}

function feed(pipeline: CapturePipeline, events: readonly TlsEvent[], batch = 7): void {
  for (let i = 0; i < events.length; i += batch) pipeline.tlsEvents(events.slice(i, i + batch));
}

function summary(entries: readonly Entry[]): string[] {
  return entries.map((e) => {
    const h = e as HttpEntry;
    return `${h.id} ${h.request.method} ${h.request.path} ${h.request.bodySize} -> ${h.response?.status} ${h.response?.bodySize} tls=${h.tls} ${h.src.port}->${h.dst.port}`;
  });
}

test('HTTP/1.1 keep-alive with bodies over 64 KiB: every exchange once, tls, from either end and any chunking', () => {
  const { h1 } = recorded;
  const client = h1.clientTuple.localPort;
  const server = h1.serverTuple.localPort;
  const want = [
    `t0-0 GET /a 0 -> 200 ${BODY_A} tls=true ${client}->${server}`,
    `t0-1 POST /b ${BODY_B} -> 200 ${BODY_C} tls=true ${client}->${server}`,
    `t0-2 GET /missing 0 -> 404 2 tls=true ${client}->${server}`,
  ];
  const cuts = [undefined, randomCuts(1, 64), randomCuts(2, 5000), randomCuts(3, 70_000), randomCuts(4, 8)];
  for (const hooked of ['client', 'server'] as const) {
    for (const [i, cut] of cuts.entries()) {
      const { stats, entries, pipeline } = pipelineWith();
      const tuple = hooked === 'client' ? h1.clientTuple : h1.serverTuple;
      const records = recordsOf(h1.chunks, { pid: PID, connId: 0x5000n, hooked, tuple, t0Us: T0, ...(cut ? { cut } : {}) });
      feed(pipeline, records);
      pipeline.tlsEvents([{ kind: 'close', tsUs: T0 + 60_000_000, pid: PID, tuple }]);
      assert.deepEqual(summary(entries), want, `${hooked} end, chunking ${i}`);
      assert.deepEqual([stats.tls.connections, stats.tls.duplicates, stats.tls.unresolved, stats.gapBytes], [1, 0, 0, 0]);
      assert.equal(stats.protocols['http']?.entries, 3);
      if (cut === undefined) {
        // The KFL word `tls` selects them (KFL2's capture_source too).
        const kfl = compileKfl('tls and capture_source == "ebpf_tls"');
        assert.ok(kfl.ok);
        assert.equal(entries.filter((e) => kfl.filter.test(e)).length, 3);
      }
    }
  }
});

test('HTTP/2 (prior knowledge, concurrent streams, 100 KiB answer): every stream once, tls', () => {
  const { h2 } = recorded;
  for (const [i, cut] of [undefined, randomCuts(9, 100), randomCuts(10, 20_000)].entries()) {
    const { stats, entries, pipeline } = pipelineWith();
    feed(pipeline, recordsOf(h2.chunks, { pid: PID, connId: 0x6000n, hooked: 'client', tuple: h2.clientTuple, t0Us: T0, ...(cut ? { cut } : {}) }), 3);
    pipeline.finish();
    const got = entries.map((e) => {
      const h = e as HttpEntry;
      return `${h.request.path} ${h.response?.status} ${h.response?.bodySize} ${h.protocol.version} tls=${h.tls}`;
    });
    assert.deepEqual(got.sort(), ['/1 201 8 2.0 tls=true', '/2 201 8 2.0 tls=true', '/3 201 8 2.0 tls=true', '/4 201 8 2.0 tls=true', `/big 200 ${BODY_A} 2.0 tls=true`], `chunking ${i}`);
    assert.ok(entries.every((e) => /^t0-\d+$/.test(e.id)), entries.map((e) => e.id).join(' '));
    assert.equal(stats.protocols['http']?.violations ?? 0, 0);
  }
});

test('both ends hooked (client and server in scope): shown once, the second end counted as duplicates', () => {
  const { h1 } = recorded;
  const { stats, entries, pipeline } = pipelineWith();
  const client = recordsOf(h1.chunks, { pid: PID, connId: 0x1n, hooked: 'client', tuple: h1.clientTuple, t0Us: T0 });
  const server = recordsOf(h1.chunks, { pid: PID, connId: 0x2n, hooked: 'server', tuple: h1.serverTuple, t0Us: T0 + 5 });
  // Interleaved as the ring would have them: each end's records in order.
  const merged = [...client, ...server].sort((x, y) => x.tsUs - y.tsUs);
  feed(pipeline, merged);
  pipeline.finish();
  assert.equal(entries.length, 3);
  assert.equal(stats.tls.connections, 1);
  assert.equal(stats.tls.duplicates, server.length);
});

test('a lost record is a gap; a skip record is a gap; later exchanges still come out', () => {
  const { h1 } = recorded;
  const records = recordsOf(h1.chunks, { pid: PID, connId: 0x7n, hooked: 'client', tuple: h1.clientTuple, t0Us: T0, cut: () => 4096 });
  // The POST's body: lose one record outright, and turn another into a skip record.
  const postAt = records.findIndex((r) => Buffer.from(r.bytes).toString('latin1').startsWith('POST /b'));
  assert.ok(postAt > 0);
  const lost = records[postAt + 3]!;
  const skipped = records[postAt + 5]!;
  const hole: TlsSkipEvent = { kind: 'skip', tsUs: skipped.tsUs, pid: PID, tid: PID, library: 'openssl', direction: skipped.direction, connId: skipped.connId, fd: -1, tuple: skipped.tuple, streamOffset: skipped.streamOffset, lostBytes: skipped.bytes.length };
  const fed: TlsEvent[] = records.filter((r) => r !== lost).map((r) => (r === skipped ? hole : r));
  const { stats, entries, pipeline } = pipelineWith();
  feed(pipeline, fed);
  pipeline.finish();
  const s = summary(entries);
  assert.equal(s[0], `t0-0 GET /a 0 -> 200 ${BODY_A} tls=true ${h1.clientTuple.localPort}->${h1.serverTuple.localPort}`);
  assert.ok(s.some((line) => line.includes('GET /missing 0 -> 404')), s.join('\n'));
  assert.equal(stats.tls.unresolved, 0);
  assert.deepEqual([stats.gaps, stats.gapBytes], [2, lost.bytes.length + skipped.bytes.length]);
});

test('unresolved records are held until the socket is known, then delivered; never resolved: counted and dropped, bounded', () => {
  const { h1 } = recorded;
  const records = recordsOf(h1.chunks, { pid: PID, connId: 0x8n, hooked: 'client', tuple: null, t0Us: T0, cut: () => 1000 });
  // The kernel saw the socket only from the tenth record on.
  const fed = records.map((r, i) => (i >= 10 ? { ...r, tuple: h1.clientTuple } : r));
  const a = pipelineWith();
  feed(a.pipeline, fed);
  a.pipeline.finish();
  assert.equal(a.entries.length, 3);
  assert.equal(a.stats.tls.unresolved, 0);

  // Never resolved: a small hold bound; held bytes never exceed it, and every record is counted.
  const stats = newCaptureStats();
  const entries: Entry[] = [];
  const pipeline = new CapturePipeline(stats, { entry: (e) => entries.push(e) }, { tls: { sockets: new ProcSocketLookup(), limits: { maxHeldBytesPerConnection: 10_000, maxHeldBytesTotal: 20_000 } } });
  feed(pipeline, records);
  pipeline.finish();
  assert.equal(entries.length, 0);
  assert.equal(stats.tls.unresolved, records.length);
  assert.equal(stats.tls.connections, 0);
});

test("Go records carry the fd: the socket behind it is found through /proc (this process's real socket)", () => {
  const { h1 } = recorded;
  const fd = (h1.accepted as unknown as { _handle: { fd: number } })._handle.fd;
  assert.ok(fd > 2, `fd ${fd}`);
  const records = recordsOf(h1.chunks, { pid: PID, connId: 0x9n, hooked: 'server', tuple: null, fd, t0Us: T0 }).map((r): TlsDataEvent => ({ ...r, library: 'go' }));
  const { stats, entries, pipeline } = pipelineWith();
  feed(pipeline, records);
  pipeline.finish();
  assert.deepEqual(summary(entries).map((l) => l.split(' ').slice(1, 6).join(' ')), [`GET /a 0 -> 200`, `POST /b ${BODY_B} -> 200`, 'GET /missing 0 -> 404']);
  // The fd named the server end: the LISTEN socket made the hooked process the server, dst its port.
  assert.equal((entries[0] as HttpEntry).dst.port, h1.serverTuple.localPort);
  assert.equal(stats.tls.unresolved, 0);
});

test("a Go record's tuple (its fd's socket, read by the probe at call time) is trusted over /proc, where the fd may since name a later connection", () => {
  const { h1, h2 } = recorded;
  // The fd number now names another live socket of this process (the HTTP/2 server end): as when a
  // closed connection's fd was reused before its last records were handled.
  const reusedFd = (h2.accepted as unknown as { _handle: { fd: number } })._handle.fd;
  const records = recordsOf(h1.chunks, { pid: PID, connId: 0xbn, hooked: 'server', tuple: h1.serverTuple, fd: reusedFd, t0Us: T0 }).map((r): TlsDataEvent => ({ ...r, library: 'go' }));
  const { stats, entries, pipeline } = pipelineWith();
  feed(pipeline, records);
  pipeline.finish();
  assert.deepEqual(summary(entries).map((l) => l.split(' ').slice(0, 6).join(' ')), [`t0-0 GET /a 0 -> 200`, `t0-1 POST /b ${BODY_B} -> 200`, 't0-2 GET /missing 0 -> 404']);
  assert.equal((entries[0] as HttpEntry).src.port, h1.serverTuple.remotePort, "the records' own socket, not the fd's socket now");
  assert.equal(stats.tls.connections, 1);
});

test('a Go record without a tuple (the probe could not read the socket): the same fd as its connection\'s earlier records keeps that socket, /proc is not asked again', () => {
  const { h1, h2 } = recorded;
  const reusedFd = (h2.accepted as unknown as { _handle: { fd: number } })._handle.fd;
  // The first record names its socket; the later ones come without, on an fd /proc now gives to another socket.
  const records = recordsOf(h1.chunks, { pid: PID, connId: 0xcn, hooked: 'server', tuple: h1.serverTuple, fd: reusedFd, t0Us: T0 }).map((r, i): TlsDataEvent => ({
    ...r,
    library: 'go',
    tuple: i === 0 ? r.tuple : null,
  }));
  const { stats, entries, pipeline } = pipelineWith();
  feed(pipeline, records);
  pipeline.finish();
  assert.deepEqual(summary(entries).map((l) => l.split(' ').slice(0, 6).join(' ')), [`t0-0 GET /a 0 -> 200`, `t0-1 POST /b ${BODY_B} -> 200`, 't0-2 GET /missing 0 -> 404']);
  for (const e of entries) assert.equal((e as HttpEntry).src.port, h1.serverTuple.remotePort, `${e.id}: the first record's socket`);
  assert.equal(stats.tls.connections, 1);
});

test('a close record of its socket ends the connection, whichever task reports it (pending requests come out); a reused connection object with a new tuple is a new connection', () => {
  const { h1 } = recorded;
  const records = recordsOf(h1.chunks, { pid: PID, connId: 0xan, hooked: 'client', tuple: h1.clientTuple, t0Us: T0 });
  // Only the first request, no answer, then the socket is closed.
  const first = records.filter((r) => r.direction === 'write').slice(0, 1);
  const { stats, entries, pipeline } = pipelineWith();
  pipeline.tlsEvents(first);
  assert.equal(entries.length, 0);
  // The closing task need not be the hooked process (a reset handled for another task of the pod).
  pipeline.tlsEvents([{ kind: 'close', tsUs: T0 + 1_000, pid: 1, tuple: h1.serverTuple }]);
  assert.equal(entries.length, 0, "the peer's socket closing is not this end's close");
  pipeline.tlsEvents([{ kind: 'close', tsUs: T0 + 1_000, pid: 1, tuple: h1.clientTuple }]);
  assert.equal(entries.length, 1, 'emitted at the close');
  assert.equal((entries[0] as HttpEntry).response, null);
  // The same SSL * later serves another connection: its stream offsets continue (the kernel's counter).
  const otherTuple = { ...h1.clientTuple, localPort: h1.clientTuple.localPort + 1 };
  const again = recordsOf(h1.chunks, { pid: PID, connId: 0xan, hooked: 'client', tuple: otherTuple, t0Us: T0 + 2_000 }).map((r) => ({ ...r, streamOffset: r.streamOffset + 5000 }));
  feed(pipeline, again);
  pipeline.finish();
  assert.deepEqual(entries.slice(1).map((e) => e.id), ['t1-0', 't1-1', 't1-2']);
  assert.equal(stats.tls.connections, 2);
  assert.equal(stats.gapBytes, 0);
});

test('hostile records: random bytes, offsets and tuples never throw, and state stays bounded', () => {
  const stats = newCaptureStats();
  const pipeline = new CapturePipeline(stats, { entry: () => undefined }, { tls: { sockets: new ProcSocketLookup(), limits: { maxConnections: 50, maxHeldBytesTotal: 100_000 } } });
  // The same records straight into plaintext streams, whose state can be watched.
  let open = 0;
  const streams = new PlaintextStreams({ open: () => (open++, { data() {}, gap() {}, end() {}, close: () => void open-- }) }, newCaptureStats(), new ProcSocketLookup(), { limits: { maxConnections: 50, maxHeldBytesTotal: 100_000 } });
  const rand = randomCuts(77, 1 << 30);
  for (let i = 0; i < 2000; i++) {
    const n = rand(0) % 3000;
    const bytes = new Uint8Array(n);
    for (let j = 0; j < n; j += 97) bytes[j] = rand(0) & 0xff;
    const tuple = rand(0) % 4 === 0 ? null : { family: 4 as const, localIp: `10.0.${rand(0) % 3}.1`, localPort: rand(0) % 70000, remoteIp: '10.9.9.9', remotePort: rand(0) % 5 };
    const e: TlsEvent =
      rand(0) % 10 === 0
        ? { kind: 'close', tsUs: T0 + i, pid: rand(0) % 5, tuple: tuple ?? { family: 6, localIp: '::1', localPort: 1, remoteIp: '::ffff:1.2.3.4', remotePort: 2 } }
        : { kind: 'data', tsUs: T0 + i, pid: rand(0) % 5, tid: 1, library: 'go', direction: rand(0) % 2 ? 'read' : 'write', connId: BigInt(rand(0) % 200), fd: rand(0) % 3 === 0 ? rand(0) % 1000 : -1, tuple, streamOffset: rand(0) % 3 === 0 ? rand(0) * 1e6 : rand(0) % 5000, bytes };
    pipeline.tlsEvents([e]);
    streams.events([e]);
    assert.ok(streams.trackedConnections <= 50 && streams.heldBytes <= 100_000 && open <= 50, `${streams.trackedConnections} ${streams.heldBytes} ${open}`);
  }
  pipeline.finish();
  streams.closeAll(T0 + 10_000);
  assert.equal(open, 0, 'every handler closed exactly once');
  assert.equal(stats.internalErrors, 0);
  assert.ok(stats.tls.connections > 0 && stats.tls.unresolved > 0);
});
