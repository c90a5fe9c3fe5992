/** HPACK's Huffman code: the table against RFC 7541's own figures, decoding, and what is rejected. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EOS, HUFFMAN_BAD_PADDING, HUFFMAN_CODE_LENGTHS, HUFFMAN_CODES, HUFFMAN_EOS, huffmanDecode } from './huffman.ts';
import { huffmanEncode } from '../../../../test/helpers/hpack-encoder.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const decode = (bytes: Uint8Array): ReturnType<typeof huffmanDecode> => huffmanDecode(bytes, 0, bytes.length);

test('codes rebuilt from the lengths are the codes RFC 7541 Appendix B lists', () => {
  // [symbol, code as hex, length] from Appendix B, a few of every length and the extremes.
  const listed: [number, number, number][] = [
    [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [13, 0x3ffffffd, 30],
    [22, 0x3ffffffe, 30], [31, 0xffffffb, 28], [32, 0x14, 6], [33, 0x3f8, 10], [35, 0xffa, 12], [39, 0x7fa, 11],
    [48, 0x0, 5], [58, 0x5c, 7], [60, 0x7ffc, 15], [88, 0xfc, 8], [92, 0x7fff0, 19], [94, 0x3ffc, 14],
    [97, 0x3, 5], [116, 0x9, 5], [122, 0x7b, 7], [126, 0x1ffd, 13], [127, 0xffffffc, 28], [128, 0xfffe6, 20],
    [153, 0x1fffdc, 21], [199, 0x1ffffec, 25], [203, 0x7ffffde, 27], [220, 0xffffffd, 28],
    [249, 0xffffffe, 28], [254, 0x7fffff0, 27], [255, 0x3ffffee, 26], [EOS, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of listed) {
    assert.equal(HUFFMAN_CODE_LENGTHS[sym], len, `length of ${sym}`);
    assert.equal(HUFFMAN_CODES[sym].toString(16), code.toString(16), `code of ${sym}`);
  }
  // A complete prefix code: the Kraft sum of 257 lengths is exactly 1.
  assert.equal(HUFFMAN_CODE_LENGTHS.length, 257);
  assert.equal(HUFFMAN_CODE_LENGTHS.reduce((sum, len) => sum + 2 ** -len, 0), 1);
});

test('RFC 7541 Appendix C Huffman strings decode', () => {
  const strings: [string, string][] = [
    ['f1e3c2e5f23a6ba0ab90f4ff', 'www.example.com'],
    ['a8eb10649cbf', 'no-cache'],
    ['25a849e95ba97d7f', 'custom-key'],
    ['25a849e95bb8e8b4bf', 'custom-value'],
    ['6402', '302'],
    ['aec3771a4b', 'private'],
    ['d07abe941054d444a8200595040b8166e082a62d1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['9d29ad171863c78f0b97c8e9ae82ae43d3', 'https://www.example.com'],
    ['9bd9ab', 'gzip'],
    ['94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ];
  for (const [coded, text] of strings) {
    assert.equal(decode(hex(coded)), text);
    assert.deepEqual(huffmanEncode(text), [...hex(coded)], `the test encoder agrees on ${text}`);
  }
  assert.equal(decode(new Uint8Array(0)), '');
});

test('every octet string round-trips (latin1, all 256 values)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const text = Buffer.from(bytes).toString('latin1');
      assert.equal(decode(Uint8Array.from(huffmanEncode(text))), text);
    }),
    { numRuns: 2000 },
  );
});

test('a sub-range of a larger buffer decodes alone', () => {
  const coded = huffmanEncode('private');
  const buf = Uint8Array.from([0x00, 0xff, ...coded, 0x00]);
  assert.equal(huffmanDecode(buf, 2, 2 + coded.length), 'private');
});

test('padding: up to 7 one-bits accepted; 8 or more, or a zero bit, rejected', () => {
  // 'a' = 00011: 3 one-bits of padding.
  assert.equal(decode(hex('1f')), 'a');
  // 'a' + 3 ones + a whole 0xff byte: 11 bits of padding.
  assert.equal(decode(hex('1f ff')), HUFFMAN_BAD_PADDING);
  // A lone 0xff: 8 bits of padding (no symbol).
  assert.equal(decode(hex('ff')), HUFFMAN_BAD_PADDING);
  // 'a' + 110 padding.
  assert.equal(decode(hex('1e')), HUFFMAN_BAD_PADDING);
  // 'a' + 000: the start of '0' (00000), not padding.
  assert.equal(decode(hex('18')), HUFFMAN_BAD_PADDING);
});

test('EOS inside the string is rejected', () => {
  // 30 one-bits (EOS) then two more: EOS completed inside the string.
  assert.equal(decode(hex('ffffffff')), HUFFMAN_EOS);
  // 'a' (00011) then EOS (30 ones) then 5 ones of padding.
  assert.equal(decode(hex('1f ff ff ff ff')), HUFFMAN_EOS);
});

test('any bytes: a string or a fault, never a throw; output at most 8/5 of the input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const out = decode(bytes);
      if (typeof out === 'string') assert.ok(out.length <= Math.ceil((bytes.length * 8) / 5));
      else assert.ok(out === HUFFMAN_EOS || out === HUFFMAN_BAD_PADDING);
    }),
    { numRuns: 5000 },
  );
});

test('a string longer than the kept scratch decodes (its own buffer)', () => {
  const text = 'x'.repeat(200_000);
  assert.equal(decode(Uint8Array.from(huffmanEncode(text))), text);
  assert.equal(decode(Uint8Array.from(huffmanEncode('after'))), 'after');
});
