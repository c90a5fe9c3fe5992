import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dissector, DissectorStream } from './dissector.ts';
import { redisSniffer } from './guess/redis.ts';
import { http1Dissector } from './http1/index.ts';
import { DissectorRegistry, MAX_UNDECIDED_BYTES, SNIFF_GIVE_UP_BYTES, SNIFF_PREFIX_BYTES } from './registry.ts';
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
  // The server's bytes arrive first (a status line cut short), then the client's request decides.
  // The request is stamped first, as on the wire: a response never answers a request sent after it
  // began (http1/connection.ts), so only the arrival order is what this replays.
  h.data(1, Buffer.from('HT'), T0 + 1);
  h.data(0, Buffer.from('GET /x HTTP/1.1\r\n\r\n'), T0);
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
  // Redis is dissected now: a command waits for the reply to confirm it, then gives an entry, not a count.
  const redis = reg.open(fakeConn({ index: 2, b: { ip: '10.0.0.2', port: 6379 } }));
  redis.data(0, Buffer.from('*1\r\n$4\r\nPING\r\n'), T0 + 3);
  redis.data(1, Buffer.from('+PONG\r\n'), T0 + 3);
  assert.equal(reg.undecidedBytes, 0);
  redis.close('fin', T0 + 4);
  assert.deepEqual(rec.all.filter((e) => e.protocol.name === 'redis').length, 1, 'the Redis connection gave its entry');
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
  assert.deepEqual({ ...rec.stats.undissected.connections }, { tls: 1, unknown: 1 });
  assert.equal(rec.entries.length, 1);
});

test('an undecided connection that closes is counted by what it looked like (h2c preface cut short); a whole preface is dissected', () => {
  const rec = recorder();
  const reg = new DissectorRegistry(rec.ctx);
  const h = reg.open(fakeConn());
  h.data(0, Buffer.from('PRI * HTTP/2.0\r\n'), T0);
  assert.deepEqual({ ...rec.stats.undissected.connections }, {}, 'still undecided');
  h.close('end-of-capture', T0 + 1);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { unknown: 1 });
  const full = reg.open(fakeConn({ index: 2 }));
  full.data(0, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), T0 + 2);
  full.close('fin', T0 + 3);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { unknown: 1 }, 'HTTP/2 is dissected now, not counted');
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

/** A dissector that records what its stream receives; `confirmReply` optional. */
function recordingDissector(id: string, sniff: Dissector['sniff'], confirmReply?: Dissector['confirmReply']) {
  const events: string[] = [];
  const dissector: Dissector = {
    id,
    protocol: id,
    ports: [],
    sniff,
    ...(confirmReply === undefined ? {} : { confirmReply }),
    open: (): DissectorStream => {
      events.push('open');
      return {
        data: (dir, bytes) => void events.push(`${dir}:${Buffer.from(bytes).toString('latin1')}`),
        gap: (dir, lost) => void events.push(`${dir}:gap ${lost}`),
        end: (dir) => void events.push(`${dir}:end`),
        close: () => void events.push('close'),
        oldestPendingUs: () => Infinity,
      };
    },
  };
  return { dissector, events };
}

/**
 * RESP-like: a command opens with '*', a reply with '+' ('.' keeps a reply undecided); either one
 * matches its own direction and confirms the other, as the real RESP sniffer does.
 */
const respGrammar: Dissector['sniff'] = (p, dir) => {
  if (p.length === 0 || (dir === 'to-client' && p[0] === 0x2e)) return 'more';
  return p[0] === (dir === 'to-server' ? 0x2a : 0x2b) ? 'match' : 'no';
};
const respLike = () => recordingDissector('resp', respGrammar, respGrammar);
const takesAnything = () => recordingDissector('any', () => 'match');

test('a dissector that wants its reply to confirm it is pinned only once the reply does; everything is replayed in order', () => {
  const rec = recorder();
  const resp = respLike();
  const any = takesAnything();
  const reg = new DissectorRegistry(rec.ctx, [resp.dissector, any.dissector]);
  const h = reg.open(fakeConn());
  h.data(0, Buffer.from('*1 PING'), T0);
  h.data(0, Buffer.from(' more'), T0 + 1);
  assert.equal(reg.liveStreams, 0, 'undecided until the reply');
  assert.deepEqual([resp.events, any.events], [[], []], 'the next dissector is not asked while one waits');
  assert.equal(reg.oldestPendingUs(), T0, 'the waiting bytes still hold the orderer');
  h.data(1, Buffer.from('+PONG'), T0 + 2);
  assert.equal(reg.liveStreams, 1);
  assert.deepEqual(resp.events, ['open', '0:*1 PING', '0: more', '1:+PONG']);
  h.data(0, Buffer.from('*after'), T0 + 3);
  assert.deepEqual(resp.events.slice(4), ['0:*after']);
  assert.deepEqual(any.events, []);
  // The reply came first (server speaks first, or an earlier request was lost): confirmed at once.
  const early = respLike();
  const reg2 = new DissectorRegistry(rec.ctx, [early.dissector]);
  const h2 = reg2.open(fakeConn({ aIsClientKnown: false }));
  h2.data(1, Buffer.from('+OK'), T0);
  h2.data(0, Buffer.from('*1 GET'), T0 + 1);
  assert.deepEqual(early.events, ['open', '1:+OK', '0:*1 GET']);
});

