import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dissector, DissectorStream } from './dissector.ts';
import { DissectorRegistry, MAX_UNDECIDED_BYTES, SNIFF_GIVE_UP_BYTES } from './registry.ts';
import { T0, fakeConn, play, recorder, c, s } from '../../../test/helpers/http1-connection.ts';

const EXCHANGE = [c('GET /r HTTP/1.1\r\nHost: h\r\n\r\n', 0), s('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 10)];

test('a connection whose bytes look like HTTP/1 is pinned to the HTTP/1 dissector', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn());
  play(h, EXCHANGE);
  assert.equal(reg.liveStreams, 1);
  h.close('fin', T0 + 20);
  assert.equal(reg.liveStreams, 0, 'closed streams leave the live set');
  assert.equal(rec.entries.length, 1);
  assert.equal(rec.entries[0].response!.content.text, 'ok');
});

test('buffered bytes of both directions, gaps and FINs are replayed in arrival order', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn({ aIsClientKnown: false }));
  // The server speaks first (a status line cut short), then the client's request decides.
  h.data(1, Buffer.from('HT'), T0);
  h.data(0, Buffer.from('GET /x HTTP/1.1\r\n\r\n'), T0 + 1);
  h.data(1, Buffer.from('TP/1.1 204 No Content\r\n\r\n'), T0 + 2);
  h.close('fin', T0 + 3);
  assert.equal(rec.entries.length, 1);
  assert.equal(rec.entries[0].response!.status, 204);
  assert.equal(rec.stats.dissectionErrors, 0);
});

test('detection works one byte at a time', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn());
  play(h, EXCHANGE, { kind: 'bytes' });
  h.close('fin', T0 + 20);
  assert.equal(rec.entries.length, 1);
  assert.equal(rec.entries[0].request.url, '/r');
});

test('a non-HTTP connection with its SYN seen is dropped: nothing emitted, no error', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn());
  h.data(0, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), T0);
  assert.equal(reg.oldestPendingUs(), Infinity, 'nothing buffered any more');
  h.data(0, Buffer.from('GET / HTTP/1.1\r\n\r\n'), T0 + 1);
  h.close('fin', T0 + 2);
  assert.equal(rec.entries.length, 0);
  assert.equal(reg.liveStreams, 0);
  assert.equal(rec.stats.dissectionErrors, 0);
});

test('mid-connection start: binary body bytes first, then HTTP is still found (sliding window)', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn({ aIsClientKnown: false }));
  h.data(1, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x0a, 0x03]), T0);
  h.data(1, Buffer.alloc(5000, 0x41), T0 + 1);
  h.data(0, Buffer.from('GET /later HTTP/1.1\r\n\r\n'), T0 + 2);
  h.data(1, Buffer.from('\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), T0 + 3);
  h.close('fin', T0 + 4);
  assert.equal(rec.entries.length, 1);
  assert.equal(rec.entries[0].request.url, '/later');
  assert.equal(rec.entries[0].response!.status, 200);
});

test('without a SYN, sniffing gives up after SNIFF_GIVE_UP_BYTES of non-HTTP', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn({ aIsClientKnown: false }));
  for (let sent = 0; sent <= SNIFF_GIVE_UP_BYTES; sent += 1000) h.data(0, Buffer.alloc(1000, 0x01), T0);
  h.data(0, Buffer.from('\r\nGET / HTTP/1.1\r\n\r\n'), T0 + 1);
  h.close('fin', T0 + 2);
  assert.equal(rec.entries.length, 0);
});

test('oldestPendingUs covers live streams and undecided prefixes within the response timeout', () => {
  const rec = recorder({ responseTimeoutUs: 1000 });
  const reg = new DissectorRegistry(rec.ctx);
  assert.equal(reg.oldestPendingUs(), Infinity);
  const undecided = reg.open(fakeConn({ index: 1, aIsClientKnown: false }));
  undecided.data(0, Buffer.from('GE'), T0 + 100);
  assert.equal(reg.oldestPendingUs(), T0 + 100);
  const live = reg.open(fakeConn({ index: 2 }));
  live.data(0, Buffer.from('GET / HTTP/1.1\r\n\r\n'), T0 + 50);
  assert.equal(reg.oldestPendingUs(), T0 + 50);
  live.data(1, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), T0 + 900);
  assert.equal(reg.oldestPendingUs(), T0 + 100);
  live.data(0, Buffer.from('\r\n'), T0 + 5000);
  assert.equal(reg.oldestPendingUs(), Infinity, 'an undecided prefix older than the timeout no longer holds the orderer');
});

test('dissectors are tried in order with port hints first; a throwing sniff is a bug that goes up to reassembly', () => {
  const opened: string[] = [];
  const fake = (id: string, ports: number[], answer: () => 'match' | 'no'): Dissector => ({
    id,
    protocol: id,
    ports,
    sniff: answer,
    open: (): DissectorStream => {
      opened.push(id);
      return { data() {}, gap() {}, end() {}, close() {}, oldestPendingUs: () => Infinity };
    },
  });
  const rec = recorder();
  const throwing = fake('bad', [80], () => {
    throw new Error('boom');
  });
  const reg = new DissectorRegistry(rec.ctx, [fake('first', [], () => 'match'), fake('hinted', [80], () => 'match')]);
  reg.open(fakeConn()).data(0, Buffer.from('x'), T0);
  assert.deepEqual(opened, ['hinted']);
  // sniff never throws by contract: one that does is not taken for a 'no' (which would hide the bug).
  const buggy = new DissectorRegistry(rec.ctx, [throwing, fake('hinted', [80], () => 'match')]);
  assert.throws(() => buggy.open(fakeConn()).data(0, Buffer.from('x'), T0), /boom/);
});

