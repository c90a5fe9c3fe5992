import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMessageStart, checkStartLine, findStartLine, findStatusLine, knownMethodAt, sniffHttp1 } from './start-line.ts';

const b = (x: string): Buffer => Buffer.from(x, 'latin1');

test('checkStartLine recognises request and status lines, and says more when cut', () => {
  const cases: [string, string][] = [
    ['GET / HTTP/1.1\r\n', 'request'],
    ['M-SEARCH * HTTP/1.1\n', 'request'],
    ['HEAD /x HTTP/1.0\r\n', 'request'],
    ['HTTP/1.1 200 OK\r\n', 'response'],
    ['HTTP/1.0 404\r\n', 'response'],
    ['GET / HTTP/1.1', 'more'],
    ['GET / HTTP/1.1\r', 'more'],
    ['HTTP/1.', 'more'],
    ['GET', 'more'],
    ['GET / HTTP/2.0\r\n', 'no'],
    ['PRI * HTTP/2.0\r\n', 'no'],
    ['HTTP/1.1 20 OK\r\n', 'no'],
    ['GET  / HTTP/1.1\r\n', 'no'],
    ['GET / HTTP/1.1x\r\n', 'no'],
    ['\x16\x03\x01', 'no'],
  ];
  for (const [line, want] of cases) assert.equal(checkStartLine(b(line), 0), want, JSON.stringify(line));
});

test('checkMessageStart also accepts a known method with a malformed rest of line', () => {
  assert.equal(checkMessageStart(b('OPTIONS\n'), 0), 'request');
  assert.equal(checkMessageStart(b('GET /HTTP/1.1\n'), 0), 'request');
  assert.equal(checkMessageStart(b('FOO /HTTP/1.1\n'), 0), 'no');
  assert.equal(checkMessageStart(b('OPTIO'), 0), 'more');
});

test('findStartLine looks after each LF and reports a candidate cut by the end', () => {
  const buf = b('xx\nbody line\nGET /a HTTP/1.1\r\n');
  assert.deepEqual(findStartLine(buf, 0, buf.length, false, () => true), { offset: 13, result: 'request' });
  const noEnd = b('xx\nbody line\nGET /a HTTP/1.1\r\n(more)');
  assert.deepEqual(findStartLine(noEnd, 0, noEnd.length, false, (k) => k === 'response'), null, 'kind filtered out');
  const cut = b('junk\nHTTP/1.');
  assert.deepEqual(findStartLine(cut, 0, cut.length, false, () => true), { offset: 5, result: 'more' });
  assert.deepEqual(findStartLine(b('junk\n'), 0, 5, false, () => true), { offset: 5, result: 'more' });
});

test('sniffHttp1: match, more, and early no for binary protocols', () => {
  assert.equal(sniffHttp1(b('GET / HTTP/1.1\r\n')), 'match');
  assert.equal(sniffHttp1(b('\r\nHTTP/1.1 200 OK\r\n')), 'match');
  assert.equal(sniffHttp1(b('tail of a body\r\nPOST /x HTTP/1.1\r\n')), 'match');
  assert.equal(sniffHttp1(b('GET / HT')), 'more');
  assert.equal(sniffHttp1(b('some text')), 'more');
  assert.equal(sniffHttp1(b('\x16\x03\x01\x02\x00\x01\x00')), 'no');
  assert.equal(sniffHttp1(b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00')), 'no');
  assert.equal(sniffHttp1(Buffer.alloc(5000, 0x61)), 'no');
});

test('knownMethodAt: where a request found mid-stream really starts (cut, glued to a body, or not a request)', () => {
  const cases: Array<[string, number]> = [
    ['GET /a HTTP/1.1\r\n', 0],
    ['ET /a HTTP/1.1\r\n', -1], // a capture that joined after the G
    ['T /a HTTP/1.1\r\n', -1],
    ['okGET /a HTTP/1.1\r\n', 2], // a body's last line without a newline, then the request
    ['xUNLOCK /a HTTP/1.1\r\n', 1], // the longest known method that ends the token
    ['FOO /a HTTP/1.1\r\n', -1],
    ['M-SEARCH * HTTP/1.1\r\n', -1],
  ];
  for (const [line, at] of cases) assert.equal(knownMethodAt(b(line), 0), at, JSON.stringify(line));
});

test('findStatusLine: a status line glued to the previous body, anywhere in the bytes', () => {
  assert.deepEqual(findStatusLine(b('{"id":1}HTTP/1.1 200 OK\r\n'), 0, 24), { offset: 8, result: 'response' });
  assert.deepEqual(findStatusLine(b('HTTP/1.1 204 \r\n'), 0, 15), { offset: 0, result: 'response' });
  // "HTTP/1.1 2OO" is no status line; a cut candidate is 'more'; an H alone is not a start.
  assert.equal(findStatusLine(b('Hello HTTP/1.1 2OO x\r\n'), 0, 22), null);
  assert.deepEqual(findStatusLine(b('abc}HTTP/1.'), 0, 11), { offset: 4, result: 'more' });
});
