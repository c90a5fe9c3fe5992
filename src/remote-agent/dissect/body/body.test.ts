import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { BodyCollector, bodyLimits } from './body-collector.ts';
import { bodyText, completeUtf8Length } from './body-text.ts';
import { decodeContent, parseContentCodings } from './content-decoding.ts';

test('completeUtf8Length drops only a sequence cut at the end', () => {
  const e = Buffer.from('a\u00e9\u20ac\u{1f600}'); // 1 + 2 + 3 + 4 bytes
  assert.equal(completeUtf8Length(e), 10);
  assert.equal(completeUtf8Length(e.subarray(0, 9)), 6);
  assert.equal(completeUtf8Length(e.subarray(0, 7)), 6);
  assert.equal(completeUtf8Length(e.subarray(0, 5)), 3);
  assert.equal(completeUtf8Length(e.subarray(0, 2)), 1);
  assert.equal(completeUtf8Length(new Uint8Array(0)), 0);
});

test('bodyText: UTF-8 as text, other bytes as base64, cut characters tolerated only when truncated', () => {
  assert.deepEqual(bodyText(Buffer.from('héllo'), false), { text: 'héllo' });
  assert.deepEqual(bodyText(Buffer.from([0xff, 0x00]), false), { text: '/wA=', encoding: 'base64' });
  const cut = Buffer.from('ab\u00e9').subarray(0, 3);
  assert.deepEqual(bodyText(cut, true), { text: 'ab' });
  assert.equal(bodyText(cut, false).encoding, 'base64');
});

test('parseContentCodings lists codings in order, without identity', () => {
  assert.deepEqual(parseContentCodings(' GZip , identity,br'), ['gzip', 'br']);
  assert.deepEqual(parseContentCodings(undefined), []);
});

test('decodeContent undoes stacked codings and decodes truncated gzip as far as it goes', () => {
  const text = Buffer.from('stacked '.repeat(100));
  const both = zlib.brotliCompressSync(zlib.gzipSync(text));
  const r = decodeContent(both, ['gzip', 'br'], 1 << 20);
  assert.ok(r.ok);
  assert.deepEqual(Buffer.from(r.bytes), text);
  const big = Buffer.from(Array.from({ length: 20000 }, (_, i) => String(i)).join(','));
  const gz = zlib.gzipSync(big);
  const partial = decodeContent(gz.subarray(0, gz.length >> 1), ['x-gzip'], 1 << 20);
  assert.ok(partial.ok);
  assert.ok(partial.bytes.length > 0 && partial.bytes.length < big.length);
  assert.deepEqual(Buffer.from(partial.bytes), big.subarray(0, partial.bytes.length));
  assert.equal(decodeContent(Buffer.from('nope'), ['gzip'], 1 << 20).ok, false);
});

test('BodyCollector keeps maxKeepBytes, counts everything, decodes at the end', () => {
  const plain = new BodyCollector(bodyLimits(4), []);
  plain.push(Buffer.from('abc'));
  plain.push(Buffer.from('defgh'));
  assert.deepEqual(plain.finish(), { bodySize: 8, decodedSize: 8, text: 'abcd', truncated: true });

  const src = Buffer.from('z'.repeat(1000));
  const gz = zlib.gzipSync(src);
  const enc = new BodyCollector(bodyLimits(10), ['gzip']);
  for (let i = 0; i < gz.length; i += 7) enc.push(gz.subarray(i, i + 7));
  assert.deepEqual(enc.finish(), { bodySize: gz.length, decodedSize: 1000, text: 'zzzzzzzzzz', truncated: true });

  const holed = new BodyCollector(bodyLimits(100), []);
  holed.push(Buffer.from('ab'));
  holed.lose(5);
  holed.push(Buffer.from('cd'));
  assert.equal(holed.incomplete, true);
  assert.deepEqual(holed.finish(), { bodySize: 9, decodedSize: 9, text: 'ab', truncated: true });

  const unknown = new BodyCollector(bodyLimits(100), ['compress']);
  unknown.push(Buffer.from('raw'));
  assert.deepEqual(unknown.finish(), { bodySize: 3, decodedSize: 3, text: 'raw' });
});