test('undecided connections share one memory budget; past it they are given up and their bytes counted', () => {
  const { ctx, stats } = recorder();
  const registry = new DissectorRegistry(ctx);
  // A request line that never ends keeps sniffing at 'more': each connection buffers ~3 KB.
  const partial = new TextEncoder().encode(`GET /${'a'.repeat(2995)}`);
  const handlers = [];
  const connections = Math.ceil((MAX_UNDECIDED_BYTES * 1.2) / partial.length);
  for (let i = 0; i < connections; i++) {
    const h = registry.open(fakeConn({ index: i, a: { ip: '10.0.0.1', port: 1024 + (i % 60000) } }));
    h.data(0, partial, T0 + i);
    handlers.push(h);
    assert.ok(registry.undecidedBytes <= MAX_UNDECIDED_BYTES);
  }
  assert.ok(stats.droppedBytes >= MAX_UNDECIDED_BYTES * 0.15, `${stats.droppedBytes} bytes dropped at the budget`);
  for (const h of handlers) h.close('end-of-capture', T0 + connections);
  assert.equal(registry.undecidedBytes, 0, 'every buffered byte is returned on close');
});

test('an abandoned connection keeps no buffered bytes', () => {
  const { ctx } = recorder();
  const registry = new DissectorRegistry(ctx);
  const h = registry.open(fakeConn({ aIsClientKnown: false }));
  const noise = new Uint8Array(1448).fill(0x5a);
  for (let sent = 0; sent <= SNIFF_GIVE_UP_BYTES + 8192; sent += noise.length) h.data(0, noise, T0 + sent);
  assert.equal(registry.undecidedBytes, 0);
});

test('a connection no dissector takes is counted once, by the guess of its protocol', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const tls = reg.open(fakeConn({ index: 1 }));
  tls.data(0, Buffer.from('160301020001', 'hex'), T0);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { tls: 1 }, 'counted at the guess, before the connection ends');
  assert.equal(reg.undecidedBytes, 0, 'nothing of it is kept');
  tls.data(1, Buffer.from('160303007a02', 'hex'), T0 + 1);
  tls.close('fin', T0 + 2);
  // Redis: the HTTP/1 sniffer would wait for 4 KiB; the RESP guess ends the wait.
  const redis = reg.open(fakeConn({ index: 2, b: { ip: '10.0.0.2', port: 6379 } }));
  redis.data(0, Buffer.from('*1\r\n$4\r\nPING\r\n'), T0 + 3);
  assert.equal(reg.undecidedBytes, 0);
  redis.close('fin', T0 + 4);
  // Nothing recognisable: "unknown" once the HTTP/1 sniffer gives up and both sides were seen.
  const other = reg.open(fakeConn({ index: 3 }));
  other.data(1, Buffer.from('4a0000000a382e302e333600', 'hex'), T0 + 5);
  other.data(0, Buffer.from([0x01, 0x02, 0x03, 0x00, 0x07]), T0 + 6);
  other.close('fin', T0 + 7);
  // A connection without a byte is no traffic; an HTTP/1 one is dissected, not counted.
  reg.open(fakeConn({ index: 4 })).close('rst', T0 + 8);
  const http = reg.open(fakeConn({ index: 5 }));
  play(http, EXCHANGE);
  http.close('fin', T0 + 30);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { tls: 1, redis: 1, unknown: 1 });
  assert.equal(rec.entries.length, 1);
});

test('an undecided connection that closes is counted by what it looked like (h2c preface cut short)', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn());
  h.data(0, Buffer.from('PRI * HTTP/2.0\r\n'), T0);
  assert.deepEqual({ ...rec.stats.undissected.connections }, {}, 'still undecided');
  h.close('end-of-capture', T0 + 1);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { unknown: 1 });
  const full = reg.open(fakeConn({ index: 2 }));
  full.data(0, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), T0 + 2);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { unknown: 1, http2: 1 });
});

test('joined midway, a guess does not take the connection from HTTP/1: body bytes that look like HTTP/2 or TLS', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn({ aIsClientKnown: false }));
  // The tail of a binary response body: an HTTP/2 SETTINGS frame header and a TLS record header.
  h.data(1, Buffer.from('000000040000000000170303001000', 'hex'), T0);
  h.data(0, Buffer.from('GET /next HTTP/1.1\r\n\r\n'), T0 + 1);
  h.data(1, Buffer.from('\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), T0 + 2);
  h.close('fin', T0 + 3);
  assert.equal(rec.entries.length, 1);
  assert.deepEqual({ ...rec.stats.undissected.connections }, {});
  // A TLS connection joined midway is still named, once HTTP/1 is given up (here: at its close).
  const tls = reg.open(fakeConn({ index: 2, aIsClientKnown: false }));
  tls.data(1, Buffer.from('1703030045aabbccdd', 'hex'), T0 + 4);
  tls.close('idle', T0 + 5);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { tls: 1 });
});
