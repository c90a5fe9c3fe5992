/**
 * One HTTP/2 connection end to end in the dissect stage, through the registry (so the sniff is the
 * one that picks it): hand-built frame sequences for each rule of RFC 9113 the connection follows.
 * The main cases run whole, split at every offset and byte by byte, and must agree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import type { Entry } from '../../../model/entry.ts';
import type { CaptureStats } from '../../stats.ts';
import type { DissectOptions, EntryMeta } from '../dissector.ts';
import { isHttpEntry, type HttpEntry } from '../http1/entry.ts';
import { http1Dissector } from '../http1/index.ts';
import { DissectorRegistry } from '../registry.ts';
import { SEQ_ORIGIN, fakeConn, longestData, play, recorder, c, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';
import { F, PREFACE, REQUEST, T, block, data, frame, goaway, headers, indexed, indexedLiteral, literal, ping, rst, settings, settingsAck, windowUpdate } from '../../../../test/helpers/h2-frames.ts';
import type { ConnectionInfo } from '../../tcp/stream.ts';
import { DEFAULT_HTTP2_LIMITS, Http2Connection } from './connection.ts';
import { http2Dissector } from './index.ts';

interface Run {
  readonly entries: HttpEntry[];
  readonly all: Entry[];
  readonly metas: EntryMeta[];
  readonly stats: CaptureStats;
}

function run(steps: readonly Step[], how: Chunking = { kind: 'whole' }, conn: Partial<ConnectionInfo> = {}, options: Partial<DissectOptions> = {}): Run {
  const rec = recorder(options);
  const registry = new DissectorRegistry(rec.ctx, [http2Dissector, http1Dissector]);
  play(registry.open(fakeConn(conn)), steps, how);
  return { entries: rec.entries, all: rec.all, metas: rec.metas, stats: rec.stats };
}

function runEveryWay(steps: readonly Step[], conn: Partial<ConnectionInfo> = {}): Run {
  const whole = run(steps, { kind: 'whole' }, conn);
  const n = longestData(steps);
  for (let at = 1; at < n; at++) assert.deepEqual(run(steps, { kind: 'split', at }, conn), whole, `split at ${at}`);
  assert.deepEqual(run(steps, { kind: 'bytes' }, conn), whole, 'byte by byte');
  return whole;
}

const CLIENT_OPEN = Buffer.concat([PREFACE, settings([[4, 65535]])]);
const SERVER_OPEN = Buffer.concat([settings([[3, 100]]), settingsAck()]);
const OK_TEXT: Array<[string, string]> = [
  [':status', '200'],
  ['content-type', 'text/plain'],
];

test('prior knowledge: one GET and its response, HAR-shaped, with sizes, ids and the request sequence', () => {
  const reqHeaders = headers(1, [...REQUEST('/a/b?x=1&y=2&x=3'), ['user-agent', 'test'], ['cookie', 'a=1'], ['cookie', 'b=2']], true);
  const resHeaders = headers(1, [...OK_TEXT, ['set-cookie', 's=1; Path=/'], ['set-cookie', 't=2']]);
  const body = data(1, 'hello world', true);
  const r = runEveryWay([
    c(Buffer.concat([CLIENT_OPEN, reqHeaders]), 0),
    s(Buffer.concat([SERVER_OPEN, resHeaders, body]), 2500),
    { close: 'fin', us: 3000 },
  ]);
  assert.equal(r.entries.length, 1);
  const e = r.entries[0]!;
  assert.equal(e.id, '7-0');
  assert.deepEqual(e.protocol, { name: 'http', version: '2.0', abbr: 'HTTP/2' });
  assert.deepEqual(e.http2, { streamId: 1 });
  assert.equal(e.request.method, 'GET');
  assert.equal(e.request.url, '/a/b?x=1&y=2&x=3');
  assert.equal(e.request.path, '/a/b');
  assert.deepEqual(e.request.queryString, { x: ['1', '3'], y: '2' });
  assert.equal(e.request.httpVersion, 'HTTP/2.0');
  assert.equal(e.request.headers[':path'], '/a/b?x=1&y=2&x=3');
  assert.equal(e.request.headers[':authority'], 'example.test');
  // RFC 9113 §8.2.3: cookie fields are joined with "; ".
  assert.equal(e.request.headers['cookie'], 'a=1; b=2');
  assert.deepEqual(e.request.cookies, { a: '1', b: '2' });
  assert.equal(e.request.headersSize, reqHeaders.length - 9, 'the HPACK block bytes');
  assert.equal(e.request.bodySize, 0);
  assert.equal(e.request.postData, null);
  assert.equal(e.response?.status, 200);
  assert.equal(e.response?.statusText, 'OK');
  assert.equal(e.response?.httpVersion, 'HTTP/2.0');
  assert.equal(e.response?.headers['set-cookie'], 's=1; Path=/\nt=2');
  assert.deepEqual(e.response?.cookies, { s: '1', t: '2' });
  assert.equal(e.response?.bodySize, 11);
  assert.equal(e.response?.content.text, 'hello world');
  assert.equal(e.response?.content.mimeType, 'text/plain');
  assert.equal(e.response?.headersSize, resHeaders.length - 9);
  assert.equal(e.requestSize, reqHeaders.length, 'frames of the stream from the client');
  assert.equal(e.responseSize, resHeaders.length + body.length);
  assert.equal(e.elapsedTime, 2.5, 'response HEADERS start minus request HEADERS start (ms)');
  assert.equal(e.error, null);
  assert.deepEqual(r.metas[0], { requestSeq: SEQ_ORIGIN[0] + CLIENT_OPEN.length });
  assert.equal(r.stats.dissectionErrors, 0);
});

test('many concurrent streams, interleaved: one entry each, numbered in request order, each with its own body', () => {
  const ids = [1, 3, 5, 7, 9];
  const reqs = ids.map((id) => frame(T.HEADERS, F.END_HEADERS, id, block([...REQUEST(`/p${id}`, 'POST'), ['content-type', 'application/json']])));
  const reqBodies = ids.map((id) => data(id, `{"n":${id}}`, true));
  const resHeads = ids.map((id) => headers(id, OK_TEXT));
  // Responses complete in reverse order, their DATA interleaved.
  const server = [SERVER_OPEN, ...resHeads.reverse(), ...ids.map((id) => data(id, `part1-${id};`)), ...ids.reverse().map((id) => data(id, `part2-${id}`, true))];
  const r = run([c(Buffer.concat([CLIENT_OPEN, ...reqs, ...reqBodies])), s(Buffer.concat(server)), { close: 'fin' }]);
  assert.equal(r.entries.length, 5);
  const byStream = new Map(r.entries.map((e) => [e.http2!.streamId, e]));
  for (const [i, id] of [1, 3, 5, 7, 9].entries()) {
    const e = byStream.get(id)!;
    assert.equal(e.id, `7-${i}`);
    assert.equal(e.request.path, `/p${id}`);
    assert.equal(e.request.postData?.text, `{"n":${id}}`);
    assert.equal(e.request.postData?.mimeType, 'application/json');
    assert.equal(e.response?.content.text, `part1-${id};part2-${id}`);
  }
  assert.deepEqual(
    r.entries.map((e) => e.http2!.streamId),
    [9, 7, 5, 3, 1],
    'entries leave as their streams complete',
  );
});

test('CONTINUATION: a header block in three frames is one request', () => {
  const blk = block([...REQUEST('/continued'), ['x-long', 'v'.repeat(300)], ['x-more', 'yes']]);
  const parts = [blk.subarray(0, 50), blk.subarray(50, 200), blk.subarray(200)];
  const frames = Buffer.concat([
    frame(T.HEADERS, F.END_STREAM, 1, parts[0]),
    frame(T.CONTINUATION, 0, 1, parts[1]),
    frame(T.CONTINUATION, F.END_HEADERS, 1, parts[2]),
  ]);
  const r = runEveryWay([c(Buffer.concat([CLIENT_OPEN, frames])), s(Buffer.concat([SERVER_OPEN, headers(1, OK_TEXT, true)])), { close: 'fin' }]);
  assert.equal(r.entries.length, 1);
  const e = r.entries[0]!;
  assert.equal(e.request.path, '/continued');
  assert.equal(e.request.headers['x-long'], 'v'.repeat(300));
  assert.equal(e.request.headers['x-more'], 'yes');
  assert.equal(e.request.headersSize, blk.length);
  assert.equal(e.requestSize, frames.length);
});

test('padding and priority: removed from HEADERS and DATA, bodySize counts data only', () => {
  const blk = block(REQUEST('/padded', 'POST'));
  // HEADERS: pad length 3, then 5 priority bytes, the block, 3 bytes of padding.
  const hp = Buffer.concat([Buffer.from([3]), Buffer.from([0x80, 0, 0, 0, 15]), blk, Buffer.alloc(3)]);
  const hdr = frame(T.HEADERS, F.END_HEADERS | F.PADDED | F.PRIORITY, 1, hp);
  const dp = Buffer.concat([Buffer.from([7]), Buffer.from('payload'), Buffer.alloc(7)]);
  const dat = frame(T.DATA, F.PADDED | F.END_STREAM, 1, dp);
  const prio = frame(T.PRIORITY, 0, 3, Buffer.from([0, 0, 0, 1, 10]));
  const r = runEveryWay([c(Buffer.concat([CLIENT_OPEN, hdr, prio, dat])), s(Buffer.concat([SERVER_OPEN, headers(1, [[':status', '204']], true)])), { close: 'fin' }]);
  assert.equal(r.entries.length, 1);
  const e = r.entries[0]!;
  assert.equal(e.request.path, '/padded');
  assert.equal(e.request.bodySize, 7);
  assert.equal(e.request.postData?.text, 'payload');
  assert.equal(e.request.headersSize, blk.length);
  assert.equal(e.response?.status, 204);
  assert.equal(e.response?.statusText, 'No Content');
  assert.equal(r.stats.dissectionErrors, 0);
});

test('RST_STREAM: the entry leaves at once with http2.reset and an error; a NO_ERROR reset after a whole response is no error', () => {
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/slow'), true), headers(3, REQUEST('/done'), false)])),
    s(Buffer.concat([SERVER_OPEN, headers(1, OK_TEXT), data(1, 'partial'), headers(3, OK_TEXT, true)])),
    c(rst(1, 8)),
    s(rst(3, 0)),
  ]);
  assert.equal(r.entries.length, 2);
  const [cancelled, done] = r.entries;
  assert.equal(cancelled!.request.path, '/slow');
  assert.deepEqual(cancelled!.http2, { streamId: 1, reset: { by: 'client', code: 8, name: 'CANCEL' } });
  assert.deepEqual(cancelled!.error, { type: 'connection', msg: 'stream reset by the client (CANCEL)' });
  assert.equal(cancelled!.response?.bodySize, 7);
  assert.equal(done!.request.path, '/done');
  assert.deepEqual(done!.http2, { streamId: 3, reset: { by: 'server', code: 0, name: 'NO_ERROR' } });
  assert.equal(done!.error, null);
});

test('GOAWAY: pending streams above the last stream id end with an error; the ones below go on', () => {
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/one'), true), headers(3, REQUEST('/three'), true), headers(5, REQUEST('/five'), true)])),
    s(Buffer.concat([SERVER_OPEN, goaway(1, 0)])),
  ]);
  assert.deepEqual(
    r.entries.map((e) => [e.request.path, e.error?.msg]),
    [
      ['/three', 'the server sent GOAWAY (NO_ERROR, last stream 1): stream not processed'],
      ['/five', 'the server sent GOAWAY (NO_ERROR, last stream 1): stream not processed'],
    ],
  );
  const more = run([
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/one'), true), headers(3, REQUEST('/three'), true)])),
    s(Buffer.concat([SERVER_OPEN, goaway(1, 0), headers(1, OK_TEXT, true)])),
  ]);
  assert.deepEqual(
    more.entries.map((e) => [e.request.path, e.response?.status ?? null]),
    [
      ['/three', null],
      ['/one', 200],
    ],
  );
});

test('trailers: the HEADERS after the body are response.trailers; informational 1xx responses are skipped', () => {
  const r = runEveryWay([
    c(Buffer.concat([CLIENT_OPEN, headers(1, [...REQUEST('/t', 'POST'), ['expect', '100-continue']])])),
    s(Buffer.concat([SERVER_OPEN, headers(1, [[':status', '100']])])),
    c(data(1, 'body', true)),
    s(Buffer.concat([headers(1, OK_TEXT), data(1, 'answer'), headers(1, [['x-checksum', 'abc'], ['x-count', '1']], true)])),
    { close: 'fin' },
  ]);
  assert.equal(r.entries.length, 1);
  const e = r.entries[0]!;
  assert.equal(e.response?.status, 200);
  assert.equal(e.response?.content.text, 'answer');
  assert.deepEqual(e.response?.trailers, { 'x-checksum': 'abc', 'x-count': '1' });
  assert.equal(e.request.bodySize, 4);
});

test('flow control and PING are read and ignored; their bytes count in the stream sizes when on a stream', () => {
  const reqH = headers(1, REQUEST('/wu', 'POST'));
  const wu = windowUpdate(1, 1000);
  const body = data(1, 'x', true);
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, ping(), windowUpdate(0, 1 << 20), reqH, body])),
    s(Buffer.concat([SERVER_OPEN, ping(true), wu, headers(1, OK_TEXT, true)])),
  ]);
  assert.equal(r.entries.length, 1);
  assert.equal(r.entries[0]!.requestSize, reqH.length + body.length);
  assert.equal(r.entries[0]!.responseSize, wu.length + headers(1, OK_TEXT, true).length);
});

test('PUSH_PROMISE: the pushed response is an entry whose request is the promised one', () => {
  const promise = Buffer.concat([Buffer.from([0, 0, 0, 2]), block(REQUEST('/style.css'))]);
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/index.html'), true)])),
    s(Buffer.concat([SERVER_OPEN, frame(T.PUSH_PROMISE, F.END_HEADERS, 1, promise), headers(1, OK_TEXT), data(1, '<html>', true), headers(2, [[':status', '200'], ['content-type', 'text/css']]), data(2, 'body{}', true)])),
  ]);
  assert.deepEqual(
    r.entries.map((e) => [e.id, e.http2?.streamId, e.request.path, e.response?.status, e.response?.content.text]),
    [
      ['7-0', 1, '/index.html', 200, '<html>'],
      ['7-1', 2, '/style.css', 200, 'body{}'],
    ],
  );
  assert.equal(r.entries[1]!.src.ip, '10.0.0.1', 'the pushed stream is the client\'s');
  // The pushed request's first byte is the PUSH_PROMISE's, in the server's direction.
  assert.deepEqual(r.metas[1], { requestSeq: SEQ_ORIGIN[1] + SERVER_OPEN.length });
});

test('end of capture and timeouts: pending streams leave with the reason, like HTTP/1', () => {
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/never'), true), headers(3, REQUEST('/half'), true)])),
    s(Buffer.concat([SERVER_OPEN, headers(3, OK_TEXT), data(3, 'par')])),
    { close: 'end-of-capture' },
  ]);
  assert.deepEqual(
    r.entries.map((e) => [e.request.path, e.error?.msg]),
    [
      ['/never', 'capture ended before the response'],
      ['/half', 'capture ended inside the response'],
    ],
  );
  assert.equal(r.stats.unpairedRequests, 1);
  const timed = run(
    [c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/slow'), true)]), 0), s(SERVER_OPEN, 10), c(ping(), 5_000_000)],
    { kind: 'whole' },
    {},
    { responseTimeoutUs: 2_000_000 },
  );
  assert.deepEqual(timed.entries.map((e) => [e.request.path, e.error?.type]), [['/slow', 'timeout']]);
});

test('a header block that needs an unknown table: the stream is counted lost, never shown with a wrong header', () => {
  // Joined midway (no SYN, no preface): frames start at a boundary, the HPACK table is unknown.
  const known = headers(5, REQUEST('/literal-only'), true);
  const needsTable = frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 7, Buffer.concat([indexed(62), literal(':path', '/x')]));
  const r = run(
    [c(Buffer.concat([needsTable, known, data(5, '')])), s(Buffer.concat([headers(7, OK_TEXT, true), headers(5, OK_TEXT, true), settings()]))],
    { kind: 'whole' },
    { aIsClientKnown: false },
  );
  assert.deepEqual(r.entries.map((e) => [e.http2?.streamId, e.request.path, e.response?.status]), [[5, '/literal-only', 200]]);
  assert.equal(r.stats.protocols['http']?.lost, 1, 'stream 7 counted lost once');
});

test('a capture that starts inside a DATA frame finds the frames after it', () => {
  const tail = Buffer.concat([Buffer.from('…the end of somebody\'s body'), data(1, 'rest', true)]);
  const r = run(
    [c(Buffer.concat([tail, headers(3, REQUEST('/after'), true), ping()])), s(Buffer.concat([headers(3, OK_TEXT, true), ping(true), ping(true)]))],
    { kind: 'whole' },
    { aIsClientKnown: false },
  );
  assert.deepEqual(r.entries.map((e) => [e.http2?.streamId, e.request.path, e.response?.status]), [[3, '/after', 200]]);
});

test('SETTINGS_HEADER_TABLE_SIZE applies once acknowledged: a table of 0 keeps nothing', () => {
  // The client allows the server a table of 0 bytes; the server acknowledges, then indexes a field
  // (kept nowhere) and refers to it: the block cannot be decoded, and the response is not invented.
  const res1 = frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 1, Buffer.concat([literal(':status', '200'), indexedLiteral('x-tag', 'one')]));
  const res3 = frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, 3, Buffer.concat([literal(':status', '200'), indexed(62)]));
  const r = run([
    c(Buffer.concat([PREFACE, settings([[1, 0]]), headers(1, REQUEST('/1'), true), headers(3, REQUEST('/3'), true)])),
    s(Buffer.concat([settings(), settingsAck(), res1, res3])),
  ]);
  assert.deepEqual(r.entries.map((e) => [e.request.path, e.response?.status ?? null]), [['/1', 200], ['/3', null]]);
  assert.match(r.entries[1]!.error?.msg ?? '', /could not be decoded/);
});

test('bytes lost inside a DATA payload: the body counts them and the entry says so; framing goes on', () => {
  const body = 'x'.repeat(100);
  const resData = data(1, body, true);
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/big'), true), headers(3, REQUEST('/next'), true)])),
    s(Buffer.concat([SERVER_OPEN, headers(1, OK_TEXT), resData.subarray(0, 30)])),
    { gap: 40, dir: 1 },
    s(Buffer.concat([resData.subarray(70), headers(3, OK_TEXT, true)])),
  ]);
  assert.deepEqual(r.entries.map((e) => [e.request.path, e.response?.bodySize, e.error?.type ?? null]), [['/big', 100, 'dissection'], ['/next', 0, null]]);
});

test('bytes lost across frames: the direction hunts for frames again, its table is unknown, open streams end with an error', () => {
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/cut'), true), headers(3, REQUEST('/after'), true)])),
    s(Buffer.concat([SERVER_OPEN, headers(1, OK_TEXT), data(1, 'abc')])),
    { gap: 50, dir: 1 },
    s(Buffer.concat([Buffer.from('garbage'), headers(3, OK_TEXT, true), ping(true), ping(true), data(1, 'z', true)])),
    { close: 'fin' },
  ]);
  const byPath = new Map(r.entries.map((e) => [e.request.path, e]));
  assert.equal(byPath.get('/after')?.response?.status, 200, 'literal-only headers decode without the table');
  assert.equal(byPath.get('/after')?.error, null);
  assert.equal(byPath.get('/cut')?.error?.type, 'dissection');
  assert.match(byPath.get('/cut')?.error?.msg ?? '', /lost in the capture/);
});

test('h2c: the upgrade request is stream 1\'s request, answered over HTTP/2, one entry; the 101 is no entry', () => {
  const upgrade =
    'GET /up?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n';
  const switching = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';
  const r = runEveryWay([
    c(upgrade, 0),
    s(Buffer.concat([Buffer.from(switching), SERVER_OPEN, headers(1, OK_TEXT), data(1, 'upgraded', true)]), 4000),
    c(Buffer.concat([CLIENT_OPEN, settingsAck(), headers(3, REQUEST('/second'), true)]), 5000),
    s(headers(3, [[':status', '404']], true), 6000),
    { close: 'fin', us: 7000 },
  ]);
  assert.deepEqual(
    r.entries.map((e) => [e.id, e.http2?.streamId, e.request.method, e.request.url, e.request.httpVersion, e.response?.status, e.response?.httpVersion]),
    [
      ['7-0', 1, 'GET', '/up?q=1', 'HTTP/1.1', 200, 'HTTP/2.0'],
      ['7-1', 3, 'GET', '/second', 'HTTP/2.0', 404, 'HTTP/2.0'],
    ],
  );
  const up = r.entries[0]!;
  assert.equal(up.request.headers['Upgrade'], 'h2c');
  assert.equal(up.response?.content.text, 'upgraded');
  assert.equal(up.requestSize, upgrade.length);
  assert.equal(up.elapsedTime, 4, 'from the HTTP/1.1 request to the HTTP/2 response HEADERS');
  assert.deepEqual(r.metas[0], { requestSeq: SEQ_ORIGIN[0] });
  assert.equal(r.all.length, 2, 'nothing else: no 101 entry');
  assert.equal(r.stats.dissectionErrors, 0);
});

test('a server that speaks first (its SETTINGS alone in a segment, as nghttpd does) is HTTP/2 from that segment', () => {
  const r = run([s(settings([[3, 100]])), c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/first'), true)])), s(Buffer.concat([settingsAck(), headers(1, OK_TEXT, true)]))]);
  assert.deepEqual(r.entries.map((e) => [e.request.path, e.response?.status]), [['/first', 200]]);
  assert.deepEqual({ ...r.stats.undissected.connections }, {});
});

test('a WebSocket upgrade keeps its 101 entry (the hand-off to HTTP/2 is for h2c only)', () => {
  const r = run([
    c('GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    s('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    { close: 'fin' },
  ]);
  assert.deepEqual(r.entries.map((e) => [e.request.url, e.response?.status]), [['/ws', 101]]);
});

test('sniff: the preface, the server SETTINGS, or a frame chain; text and TLS are not HTTP/2', () => {
  assert.equal(http2Dissector.sniff(PREFACE, 'to-server'), 'match');
  assert.equal(http2Dissector.sniff(PREFACE.subarray(0, 10), 'to-server'), 'more');
  assert.equal(http2Dissector.sniff(settings([[3, 100]]), 'to-client'), 'match', 'a server speaks first: its SETTINGS alone');
  assert.equal(http2Dissector.sniff(Buffer.concat([settings([[3, 100]]), Buffer.from('170303', 'hex')]), 'to-client'), 'no', 'SETTINGS and then no frame (a TLS record header)');
  assert.equal(http2Dissector.sniff(Buffer.concat([settings([[3, 100]]), Buffer.from('0000', 'hex')]), 'to-client'), 'more', 'SETTINGS and the start of a frame');
  assert.equal(http2Dissector.sniff(Buffer.concat([settings([[3, 100]]), settings()]), 'to-client'), 'match');
  assert.equal(http2Dissector.sniff(Buffer.concat([headers(1, REQUEST('/')), data(1, 'x')]), 'to-server'), 'match');
  assert.equal(http2Dissector.sniff(Buffer.concat([Buffer.from('tail of a body'), headers(1, REQUEST('/')), data(1, 'x'), ping()]), 'to-server'), 'match');
  assert.equal(http2Dissector.sniff(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'to-server'), 'no');
  assert.equal(http2Dissector.sniff(Buffer.from('HTTP/1.1 200 OK\r\n'), 'to-client'), 'no');
  assert.equal(http2Dissector.sniff(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), 'to-server'), 'no');
  assert.equal(http2Dissector.sniff(headers(1, REQUEST('/')).subarray(0, 20), 'to-server'), 'more');
  assert.equal(http2Dissector.sniff(headers(1, REQUEST('/')).subarray(0, 5), 'to-server'), 'more');
  assert.equal(http2Dissector.sniff(Buffer.from('PING\r\n'), 'to-server'), 'no', 'a short text command is no frame');
  assert.equal(http2Dissector.sniff(Buffer.from('PRI'), 'to-server'), 'more', 'the preface may follow');
});

test('hostile: a CONTINUATION chain past the header block bound is not kept, counted as a violation, and the next streams still work', () => {
  const chunk = Buffer.alloc(16_000, 0x41);
  const frames: Buffer[] = [frame(T.HEADERS, 0, 1, block(REQUEST('/huge')))];
  for (let i = 0; i < 40; i++) frames.push(frame(T.CONTINUATION, 0, 1, chunk));
  frames.push(frame(T.CONTINUATION, F.END_HEADERS | F.END_STREAM, 1, chunk));
  const r = run([
    c(Buffer.concat([CLIENT_OPEN, ...frames, headers(3, REQUEST('/fine'), true)])),
    s(Buffer.concat([SERVER_OPEN, headers(3, OK_TEXT, true)])),
  ]);
  assert.deepEqual(r.entries.map((e) => [e.request.path, e.response?.status]), [['/fine', 200]]);
  assert.ok(r.stats.dissectionErrors >= 1);
  assert.equal(r.stats.protocols['http']?.lost, 1);
  assert.ok(r.all.every(isHttpEntry));
});

test('hostile frames (property): random frame sequences, cut anywhere, midway or not, never throw and every entry is well-formed', () => {
  const anyFrame = fc.oneof(
    fc.record({ type: fc.integer({ min: 0, max: 12 }), flags: fc.integer({ min: 0, max: 255 }), stream: fc.integer({ min: 0, max: 9 }), payload: fc.uint8Array({ maxLength: 40 }) }).map((f) => frame(f.type, f.flags, f.stream, f.payload)),
    fc.record({ stream: fc.integer({ min: 1, max: 9 }).map((n) => n | 1), path: fc.string({ maxLength: 8 }), end: fc.boolean() }).map((r) => headers(r.stream, REQUEST(`/${r.path}`), r.end)),
    fc.record({ stream: fc.integer({ min: 1, max: 9 }), status: fc.integer({ min: 100, max: 599 }), end: fc.boolean() }).map((r) => headers(r.stream, [[':status', String(r.status)]], r.end)),
    fc.record({ stream: fc.integer({ min: 1, max: 9 }), body: fc.uint8Array({ maxLength: 30 }), end: fc.boolean() }).map((r) => data(r.stream, r.body, r.end)),
    fc.record({ stream: fc.integer({ min: 1, max: 9 }), index: fc.integer({ min: 1, max: 200 }) }).map((r) => frame(T.HEADERS, F.END_HEADERS, r.stream, indexed(r.index))),
    fc.integer({ min: 0, max: 1 << 20 }).map((size) => settings([[1, size]])),
    fc.constant(settingsAck()),
    fc.record({ last: fc.integer({ min: 0, max: 9 }), code: fc.integer({ min: 0, max: 20 }) }).map((g) => goaway(g.last, g.code)),
    fc.record({ stream: fc.integer({ min: 1, max: 9 }), code: fc.integer({ min: 0, max: 20 }) }).map((g) => rst(g.stream, g.code)),
    fc.uint8Array({ minLength: 1, maxLength: 20 }).map((b) => Buffer.from(b)),
  );
  const side = fc.array(anyFrame, { maxLength: 25 }).map((fs) => Buffer.concat(fs));
  fc.assert(
    fc.property(side, side, fc.boolean(), fc.integer({ min: 1, max: 64 }), fc.boolean(), (client, server, preface, at, known) => {
      const steps: Step[] = [c(preface ? Buffer.concat([PREFACE, client]) : client, 0), s(server, 10), { gap: at, dir: 1, us: 20 }, s(server, 30), { close: 'end-of-capture', us: 40 }];
      const r = run(steps, { kind: 'split', at }, { aIsClientKnown: known });
      for (const e of r.entries) {
        assert.equal(typeof e.request.method, 'string');
        assert.equal(typeof e.request.url, 'string');
        assert.ok(e.http2 === undefined || Number.isInteger(e.http2.streamId));
      }
      assert.equal(r.stats.internalErrors, 0);
    }),
    { numRuns: Number(process.env.SHARK_H2_RUNS ?? 400) },
  );
});

test('bodies are decoded like HTTP/1 (content-encoding) and kept up to --max-body; the sizes count everything', () => {
  const text = 'compressible '.repeat(200);
  const gz = gzipSync(Buffer.from(text));
  const steps: Step[] = [
    c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/gz'), true), headers(3, REQUEST('/big', 'POST')), data(3, 'y'.repeat(500), true)])),
    s(Buffer.concat([SERVER_OPEN, headers(1, [...OK_TEXT, ['content-encoding', 'gzip']]), data(1, gz.subarray(0, 40)), data(1, gz.subarray(40), true), headers(3, [[':status', '201']], true)])),
  ];
  const r = run(steps, { kind: 'whole' }, {}, { maxBodyBytes: 100 });
  const [gzEntry, big] = r.entries;
  assert.equal(gzEntry!.response?.bodySize, gz.length, 'bodySize: DATA bytes as sent (compressed)');
  assert.equal(gzEntry!.response?.content.size, text.length, 'content.size: decoded');
  assert.equal(gzEntry!.response?.content.text, text.slice(0, 100));
  assert.equal(gzEntry!.response?.content.truncated, true);
  assert.equal(big!.request.bodySize, 500);
  assert.equal(big!.request.postData?.text, 'y'.repeat(100));
  assert.equal(big!.request.postData?.truncated, true);
});

test('streams in flight are capped: past the cap the oldest leaves without its response', () => {
  const rec = recorder();
  const conn = new Http2Connection(fakeConn(), rec.ctx, null, { ...DEFAULT_HTTP2_LIMITS, maxOpenStreams: 2 });
  play(conn, [c(Buffer.concat([CLIENT_OPEN, headers(1, REQUEST('/1'), true), headers(3, REQUEST('/3'), true), headers(5, REQUEST('/5'), true)])), s(Buffer.concat([SERVER_OPEN, headers(5, OK_TEXT, true)]))]);
  assert.deepEqual(
    rec.entries.map((e) => [e.request.path, e.response?.status ?? null, e.error?.type ?? null]),
    [
      ['/1', null, 'pair-not-found'],
      ['/5', 200, null],
    ],
  );
});