test('a reply that refuses the waiting dissector moves on to the next one, with the bytes of both directions', () => {
  const rec = recorder();
  const resp = respLike();
  const any = takesAnything();
  const reg = new DissectorRegistry(rec.ctx, [resp.dissector, any.dissector]);
  const h = reg.open(fakeConn());
  h.data(0, Buffer.from('*1 PING'), T0);
  h.data(1, Buffer.from('220 smtp ready'), T0 + 1);
  assert.deepEqual(resp.events, [], 'refused: never opened');
  assert.deepEqual(any.events, ['open', '0:*1 PING', '1:220 smtp ready']);
  // A refusal with no dissector left leaves the connection to the guess: nothing kept, nothing emitted.
  const alone = respLike();
  const reg2 = new DissectorRegistry(rec.ctx, [alone.dissector]);
  const h2 = reg2.open(fakeConn({ index: 2 }));
  h2.data(0, Buffer.from('*1 PING'), T0);
  h2.data(1, Buffer.from('nope'), T0 + 1);
  h2.close('fin', T0 + 2);
  assert.deepEqual(alone.events, []);
  assert.equal(reg2.undecidedBytes, 0);
  assert.equal(rec.stats.undissected.connections.unknown, 1);
});

test('a reply that stays undecided is waited for within the sniff prefix, then refuses', () => {
  const rec = recorder();
  const resp = respLike();
  const any = takesAnything();
  const reg = new DissectorRegistry(rec.ctx, [resp.dissector, any.dissector]);
  const h = reg.open(fakeConn());
  h.data(0, Buffer.from('*1 PING'), T0);
  // '.' keeps the fake's confirmReply at 'more' however long the reply runs.
  h.data(1, Buffer.alloc(SNIFF_PREFIX_BYTES - 1, 0x2e), T0 + 1);
  assert.equal(reg.liveStreams, 0);
  h.data(1, Buffer.from('.'), T0 + 2);
  assert.equal(any.events[0], 'open', 'past the prefix the reply counts as a refusal');
  assert.deepEqual(resp.events, []);
  // Requests without any reply are not buffered past the mid-connection sniff window either.
  const lone = respLike();
  const other = takesAnything();
  const reg2 = new DissectorRegistry(rec.ctx, [lone.dissector, other.dissector]);
  const h2 = reg2.open(fakeConn({ index: 2 }));
  h2.data(0, Buffer.from('*'), T0);
  for (let sent = 1; sent <= SNIFF_GIVE_UP_BYTES; sent += 1000) h2.data(0, Buffer.alloc(1000, 0x41), T0 + sent);
  assert.equal(other.events[0], 'open');
});

test('with the real RESP sniffer: a Redis-looking request answered by non-RESP bytes is not Redis; a RESP answer is', () => {
  const rec = recorder();
  const redisLike = () => recordingDissector('redis', redisSniffer.sniff, redisSniffer.sniff);
  const command = Buffer.from('*1\r\n$4\r\nPING\r\n');
  // A POP3 server's greeting starts with "+OK" too, but not the RESP "+OK\r\n".
  const pop3 = redisLike();
  const reg = new DissectorRegistry(rec.ctx, [pop3.dissector, http1Dissector]);
  const h = reg.open(fakeConn({ b: { ip: '10.0.0.2', port: 6379 } }));
  h.data(0, command, T0);
  h.data(1, Buffer.from('+OK POP3 server ready\r\n'), T0 + 1);
  h.close('fin', T0 + 2);
  assert.deepEqual(pop3.events, [], 'not pinned to the RESP dissector');
  assert.equal(rec.entries.length, 0);
  // The RESP guess, which reads only the request, is overruled by the refusing reply.
  assert.deepEqual({ ...rec.stats.undissected.connections }, { unknown: 1 });
  const redis = redisLike();
  const reg2 = new DissectorRegistry(rec.ctx, [redis.dissector, http1Dissector]);
  const h2 = reg2.open(fakeConn({ index: 2, b: { ip: '10.0.0.2', port: 6379 } }));
  h2.data(0, command, T0);
  h2.data(1, Buffer.from('+PO'), T0 + 1);
  assert.deepEqual(redis.events, [], 'a reply cut short is waited for');
  h2.data(1, Buffer.from('NG\r\n'), T0 + 2);
  assert.deepEqual(redis.events, ['open', `0:${command.toString('latin1')}`, '1:+PO', '1:NG\r\n']);
  assert.deepEqual({ ...rec.stats.undissected.connections }, { unknown: 1 }, 'a dissected connection is not counted');
});
