import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedBodyDecoder } from './chunked-body.ts';

function decode(wire: string, step: number): { body: string; used: number; done: boolean; error: string | null } {
  const bytes = Buffer.from(wire, 'latin1');
  const dec = new ChunkedBodyDecoder(1024);
  let body = '';
  let used = 0;
  for (let i = 0; i < bytes.length && !dec.done && dec.error === null; i += step) {
    const piece = bytes.subarray(i, Math.min(i + step, bytes.length));
    used += dec.push(piece, 0, (v) => (body += Buffer.from(v).toString('latin1')));
  }
  return { body, used, done: dec.done, error: dec.error };
}

test('chunked framing: extensions, lone LF, trailers; stops right after the message', () => {
  const wire = '4;name=v\r\nWiki\r\n5 \t; x\npedia\n0\r\nExpires: never\r\n\r\nNEXT';
  for (const step of [1, 2, 3, 7, wire.length]) {
    const r = decode(wire, step);
    assert.equal(r.body, 'Wikipedia', `step ${step}`);
    assert.equal(r.done, true);
    assert.equal(r.error, null);
    if (step === wire.length) assert.equal(r.used, wire.length - 4, 'NEXT is left for the next message');
  }
});

test('chunked framing errors are reported, not thrown', () => {
  assert.equal(decode('g\r\n', 1).error, 'bad chunk size');
  assert.equal(decode('\r\n', 1).error, 'missing chunk size');
  assert.equal(decode('1 2\r\n', 1).error, 'bad chunk size');
  assert.equal(decode('fffffffffffffff\r\n', 1).error, 'chunk size overflows');
  assert.equal(decode('1\r\nab\r\n', 1).error, 'chunk data not followed by CRLF');
  assert.equal(decode(`0\r\nX: ${'y'.repeat(2000)}`, 100).error, 'trailer section too large');
});
