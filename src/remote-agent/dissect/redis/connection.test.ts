import assert from 'node:assert/strict';
import { test } from 'node:test';
import { c, fakeConn, longestData, play, recorder, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import type { RedisEntry } from './entry.ts';
import { redisDissector } from './index.ts';

const SERVER = { ip: '10.0.0.6', port: 6379 } as const;

/** A command as redis-cli sends it: an array of bulk strings. */
function cmd(...words: string[]): string {
  return `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w, 'latin1')}\r\n${w}\r\n`).join('')}`;
}

function run(steps: readonly Step[], how: Chunking = { kind: 'whole' }, over: Parameters<typeof fakeConn>[0] = {}) {
  const r = recorder();
  const stream = redisDissector.open(fakeConn({ b: SERVER, ...over }), r.ctx);
  play(stream, steps, how);
  stream.close('fin', 0);
  return { entries: r.all as unknown as RedisEntry[], stats: r.stats, metas: r.metas };
}

function summary(e: RedisEntry): string {
  const req = e.request === null ? 'push' : `${e.request.command}${e.request.args.map((a) => ` ${a}`).join('')}`;
  const res = e.response === null ? `none (${e.error?.msg})` : `${e.response.type} ${e.response.value}`;
  return `${e.id} v${e.protocol.version} ${req} -> ${res}${e.subscriptionId === undefined ? '' : ` [sub ${e.subscriptionId}]`}`;
}

/** Every way to cut each data step gives the same entries. */
function everyCut(steps: readonly Step[]): string[] {
  const whole = run(steps).entries.map(summary);
  const longest = longestData(steps);
  for (let at = 1; at < longest; at++) assert.deepEqual(run(steps, { kind: 'split', at }).entries.map(summary), whole, `split at ${at}`);
  assert.deepEqual(run(steps, { kind: 'bytes' }).entries.map(summary), whole, 'byte by byte');
  return whole;
}

test('a pipeline of three commands in one segment, answered in one: paired in order, at every cut', () => {
  const steps = [c(cmd('SET', 'k', 'v') + cmd('GET', 'k') + cmd('LPUSH', 'k', 'x'), 0), s('+OK\r\n$1\r\nv\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n', 500)];
  assert.deepEqual(everyCut(steps), [
    '7-0 v2 SET k v -> Simple String OK',
    '7-1 v2 GET k -> Bulk String v',
    '7-2 v2 LPUSH k x -> Error WRONGTYPE Operation against a key holding the wrong kind of value',
  ]);
  const { entries, metas } = run(steps);
  assert.equal(entries[2]!.response!.errorCode, 'WRONGTYPE');
  assert.equal(entries[0]!.request!.key, 'k');
  assert.equal(entries[0]!.request!.value, 'v');
  assert.equal(entries[0]!.requestSize, cmd('SET', 'k', 'v').length);
  assert.equal(entries[1]!.responseSize, 7);
  assert.equal(run(steps).stats.entries, 3, 'counted in the capture stats');
  // The TCP sequence number of each command's first byte names it across captures.
  assert.deepEqual(metas.map((m) => m.requestSeq), [1_000_000, 1_000_000 + cmd('SET', 'k', 'v').length, 1_000_000 + cmd('SET', 'k', 'v').length + cmd('GET', 'k').length]);
});

test('inline commands (a line of words, quotes kept together) are commands too', () => {
  const steps = [c('PING\r\nset "a key" \'x y\'\r\n\r\nECHO "a\\x41\\n"\r\n', 0), s('+PONG\r\n+OK\r\n$3\r\naA\n\r\n', 100)];
  assert.deepEqual(everyCut(steps), ['7-0 v2 PING -> Simple String PONG', '7-1 v2 SET a key x y -> Simple String OK', '7-2 v2 ECHO aA\\n -> Bulk String aA\\n']);
  assert.equal(run(steps).entries[0]!.request!.type, 'Inline');
});

test('MULTI/EXEC: queued commands answered QUEUED, EXEC lists each with what it got', () => {
  const steps = [
    c(cmd('MULTI') + cmd('INCR', 'n') + cmd('LPOP', 'n') + cmd('EXEC'), 0),
    s('+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n-WRONGTYPE Operation against a key\r\n', 100),
  ];
  const { entries } = run(steps);
  assert.deepEqual(entries.map(summary), [
    '7-0 v2 MULTI -> Simple String OK',
    '7-1 v2 INCR n -> Simple String QUEUED',
    '7-2 v2 LPOP n -> Simple String QUEUED',
    '7-3 v2 EXEC -> Array [1, WRONGTYPE Operation against a key]',
  ]);
  assert.equal(entries[1]!.request!.inTransaction, true);
  assert.deepEqual(entries[3]!.response!.results, [
    { command: 'INCR', key: 'n', type: 'Integer', value: '1', errorCode: '' },
    { command: 'LPOP', key: 'n', type: 'Error', value: 'WRONGTYPE Operation against a key', errorCode: 'WRONGTYPE' },
  ]);
});

test('EXEC answered null (a WATCHed key changed) is an aborted transaction', () => {
  const { entries } = run([c(cmd('WATCH', 'k') + cmd('MULTI') + cmd('SET', 'k', '1') + cmd('EXEC'), 0), s('+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n', 100)]);
  assert.equal(entries[3]!.response!.aborted, true);
  assert.equal(entries[3]!.response!.nil, true);
});

test('RESP2 pub/sub: one confirmation per channel, then message arrays are entries linked to the SUBSCRIBE', () => {
  const steps = [
    c(cmd('SUBSCRIBE', 'a', 'b'), 0),
    s('*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n', 100),
    c(cmd('PSUBSCRIBE', 'n*'), 200),
    s('*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n', 300),
    s('*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nhi\r\n*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$3\r\nyes\r\n', 400),
    c(cmd('PING'), 500),
    s('*2\r\n$4\r\npong\r\n$0\r\n\r\n', 600),
    c(cmd('UNSUBSCRIBE'), 700),
    s('*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n', 800),
  ];
  assert.deepEqual(everyCut(steps), [
    '7-0 v2 SUBSCRIBE a b -> Array [subscribe, a, 1] [subscribe, b, 2]',
    '7-1 v2 PSUBSCRIBE n* -> Array [psubscribe, n*, 3]',
    '7-2 v2 push -> Array [message, b, hi] [sub 7-0]',
    '7-3 v2 push -> Array [pmessage, n*, news, yes] [sub 7-1]',
    '7-4 v2 PING -> Array [pong, ]',
    '7-5 v2 UNSUBSCRIBE -> Array [unsubscribe, a, 2] [unsubscribe, b, 1]',
  ]);
  const push = run(steps).entries[3]!;
  assert.equal(push.request, null);
  assert.deepEqual(push.response!.push, { kind: 'pmessage', pattern: 'n*', channel: 'news', message: 'yes', size: 3 });
  assert.equal(run(steps).entries[0]!.response!.confirmations, 2);
});

test('RESP3 after HELLO 3: maps, sets, doubles, booleans, big numbers, verbatim strings, attributes, pushes', () => {
  const steps = [
    c(cmd('HELLO', '3', 'AUTH', 'default', 'sekrit'), 0),
    s('%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n', 100),
    c(cmd('SMEMBERS', 's') + cmd('ZSCORE', 'z', 'm') + cmd('EXISTS', 'k') + cmd('INCRBY', 'big', '1') + cmd('INFO') + cmd('GET', 'k') + cmd('GET', 'none'), 200),
    s('~2\r\n+a\r\n+b\r\n,3.5\r\n#t\r\n(3492890328409238509324850943850943825024385\r\n=15\r\ntxt:Some string\r\n|1\r\n+ttl\r\n:10\r\n$1\r\nv\r\n_\r\n', 300),
    c(cmd('SUBSCRIBE', 'ch'), 400),
    s('>3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n', 500),
  ];
  assert.deepEqual(everyCut(steps), [
    '7-0 v3 HELLO 3 AUTH default sekrit -> Map {server: redis, proto: 3}',
    '7-1 v3 SMEMBERS s -> Set (a, b)',
    '7-2 v3 ZSCORE z m -> Double 3.5',
    '7-3 v3 EXISTS k -> Boolean true',
    '7-4 v3 INCRBY big 1 -> Big Number 3492890328409238509324850943850943825024385',
    '7-5 v3 INFO -> Verbatim String Some string',
    '7-6 v3 GET k -> Bulk String v',
    '7-7 v3 GET none -> Null (nil)',
    '7-8 v3 SUBSCRIBE ch -> Push [subscribe, ch, 1]',
    '7-9 v3 push -> Push [message, ch, hello] [sub 7-8]',
  ]);
  const { entries } = run(steps);
  assert.equal(entries[5]!.response!.format, 'txt');
  assert.equal(entries[6]!.response!.attributes, '{ttl: 10}');
  assert.equal(entries[7]!.response!.nil, true);
});

test('joined midway: client bytes are taken up at the next command, replies to unseen commands dropped', () => {
  const steps = [
    c('lue-of-an-earlier-set\r\n' + cmd('GET', 'k'), 0),
    s('$5\r\nhello\r\n', 50),
    s(':1\r\n', 150),
  ];
  // The first reply came before any command we saw was sent; the second answers the GET.
  const steps2 = [c('lue-of-an-earlier-set\r\n', 0), s('+OK\r\n', 10), c(cmd('GET', 'k'), 20), s('$1\r\nv\r\n', 30)];
  assert.deepEqual(run(steps2, { kind: 'whole' }, { aIsClientKnown: false }).entries.map(summary), ['7-0 v2 GET k -> Bulk String v']);
  const { entries, stats } = run(steps, { kind: 'whole' }, { aIsClientKnown: false });
  assert.equal(entries.length, 1);
  assert.equal(stats.dissectionErrors, 0);
});

test('a gap: commands waiting leave without a reply, and pairing starts again with the next command', () => {
  const r = recorder();
  const stream = redisDissector.open(fakeConn({ b: SERVER }), r.ctx);
  stream.data(0, Buffer.from(cmd('GET', 'a') + cmd('GET', 'b')), 0);
  stream.gap(1, 100, 10);
  stream.data(1, Buffer.from('ue\r\n$1\r\nb\r\n'), 20);
  stream.data(0, Buffer.from(cmd('GET', 'c')), 30);
  stream.data(1, Buffer.from('$1\r\nc\r\n'), 40);
  stream.close('fin', 50);
  const entries = r.all as unknown as RedisEntry[];
  assert.deepEqual(entries.map(summary), [
    '7-0 v2 GET a -> none (bytes of the connection were lost before the reply)',
    '7-1 v2 GET b -> none (bytes of the connection were lost before the reply)',
    '7-2 v2 GET c -> Bulk String c',
  ]);
});

test('no reply before the timeout: the command leaves with a timeout error', () => {
  const r = recorder({ responseTimeoutUs: 1_000_000 });
  const stream = redisDissector.open(fakeConn({ b: SERVER }), r.ctx);
  stream.data(0, Buffer.from(cmd('BLPOP', 'q', '0')), 0);
  stream.data(0, Buffer.from(cmd('PING')), 2_000_000);
  stream.data(1, Buffer.from('+PONG\r\n'), 2_000_100);
  stream.close('fin', 3_000_000);
  const entries = r.all as unknown as RedisEntry[];
  assert.equal(entries[0]!.error?.type, 'timeout');
  assert.equal(entries[0]!.response, null);
  // The timed-out command's reply never came; PING's did and pairs with PING.
  assert.equal(entries[1]!.response?.value, 'PONG');
});

test('hostile bytes: bad type bytes are violations, the reader resynchronises at the next command', () => {
  const { entries, stats } = run([c(`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, 0), s('?what\r\n', 10), c(cmd('PING'), 20), s('+PONG\r\n', 30)]);
  assert.ok(stats.dissectionErrors >= 1);
  assert.equal(entries.at(-1)!.response?.value, 'PONG');
});

test('a huge bulk string is streamed through: only --max-body bytes are kept, the size is whole', () => {
  const r = recorder({ maxBodyBytes: 16 });
  const stream = redisDissector.open(fakeConn({ b: SERVER }), r.ctx);
  stream.data(0, Buffer.from(cmd('GET', 'big')), 0);
  stream.data(1, Buffer.from('$1000000\r\n'), 10);
  for (let i = 0; i < 100; i++) stream.data(1, Buffer.alloc(10_000, 0x61), 20 + i);
  stream.data(1, Buffer.from('\r\n'), 200);
  stream.close('fin', 300);
  const e = (r.all as unknown as RedisEntry[])[0]!;
  assert.equal(e.response!.size, 1_000_000);
  assert.equal(e.response!.truncated, true);
  assert.equal(e.response!.value, `${'a'.repeat(16)}…`);
  assert.equal(e.responseSize, 1_000_000 + 12);
});
