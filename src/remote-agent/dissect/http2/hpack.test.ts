/** The HPACK decoder: RFC 7541 Appendix C, representations, bounds, size updates and the limits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HpackDecoder, TABLE_BYTES_CAP, type HpackField, type HpackResult } from './hpack.ts';
import { HpackEncoder, hpackInteger, hpackString } from '../../../../test/helpers/hpack-encoder.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const f = (name: string, value: string, neverIndexed = false): HpackField => (neverIndexed ? { name, value, neverIndexed } : { name, value });

function fieldsOf(r: HpackResult): readonly HpackField[] {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.fields;
}

function failure(r: HpackResult): { reason: string; desynchronised: boolean } {
  assert.ok(!r.ok, 'the block should fail');
  return { reason: r.reason, desynchronised: r.desynchronised };
}

// --- RFC 7541 Appendix C ------------------------------------------------------------------------

test('C.2: literal with indexing, without indexing, never indexed, indexed', () => {
  assert.deepEqual(fieldsOf(new HpackDecoder().decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'))), [
    f('custom-key', 'custom-header'),
  ]);
  assert.deepEqual(fieldsOf(new HpackDecoder().decode(hex('040c2f73616d706c652f70617468'))), [f(':path', '/sample/path')]);
  assert.deepEqual(fieldsOf(new HpackDecoder().decode(hex('100870617373776f726406736563726574'))), [f('password', 'secret', true)]);
  assert.deepEqual(fieldsOf(new HpackDecoder().decode(hex('82'))), [f(':method', 'GET')]);
});

const REQUESTS = [
  [f(':method', 'GET'), f(':scheme', 'http'), f(':path', '/'), f(':authority', 'www.example.com')],
  [f(':method', 'GET'), f(':scheme', 'http'), f(':path', '/'), f(':authority', 'www.example.com'), f('cache-control', 'no-cache')],
  [f(':method', 'GET'), f(':scheme', 'https'), f(':path', '/index.html'), f(':authority', 'www.example.com'), f('custom-key', 'custom-value')],
];

test('C.3: requests without Huffman share one dynamic table', () => {
  const dec = new HpackDecoder();
  const blocks = ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'];
  blocks.forEach((b, i) => assert.deepEqual(fieldsOf(dec.decode(hex(b))), REQUESTS[i], `C.3.${i + 1}`));
  assert.equal(dec.synchronised, true);
});

test('C.4: requests with Huffman share one dynamic table', () => {
  const dec = new HpackDecoder();
  const blocks = ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'];
  blocks.forEach((b, i) => assert.deepEqual(fieldsOf(dec.decode(hex(b))), REQUESTS[i], `C.4.${i + 1}`));
});

const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSES = [
  [f(':status', '302'), f('cache-control', 'private'), f('date', 'Mon, 21 Oct 2013 20:13:21 GMT'), f('location', 'https://www.example.com')],
  [f(':status', '307'), f('cache-control', 'private'), f('date', 'Mon, 21 Oct 2013 20:13:21 GMT'), f('location', 'https://www.example.com')],
  [
    f(':status', '200'),
    f('cache-control', 'private'),
    f('date', 'Mon, 21 Oct 2013 20:13:22 GMT'),
    f('location', 'https://www.example.com'),
    f('content-encoding', 'gzip'),
    f('set-cookie', COOKIE),
  ],
];

test('C.5: responses without Huffman, 256-byte table: eviction', () => {
  const dec = new HpackDecoder();
  dec.setMaxTableSize(256);
  const blocks = [
    '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
    '4803333037c1c0bf',
    '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
  ];
  blocks.forEach((b, i) => assert.deepEqual(fieldsOf(dec.decode(hex(b))), RESPONSES[i], `C.5.${i + 1}`));
});

test('C.6: responses with Huffman, 256-byte table: eviction', () => {
  const dec = new HpackDecoder();
  dec.setMaxTableSize(256);
  const blocks = [
    '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
    '4883640effc1c0bf',
    '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
  ];
  blocks.forEach((b, i) => assert.deepEqual(fieldsOf(dec.decode(hex(b))), RESPONSES[i], `C.6.${i + 1}`));
  // After C.6.3 the table holds exactly three entries, 215 bytes (RFC 7541 §C.6.3): index 62 to
  // 64, and nothing past them (":status: 307" was evicted).
  assert.deepEqual(fieldsOf(dec.decode(hex('bebfc0'))), [
    f('set-cookie', COOKIE),
    f('content-encoding', 'gzip'),
    f('date', 'Mon, 21 Oct 2013 20:13:22 GMT'),
  ]);
  assert.match(failure(dec.decode(hex('c1'))).reason, /index 65 at byte 0 is past the dynamic table \(3 entries\)/);
});

// --- representations and octets ----------------------------------------------------------------

test('names and values keep every octet (latin1: one char per byte), raw and Huffman', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
  for (const huffman of [false, true]) {
    const block = new HpackEncoder().encode([{ name: 'x-bytes', value: all, rep: 'without', huffman }]);
    const [field] = fieldsOf(new HpackDecoder().decode(block));
    assert.deepEqual([...Buffer.from(field.value, 'latin1')], [...Buffer.from(all, 'latin1')]);
  }
});

test('an index past the tables fails the block; index 0 is malformed', () => {
  const dec = new HpackDecoder();
  const r = failure(dec.decode(Uint8Array.from(hpackInteger(62, 7, 0x80))));
  assert.match(r.reason, /index 62 at byte 0 is past the dynamic table \(0 entries\)/);
  assert.equal(r.desynchronised, false, 'no insertion was missed: the table is still known');
  assert.match(failure(dec.decode(hex('80'))).reason, /index 0 at byte 0/);
});

test('integers: 5-byte encodings decode, longer or past 2^32-1 fail, no overflow', () => {
  // 1337 with a 5-bit prefix (RFC 7541 C.1.2) as a size update: allowed under an 8 KiB limit.
  const dec = new HpackDecoder();
  dec.setMaxTableSize(8192);
  assert.deepEqual(fieldsOf(dec.decode(hex('3f9a0a 82'))), [f(':method', 'GET')]);
  // Zero continuation octets are a valid (if wasteful) encoding, up to the bound.
  assert.deepEqual(fieldsOf(new HpackDecoder().decode(hex('0f 80 80 80 80 00 01 78'))), [f('accept-charset', 'x')]);
  assert.match(failure(new HpackDecoder().decode(hex('ff8080808080808080807f'))).reason, /integer at byte 0 longer than 6 bytes/);
  assert.match(failure(new HpackDecoder().decode(hex('ffffffffff0f'))).reason, /integer at byte 0 over 4294967295/);
  assert.match(failure(new HpackDecoder().decode(hex('ff'))).reason, /integer at byte 0 cut off/);
});

test('strings: a length past the block end, and a truncated block, fail without reading on', () => {
  const block = Uint8Array.from([0x00, ...hpackString('name'), ...hpackInteger(1_000_000, 7)]);
  const r = failure(new HpackDecoder().decode(block));
  assert.match(r.reason, /string at byte 6 of 1000000 bytes runs past the block end \(0 left\)/);
  assert.equal(r.desynchronised, true);
  assert.match(failure(new HpackDecoder().decode(hex('40'))).reason, /string expected at byte 1, block ended/);
});

test('Huffman faults fail the block: EOS inside, padding not all ones', () => {
  // 'a' (00011) then 3 zero bits of padding.
  assert.match(failure(new HpackDecoder().decode(Uint8Array.from([0x00, 0x01, 0x61, 0x81, 0x18]))).reason, /padding/);
  // EOS: 30 one-bits.
  assert.match(failure(new HpackDecoder().decode(Uint8Array.from([0x00, 0x01, 0x61, 0x84, 0xff, 0xff, 0xff, 0xfc]))).reason, /contains EOS/);
});

test('a failed parse loses the table: later references fail, literals still decode', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  assert.deepEqual(fieldsOf(dec.decode(enc.encode([{ name: 'x-a', value: '1' }]))), [f('x-a', '1')]);
  const bad = failure(dec.decode(hex('40 81')));
  assert.equal(bad.desynchronised, true);
  assert.equal(dec.synchronised, false);
  assert.match(failure(dec.decode(hex('be'))).reason, /not seen/);
  assert.deepEqual(fieldsOf(dec.decode(hex('82'))), [f(':method', 'GET')]);
});

// --- dynamic table size ------------------------------------------------------------------------

test('size updates: only at the block start, at most the peer limit; several in a row allowed', () => {
  const dec = new HpackDecoder();
  assert.match(failure(dec.decode(hex('82 20'))).reason, /table size update at byte 1, after a field/);
  const dec2 = new HpackDecoder();
  assert.match(failure(dec2.decode(Uint8Array.from(hpackInteger(4097, 5, 0x20)))).reason, /update to 4097 at byte 0 over the peer's limit 4096/);
  const dec3 = new HpackDecoder();
  assert.deepEqual(fieldsOf(dec3.decode(Uint8Array.from([0x20, ...hpackInteger(4096, 5, 0x20), 0x82]))), [f(':method', 'GET')]);
});

test('a size update evicts oldest first; an entry larger than the table empties it', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  const first = enc.encode([{ name: 'x-a', value: 'a'.repeat(30) }, { name: 'x-b', value: 'b'.repeat(30) }]);
  fieldsOf(dec.decode(first));
  // Room for one entry (3 + 30 + 32 = 65): x-a (older) goes, x-b stays at 62.
  const shrink = enc.encode([{ name: 'x-b', value: 'b'.repeat(30), rep: 'indexed' }], [70]);
  assert.deepEqual(fieldsOf(dec.decode(shrink)), [f('x-b', 'b'.repeat(30))]);
  assert.match(failure(dec.decode(hex('bf'))).reason, /index 63/);
  const huge = enc.encode([{ name: 'x-c', value: 'c'.repeat(100) }]);
  fieldsOf(dec.decode(huge));
  assert.match(failure(dec.decode(hex('be'))).reason, /index 62 .* past the dynamic table \(0 entries\)/);
});

test('a lowered SETTINGS_HEADER_TABLE_SIZE evicts at once what the encoder must evict', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  fieldsOf(dec.decode(enc.encode([{ name: 'x-a', value: 'a'.repeat(100) }, { name: 'x-b', value: 'b' }])));
  dec.setMaxTableSize(100);
  // The encoder's next block starts with an update to at most 100: x-b (36 bytes) remains.
  assert.deepEqual(fieldsOf(dec.decode(enc.encode([{ name: 'x-b', value: 'b', rep: 'indexed' }], [100]))), [f('x-b', 'b')]);
  assert.match(failure(dec.decode(Uint8Array.from(hpackInteger(101, 5, 0x20)))).reason, /over the peer's limit 100/);
});

test('the table is capped at TABLE_BYTES_CAP whatever the peers agree: references past it fail', () => {
  const enc = new HpackEncoder(1 << 20);
  const dec = new HpackDecoder();
  dec.setMaxTableSize(1 << 20);
  const big = 'v'.repeat(1000);
  const fields = Array.from({ length: 100 }, (_, i) => ({ name: `x-${i}`, value: big }));
  fieldsOf(dec.decode(enc.encode(fields, [1 << 20])));
  const kept = Math.floor(TABLE_BYTES_CAP / (1000 + 4 + 32));
  // The newest entries are there, the oldest past the cap are not.
  assert.deepEqual(fieldsOf(dec.decode(Uint8Array.from(hpackInteger(62, 7, 0x80)))), [f('x-99', big)]);
  assert.ok(!dec.decode(Uint8Array.from(hpackInteger(62 + kept + 1, 7, 0x80))).ok);
});

// --- the header list bound ------------------------------------------------------------------------

test('a header list over maxHeaderListBytes fails clearly; the table stays followed', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder({ maxHeaderListBytes: 1000 });
  const fields = Array.from({ length: 20 }, (_, i) => ({ name: `x-${i}`, value: 'v'.repeat(50) }));
  const r = failure(dec.decode(enc.encode(fields)));
  assert.match(r.reason, /header list over 1000 bytes decoded/);
  assert.equal(r.desynchronised, false);
  // Every insertion of the failed block was followed: the newest is at 62.
  assert.deepEqual(fieldsOf(dec.decode(enc.encode([{ name: 'x-19', value: 'v'.repeat(50), rep: 'indexed' }]))), [f('x-19', 'v'.repeat(50))]);
});

test('a huge header list: bounded memory, one failure', () => {
  // 2 MiB of one-byte-name literals: the decoder stops keeping fields past 256 KiB.
  const one = [0x00, 0x01, 0x61, 0x00];
  const block = new Uint8Array(2 * 1024 * 1024).map((_, i) => one[i % 4]);
  assert.match(failure(new HpackDecoder().decode(block)).reason, /header list over 262144 bytes decoded/);
});
