import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyPlan, parseContentLength } from './framing.ts';
import { parseHead, type MessageHead } from './head.ts';

function head(text: string): MessageHead {
  const r = parseHead(text, text.length);
  assert.ok(r.ok);
  return r.head;
}

test('parseContentLength: digits, identical lists; rejects the rest', () => {
  assert.equal(parseContentLength(['42']), 42);
  assert.equal(parseContentLength(['7, 7', '7']), 7);
  assert.equal(parseContentLength(['-1']), -1);
  assert.equal(parseContentLength(['1, 2']), -1);
  assert.equal(parseContentLength(['99999999999999999999']), -1);
  assert.equal(parseContentLength(['0x10']), -1);
  assert.equal(parseContentLength(['']), -1);
  // The one-field fast path and the list path agree at their edges.
  assert.equal(parseContentLength(['000000000000042']), 42);
  assert.equal(parseContentLength(['9007199254740991']), -1, '16 digits');
  assert.equal(parseContentLength([' 42']), 42, 'a list element is trimmed');
  assert.equal(parseContentLength(['4 2']), -1);
  assert.equal(parseContentLength(['42', '42']), 42);
  assert.equal(parseContentLength(['\u0661']), -1, 'Arabic-Indic digit one');
});

test('Transfer-Encoding: one "chunked" field, or a list ending in chunked, whatever its case and spacing', () => {
  const res = (te: string): string => bodyPlan(head(`HTTP/1.1 200 OK\r\n${te}\r\n\r\n`), 'GET').kind;
  assert.equal(res('Transfer-Encoding: chunked'), 'chunked');
  assert.equal(res('Transfer-Encoding: Chunked'), 'chunked');
  assert.equal(res('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked'), 'chunked');
  assert.equal(res('Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip'), 'close');
  assert.equal(res('Transfer-Encoding: chunked,'), 'chunked');
  assert.equal(res('Transfer-Encoding: chunkedx'), 'close');
});

test('bodyPlan follows RFC 9112 §6.3', () => {
  const res = (h: string): MessageHead => head(`HTTP/1.1 ${h}\r\n\r\n`);
  assert.deepEqual(bodyPlan(res('200 OK\r\nContent-Length: 3'), 'HEAD'), { kind: 'none' });
  assert.deepEqual(bodyPlan(res('200 OK\r\nContent-Length: 3'), 'GET'), { kind: 'length', length: 3 });
  assert.deepEqual(bodyPlan(res('200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3'), 'GET'), { kind: 'chunked' });
  assert.deepEqual(bodyPlan(res('200 OK\r\nTransfer-Encoding: gzip'), 'GET'), { kind: 'close' });
  assert.deepEqual(bodyPlan(res('200 OK'), 'GET'), { kind: 'close' });
  assert.deepEqual(bodyPlan(res('200 OK'), 'CONNECT'), { kind: 'none' });
  assert.deepEqual(bodyPlan(res('101 Switching Protocols'), 'GET'), { kind: 'none' });
  assert.equal(bodyPlan(res('200 OK\r\nContent-Length: x'), 'GET').kind, 'invalid');
  const req = (h: string): MessageHead => head(`POST / HTTP/1.1\r\n${h}\r\n\r\n`);
  assert.deepEqual(bodyPlan(req('X: y'), undefined), { kind: 'none' });
  assert.deepEqual(bodyPlan(req('Content-Length: 0'), undefined), { kind: 'none' });
  assert.equal(bodyPlan(req('Transfer-Encoding: gzip'), undefined).kind, 'invalid');
});

test('parseHead: fields keep their spelling, obs-fold joins, lines without colon are counted', () => {
  const h = head('GET /p HTTP/1.1\r\nX-A: 1\r\n\tmore\r\nbroken line\r\nx-a: 2\r\n\r\n');
  assert.deepEqual(h.fields.map((f) => [f.name, f.value]), [['X-A', '1 more'], ['x-a', '2']]);
  assert.equal(h.badLines, 1);
  const r = head('HTTP/1.1 404 Not Found\r\n\r\n');
  assert.deepEqual([r.kind, r.version, r.status, r.reason], ['response', 'HTTP/1.1', 404, 'Not Found']);
});
