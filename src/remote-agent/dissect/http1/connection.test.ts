/**
 * Table of named HTTP/1 scenarios fed through Http1Connection. Every case is checked on whole
 * chunks, then re-run split at every offset and byte by byte: the entries and the counters must
 * be identical.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import type { HttpEntry } from './entry.ts';
import type { CaptureStats } from '../../stats.ts';
import type { ConnectionInfo } from '../../tcp/stream.ts';
import type { DissectOptions, EntryMeta } from '../dissector.ts';
import { Http1Connection } from './connection.ts';
import { CLIENT, SEQ_ORIGIN, SERVER, T0, c, fakeConn, longestData, play, recorder, s, type Chunking, type Step } from '../../../../test/helpers/http1-connection.ts';

interface Case {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly conn?: Partial<ConnectionInfo>;
  readonly options?: Partial<DissectOptions>;
  readonly check: (entries: HttpEntry[], stats: CaptureStats, metas: EntryMeta[]) => void;
}

const GET = 'GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n';
const OK = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n${extra}\r\n${body}`;
const len = (x: string | Uint8Array): number => (typeof x === 'string' ? Buffer.byteLength(x, 'latin1') : x.length);
const cat = (...parts: (string | Uint8Array)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

const gzipped = zlib.gzipSync(Buffer.from('{"hello":"world"}'.repeat(50)));
const brotlied = zlib.brotliCompressSync(Buffer.from('brotli body '.repeat(20)));
const rawDeflated = zlib.deflateRawSync(Buffer.from('raw deflate body'));
const zlibDeflated = zlib.deflateSync(Buffer.from('zlib deflate body'));

const CASES: Case[] = [
  {
    name: 'GET with Content-Length response, keep-alive, two exchanges',
    steps: [c(GET), s(OK('hello'), 1500), c('GET /b HTTP/1.1\r\n\r\n', 2000), s(OK('world!'), 2600), { close: 'fin', us: 3000 }],
    check(entries, stats) {
      assert.equal(entries.length, 2);
      const [e0, e1] = entries;
      assert.equal(e0.id, '7-0');
      assert.equal(e1.id, '7-1');
      assert.deepEqual(e0.src, { ip: CLIENT.ip, port: CLIENT.port, name: '', namespace: '' });
      assert.deepEqual(e0.dst, { ip: SERVER.ip, port: SERVER.port, name: '', namespace: '' });
      assert.equal(e0.protocol.version, '1.1');
      assert.equal(e0.timestamp, Math.floor(T0 / 1000));
      assert.equal(e0.startTime, '2024-01-01T00:00:00.000000Z');
      assert.equal(e1.startTime, '2024-01-01T00:00:00.002000Z');
      assert.equal(e0.elapsedTime, 1.5);
      assert.equal(e0.requestSize, len(GET));
      assert.equal(e0.responseSize, len(OK('hello')));
      assert.equal(e0.tls, false);
      assert.equal(e0.error, null);
      assert.equal(e0.request.method, 'GET');
      assert.equal(e0.request.url, '/a?x=1');
      assert.equal(e0.request.path, '/a');
      assert.equal(e0.request.httpVersion, 'HTTP/1.1');
      assert.deepEqual(e0.request.headers, { Host: 'h' });
      assert.deepEqual(e0.request.queryString, { x: '1' });
      assert.equal(e0.request.postData, null);
      assert.equal(e0.request.headersSize, len(GET));
      assert.equal(e0.request.bodySize, 0);
      assert.equal(e0.response!.status, 200);
      assert.equal(e0.response!.statusText, 'OK');
      assert.equal(e0.response!.bodySize, 5);
      assert.equal(e0.response!.headersSize, len(OK('hello')) - 5);
      assert.deepEqual(e0.response!.content, { size: 5, mimeType: '', text: 'hello' });
      assert.equal(e1.response!.content.text, 'world!');
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'requests flow from b to a: b is the client whatever ConnectionInfo says',
    conn: { a: SERVER, b: CLIENT, aIsClientKnown: false },
    steps: [s('GET / HTTP/1.1\r\n\r\n'), c(OK('x')), { close: 'fin' }],
    check(entries) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].src.ip, CLIENT.ip);
      assert.equal(entries[0].dst.ip, SERVER.ip);
      assert.equal(entries[0].response!.content.text, 'x');
    },
  },
  {
    name: 'chunked response with chunk extensions and trailers',
    steps: [
      c(GET),
      s('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5;ext=1\r\nhello\r\n7 ; a=b\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n'),
      { close: 'fin' },
    ],
    check(entries, stats) {
      const r = entries[0].response!;
      assert.equal(r.bodySize, 12);
      assert.deepEqual(r.content, { size: 12, mimeType: 'text/plain', text: 'hello, world' });
      assert.equal(entries[0].responseSize, len('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5;ext=1\r\nhello\r\n7 ; a=b\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n'));
      assert.equal(entries[0].error, null);
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'gzip Content-Encoding inside chunked framing is decoded',
    steps: [
      c(GET),
      s(cat('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\n\r\n', gzipped.length.toString(16), '\r\n', gzipped, '\r\n0\r\n\r\n')),
    ],
    check(entries) {
      const r = entries[0].response!;
      assert.equal(r.bodySize, gzipped.length);
      assert.equal(r.content.size, 17 * 50);
      assert.equal(r.content.text, '{"hello":"world"}'.repeat(50));
      assert.equal(r.content.encoding, undefined);
    },
  },
  {
    name: 'br, raw deflate and zlib deflate bodies are decoded',
    steps: [
      c('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n'),
      s(cat(OK('', `Content-Encoding: br\r\n`).replace('Content-Length: 0', `Content-Length: ${brotlied.length}`), brotlied)),
      s(cat(OK('', `Content-Encoding: deflate\r\n`).replace('Content-Length: 0', `Content-Length: ${rawDeflated.length}`), rawDeflated)),
      s(cat(OK('', `Content-Encoding: deflate\r\n`).replace('Content-Length: 0', `Content-Length: ${zlibDeflated.length}`), zlibDeflated)),
    ],
    check(entries) {
      assert.deepEqual(entries.map((e) => e.response!.content.text), ['brotli body '.repeat(20), 'raw deflate body', 'zlib deflate body']);
      assert.deepEqual(entries.map((e) => e.response!.bodySize), [brotlied.length, rawDeflated.length, zlibDeflated.length]);
    },
  },
  {
    name: 'undecodable gzip keeps the raw bytes, nothing fatal',
    steps: [c(GET), s(OK('not gzip at all', 'Content-Encoding: gzip\r\n'))],
    check(entries, stats) {
      assert.equal(entries[0].response!.content.text, 'not gzip at all');
      assert.equal(entries[0].response!.content.size, 15);
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'HEAD, 204 and 304 responses have no body even with Content-Length',
    steps: [
      c('HEAD / HTTP/1.1\r\n\r\nDELETE /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n'),
      s('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n'),
      { close: 'fin' },
    ],
    check(entries, stats) {
      assert.deepEqual(entries.map((e) => [e.request.method, e.response!.status, e.response!.bodySize]), [
        ['HEAD', 200, 0],
        ['DELETE', 204, 0],
        ['GET', 304, 0],
      ]);
      assert.ok(entries.every((e) => e.error === null));
      assert.equal(stats.orphanResponses, 0);
    },
  },
  {
    name: '100 Continue is interim: the request pairs with the final response',
    steps: [
      c('POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\n'),
      s('HTTP/1.1 100 Continue\r\n\r\n', 100),
      c('data', 200),
      s(OK('done'), 300),
    ],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      const e = entries[0];
      assert.equal(e.response!.status, 200);
      assert.equal(e.elapsedTime, 0.3);
      assert.deepEqual(e.request.postData, { mimeType: 'text/plain', text: 'data' });
      assert.equal(e.request.bodySize, 4);
      assert.equal(stats.orphanResponses, 0);
    },
  },
  {
    name: 'pipelining: the nth response answers the nth request',
    steps: [c('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n'), s(OK('one') + OK('two') + OK('three'))],
    check(entries) {
      assert.deepEqual(entries.map((e) => [e.id, e.request.url, e.response!.content.text]), [
        ['7-0', '/1', 'one'],
        ['7-1', '/2', 'two'],
        ['7-2', '/3', 'three'],
      ]);
    },
  },
  {
    name: 'close-delimited response ends at the server FIN (HTTP/1.0)',
    steps: [c('GET / HTTP/1.0\r\n\r\n'), s('HTTP/1.0 200 OK\r\n\r\nall of'), s(' this'), { end: 1 }, { close: 'fin' }],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].protocol.version, '1.0');
      assert.equal(entries[0].response!.content.text, 'all of this');
      assert.equal(entries[0].error, null);
      assert.equal(stats.unpairedRequests, 0);
    },
  },
  {
    name: 'Upgrade: the 101 entry is emitted, then neither direction is HTTP any more',
    steps: [
      c('GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
      s('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello'),
      c('\x81\x85abcdGARBAGE NOT HTTP\r\n\r\n'),
      s('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
      { close: 'fin' },
    ],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].response!.status, 101);
      assert.equal(entries[0].error, null);
      assert.equal(stats.dissectionErrors, 0);
      assert.equal(stats.orphanResponses, 0);
    },
  },
  {
    name: 'CONNECT 200 starts a tunnel',
    steps: [c('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), s('HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x02\x00'), c('\x16\x03\x01\x00\xa5\x01'), { close: 'fin' }],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].request.path, 'example.com:443');
      assert.equal(entries[0].response!.statusText, 'Connection established');
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'request without response: emitted at close with a connection error',
    steps: [c(GET), { close: 'rst', us: 5000 }],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].response, null);
      assert.equal(entries[0].responseSize, 0);
      assert.equal(entries[0].elapsedTime, 0);
      assert.equal(entries[0].error!.type, 'connection');
      assert.match(entries[0].error!.msg, /before the response/);
      assert.equal(stats.unpairedRequests, 1);
    },
  },
  {
    name: 'request unanswered past responseTimeoutUs: emitted with a timeout error',
    options: { responseTimeoutUs: 1_000_000 },
    steps: [c('GET /slow HTTP/1.1\r\n\r\n'), c('GET /next HTTP/1.1\r\n\r\n', 1_500_000), s(OK('late'), 1_600_000), { close: 'fin', us: 1_700_000 }],
    check(entries, stats) {
      assert.deepEqual(entries.map((e) => [e.request.url, e.error?.type ?? null, e.response?.status ?? null]), [
        ['/slow', 'timeout', null],
        ['/next', null, 200],
      ]);
      assert.equal(stats.unpairedRequests, 1);
    },
  },
  {
    name: 'Content-Length response cut by close: partial response and a truncation error',
    steps: [c(GET), s('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), { close: 'end-of-capture' }],
    check(entries, stats) {
      const e = entries[0];
      assert.equal(e.response!.bodySize, 3);
      assert.equal(e.response!.content.text, 'abc');
      assert.equal(e.error!.type, 'connection');
      assert.match(e.error!.msg, /^response truncated: /);
      assert.equal(stats.unpairedRequests, 0);
    },
  },
  {
    name: 'gap inside a Content-Length body: bytes accounted, body marked incomplete',
    steps: [c(GET), s('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), { gap: 4, dir: 1 }, s('hij'), c('GET /after HTTP/1.1\r\n\r\n'), s(OK('ok'))],
    check(entries, stats) {
      assert.equal(entries.length, 2);
      const r = entries[0].response!;
      assert.equal(r.bodySize, 10);
      assert.equal(r.content.text, 'abc');
      assert.equal(r.content.truncated, true);
      assert.equal(entries[0].responseSize, len('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n') + 10);
      assert.equal(entries[0].error!.type, 'dissection');
      assert.equal(entries[1].response!.content.text, 'ok');
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'gap inside headers: counted, message dropped, resync on the next request line',
    steps: [c('GET /lost HTTP/1.1\r\nHo'), { gap: 20, dir: 0 }, c('st: x\r\n\r\nGET /found HTTP/1.1\r\n\r\n'), s(OK('a'))],
    check(entries, stats) {
      assert.deepEqual(entries.map((e) => e.request.url), ['/found']);
      assert.equal(stats.dissectionErrors, 1);
    },
  },
  {
    name: 'capture started mid-connection: skip to the first request and status lines',
    conn: { aIsClientKnown: false },
    steps: [c('ody of an earlier post\r\nGET /x HTTP/1.1\r\n\r\n'), s('rest of an old body\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz')],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].request.url, '/x');
      assert.equal(entries[0].response!.content.text, 'z');
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'garbage where a message must start: counted, then resync',
    steps: [c('\x00\x01junk junk\r\nGET /ok HTTP/1.1\r\n\r\n'), s(OK('fine'))],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].request.url, '/ok');
      assert.equal(stats.dissectionErrors, 1);
    },
  },
  {
    name: 'response without a pending request is an orphan',
    steps: [c(GET), s(OK('1') + OK('2'))],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(stats.orphanResponses, 1);
    },
  },
  {
    name: 'obs-fold and lone LF line endings are tolerated',
    steps: [c('GET /f HTTP/1.1\nX-Long: part one\n  part two\nHost: h\n\n'), s('HTTP/1.1 200 OK\nContent-Length: 2\n\nok')],
    check(entries, stats) {
      assert.deepEqual(entries[0].request.headers, { 'X-Long': 'part one part two', Host: 'h' });
      assert.equal(entries[0].response!.content.text, 'ok');
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'headers, cookies and query strings',
    steps: [
      c('GET /s?q=a+b&q=%41&empty=&n%20m=v%zz HTTP/1.1\r\nAccept: a\r\naccept: b\r\nCookie: s=1; t=2\r\nCookie: u=3\r\n\r\n'),
      s('HTTP/1.1 200 OK\r\nSet-Cookie: id=9; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\nSet-Cookie: lang=en; Path=/\r\nContent-Length: 0\r\n\r\n'),
    ],
    check(entries) {
      const e = entries[0];
      assert.deepEqual(e.request.headers, { Accept: 'a, b', Cookie: 's=1; t=2; u=3' });
      assert.deepEqual(e.request.cookies, { s: '1', t: '2', u: '3' });
      assert.deepEqual(e.request.queryString, { q: ['a b', 'A'], empty: '', 'n m': 'v%zz' });
      assert.equal(e.response!.headers['Set-Cookie'], 'id=9; Expires=Wed, 21 Oct 2015 07:28:00 GMT\nlang=en; Path=/');
      assert.deepEqual(e.response!.cookies, { id: '9', lang: 'en' });
    },
  },
  {
    name: 'absolute-form target: path without scheme and authority',
    steps: [c('GET http://example.com/p/q?z=1 HTTP/1.1\r\n\r\n'), s(OK(''))],
    check(entries) {
      assert.equal(entries[0].request.url, 'http://example.com/p/q?z=1');
      assert.equal(entries[0].request.path, '/p/q');
      assert.deepEqual(entries[0].request.queryString, { z: '1' });
    },
  },
  {
    name: 'malformed request line after a known method is accepted at a boundary (like tshark)',
    steps: [c('OPTIONS HTTP/1.1\nHost: h\n\n'), s('HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad')],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].request.method, 'OPTIONS');
      assert.equal(entries[0].request.url, 'HTTP/1.1');
      assert.equal(entries[0].response!.status, 400);
      assert.equal(stats.dissectionErrors, 0);
    },
  },
  {
    name: 'header block over 64 KiB: error and resync',
    steps: [c(`GET /big HTTP/1.1\r\nX: ${'a'.repeat(70 * 1024)}\r\n\r\nGET /small HTTP/1.1\r\n\r\n`), s(OK('s'))],
    check(entries, stats) {
      assert.deepEqual(entries.map((e) => e.request.url), ['/small']);
      assert.equal(stats.dissectionErrors, 1);
    },
  },
  {
    name: 'body kept up to maxBodyBytes; a UTF-8 char cut at the limit stays text',
    options: { maxBodyBytes: 4 },
    steps: [c('POST /p HTTP/1.1\r\nContent-Length: 6\r\n\r\nab\u00e9\u00e9'.replace(/\u00e9/g, '\xc3\xa9')), s(OK('\xff\xfe\x00\x01\x02\x03'))],
    check(entries) {
      const p = entries[0].request.postData!;
      assert.equal(p.text, 'ab\u00e9');
      assert.equal(p.truncated, true);
      assert.equal(p.encoding, undefined);
      assert.equal(entries[0].request.bodySize, 6);
      const content = entries[0].response!.content;
      assert.equal(content.encoding, 'base64');
      assert.equal(content.text, Buffer.from([0xff, 0xfe, 0, 1]).toString('base64'));
      assert.equal(content.size, 6);
      assert.equal(content.truncated, true);
    },
  },
  {
    name: 'negative and differing Content-Length values are dissection errors',
    steps: [c('POST /a HTTP/1.1\r\nContent-Length: -5\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nGET /c HTTP/1.1\r\n\r\n'), s(OK('c'))],
    check(entries, stats) {
      assert.deepEqual(entries.map((e) => e.request.url), ['/c']);
      assert.equal(stats.dissectionErrors, 2);
    },
  },
  {
    name: 'bad chunk size ends the message with an error, then resync',
    steps: [c(GET), s('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'), c('GET /2 HTTP/1.1\r\n\r\n'), s(OK('2'))],
    check(entries, stats) {
      assert.equal(entries.length, 2);
      assert.equal(entries[0].error!.type, 'dissection');
      assert.equal(entries[1].response!.content.text, '2');
      assert.equal(stats.dissectionErrors, 1);
    },
  },
  {
    name: 'overflowing chunk size is rejected',
    steps: [c(GET), s('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n'), { close: 'fin' }],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].error!.type, 'dissection');
      assert.equal(stats.dissectionErrors, 1);
    },
  },
  {
    name: 'requestSeq: the sequence number of each request line (blank lines before it, pipelining, bodies)',
    steps: [
      c('GET /1 HTTP/1.1\r\n\r\n'),
      s(OK('a')),
      c('\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /3 HTTP/1.1\r\n\r\n'),
      s(OK('b')),
      s(OK('c')),
      { close: 'fin' },
    ],
    check(entries, _stats, metas) {
      assert.deepEqual(entries.map((e) => e.request.url), ['/1', '/2', '/3']);
      const post = 'GET /1 HTTP/1.1\r\n\r\n'.length + 2;
      const third = post + 'POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz'.length;
      assert.deepEqual(metas, [{ requestSeq: SEQ_ORIGIN[0] }, { requestSeq: SEQ_ORIGIN[0] + post }, { requestSeq: SEQ_ORIGIN[0] + third }]);
    },
  },
  {
    name: 'requestSeq counts lost bytes, and the client side b counts in its own direction',
    conn: { a: SERVER, b: CLIENT, aIsClientKnown: false },
    steps: [s('GET /1 HTTP/1.1\r\n\r\n'), c(OK('a')), { gap: 500, dir: 1 }, s('\nGET /2 HTTP/1.1\r\n\r\n'), c(OK('b')), { close: 'fin' }],
    check(entries, _stats, metas) {
      assert.deepEqual(entries.map((e) => e.request.url), ['/1', '/2']);
      assert.deepEqual(metas, [{ requestSeq: SEQ_ORIGIN[1] }, { requestSeq: SEQ_ORIGIN[1] + 'GET /1 HTTP/1.1\r\n\r\n'.length + 500 + 1 }]);
    },
  },
  {
    name: 'capture joined inside a request line: the cut line is no request ("ET /a"), the next one is',
    conn: { aIsClientKnown: false },
    steps: [c('ET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n'), s('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb'), { close: 'fin' }],
    check(entries, _stats, metas) {
      assert.deepEqual(entries.map((e) => `${e.request.method} ${e.request.url}`), ['GET /b']);
      assert.deepEqual(metas, [{ requestSeq: SEQ_ORIGIN[0] + 'ET /a HTTP/1.1\r\n\r\n'.length }]);
    },
  },
  {
    name: 'capture joined inside a body whose last line ("ok", no newline) runs into the next request: it starts at its method',
    conn: { aIsClientKnown: false },
    steps: [c('dy text\nokGET /c HTTP/1.1\r\n\r\n'), s('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc'), { close: 'fin' }],
    check(entries, _stats, metas) {
      assert.deepEqual(entries.map((e) => `${e.request.method} ${e.request.url}`), ['GET /c']);
      assert.deepEqual(metas, [{ requestSeq: SEQ_ORIGIN[0] + 'dy text\nok'.length }]);
    },
  },
  {
    name: 'request truncated mid-body by the close',
    steps: [c('POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial'), { close: 'fin' }],
    check(entries, stats) {
      assert.equal(entries.length, 1);
      assert.equal(entries[0].request.bodySize, 7);
      assert.equal(entries[0].error!.type, 'connection');
      assert.equal(stats.unpairedRequests, 1);
    },
  },
];

function run(tc: Case, how: Chunking): { entries: HttpEntry[]; stats: CaptureStats; metas: EntryMeta[] } {
  const rec = recorder(tc.options);
  const conn = new Http1Connection(fakeConn(tc.conn), rec.ctx);
  play(conn, tc.steps, how);
  if (!tc.steps.some((st) => 'close' in st)) conn.close('end-of-capture', T0 + 10_000_000);
  return { entries: rec.entries, stats: rec.stats, metas: rec.metas };
}

for (const tc of CASES) {
  test(tc.name, () => {
    const whole = run(tc, { kind: 'whole' });
    tc.check(whole.entries, whole.stats, whole.metas);
    const expected = JSON.stringify(whole);
    const n = Math.min(longestData(tc.steps), 400);
    for (let at = 1; at < n; at++) {
      assert.equal(JSON.stringify(run(tc, { kind: 'split', at })), expected, `split at ${at}`);
    }
    assert.equal(JSON.stringify(run(tc, { kind: 'bytes' })), expected, 'byte by byte');
  });
}

test('oldestPendingUs: the oldest request not yet emitted, Infinity when none', () => {
  const rec = recorder();
  const conn = new Http1Connection(fakeConn(), rec.ctx);
  assert.equal(conn.oldestPendingUs(), Infinity);
  conn.data(0, Buffer.from('GET /1 HTTP/1.1\r\n'), T0 + 5);
  assert.equal(conn.oldestPendingUs(), T0 + 5, 'a request still in its headers counts');
  conn.data(0, Buffer.from('\r\nGET /2 HTTP/1.1\r\n\r\n'), T0 + 9);
  assert.equal(conn.oldestPendingUs(), T0 + 5);
  conn.data(1, Buffer.from(OK('1')), T0 + 20);
  assert.equal(conn.oldestPendingUs(), T0 + 9);
  conn.data(1, Buffer.from(OK('2')), T0 + 30);
  assert.equal(conn.oldestPendingUs(), Infinity);
});

test('pending requests are capped: the oldest unanswered one is emitted and counted', () => {
  const rec = recorder();
  const conn = new Http1Connection(fakeConn(), rec.ctx, { maxHeadBytes: 65536, maxPendingRequests: 2 });
  conn.data(0, Buffer.from('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n'), T0);
  assert.equal(rec.entries.length, 1);
  assert.equal(rec.entries[0].request.url, '/1');
  assert.equal(rec.entries[0].error!.type, 'pair-not-found');
  assert.equal(rec.stats.unpairedRequests, 1);
});

test('random bytes and truncated inputs never throw', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pieces = ['GET / HTTP/1.1\r\n', 'HTTP/1.1 200 OK\r\n', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', '\r\n', '5\r\nhello\r\n', '0\r\n\r\n', 'Content-Length: 99999999999999999999\r\n', 'Content-Encoding: gzip\r\n'];
  for (let round = 0; round < 300; round++) {
    const rec = recorder({ maxBodyBytes: 16 });
    const conn = new Http1Connection(fakeConn({ aIsClientKnown: rnd() < 0.5 }), rec.ctx);
    for (let i = 0; i < 20; i++) {
      const dir = rnd() < 0.5 ? 0 : 1;
      const r = rnd();
      if (r < 0.5) conn.data(dir, Buffer.from(pieces[Math.floor(rnd() * pieces.length)], 'latin1'), T0 + i);
      else if (r < 0.9) conn.data(dir, Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256))), T0 + i);
      else if (r < 0.95) conn.gap(dir, Math.floor(rnd() * 100), T0 + i);
      else conn.end(dir, T0 + i);
    }
    conn.close('end-of-capture', T0 + 100);
    for (const e of rec.entries) assert.doesNotThrow(() => JSON.stringify(e));
  }
});
