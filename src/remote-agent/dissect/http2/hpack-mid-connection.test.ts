/**
 * The HPACK decoder joining a connection mid-way (`synchronised: false`): what it can decode, when
 * it knows the whole table again, and that it never emits a wrong field (a property test against
 * an encoder that chooses representations at random).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HpackDecoder, type HpackField, type HpackResult } from './hpack.ts';
import { HpackEncoder, hpackInteger, type FieldLine } from '../../../../test/helpers/hpack-encoder.ts';

const f = (name: string, value: string): HpackField => ({ name, value });

function fieldsOf(r: HpackResult): readonly HpackField[] {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.fields;
}

function failure(r: HpackResult): { reason: string; desynchronised: boolean } {
  assert.ok(!r.ok, 'the block should fail');
  return { reason: r.reason, desynchronised: r.desynchronised };
}

/** An encoder whose table already holds entries the joined decoder never saw. */
function encoderWithHistory(capacity = 4096): HpackEncoder {
  const enc = new HpackEncoder(capacity);
  enc.encode([
    { name: 'user-agent', value: 'grpc-go/1.60' },
    { name: 'x-old', value: 'before the capture' },
  ]);
  return enc;
}

const indexed = (index: number): Uint8Array => Uint8Array.from(hpackInteger(index, 7, 0x80));

test('(b) static table and literals decode whatever the unknown entries are', () => {
  const enc = encoderWithHistory();
  const dec = new HpackDecoder({ synchronised: false });
  assert.equal(dec.synchronised, false);
  const block = enc.encode([
    { name: ':method', value: 'POST', rep: 'indexed' },
    { name: 'x-new', value: '1', rep: 'without', huffman: true },
  ]);
  assert.deepEqual(fieldsOf(dec.decode(block)), [f(':method', 'POST'), f('x-new', '1')]);
  assert.equal(dec.synchronised, false);
});

test('a reference to an entry from before the capture fails the whole block: no field emitted', () => {
  const enc = encoderWithHistory();
  const dec = new HpackDecoder({ synchronised: false });
  const block = enc.encode([
    { name: ':method', value: 'GET', rep: 'indexed' },
    { name: 'user-agent', value: 'grpc-go/1.60', rep: 'indexed' },
  ]);
  const r = failure(dec.decode(block));
  assert.match(r.reason, /index 63 at byte 1 refers to a dynamic table entry not seen \(capture joined the connection after it was sent\)/);
  assert.equal(r.desynchronised, true);
});

test('(c) entries inserted after joining sit at 62.. and decode; past them is unknown', () => {
  const enc = encoderWithHistory();
  const dec = new HpackDecoder({ synchronised: false });
  fieldsOf(dec.decode(enc.encode([{ name: 'x-new', value: 'a' }, { name: 'x-new2', value: 'b' }])));
  assert.deepEqual(fieldsOf(dec.decode(indexed(62))), [f('x-new2', 'b')]);
  assert.deepEqual(fieldsOf(dec.decode(indexed(63))), [f('x-new', 'a')]);
  // 64 is x-old in the encoder's table: not seen.
  assert.match(failure(dec.decode(indexed(64))).reason, /not seen/);
});

test('(c) an insertion named from an unknown entry keeps the positions behind it; references to it fail', () => {
  const enc = encoderWithHistory();
  const dec = new HpackDecoder({ synchronised: false });
  fieldsOf(dec.decode(enc.encode([{ name: 'x-known', value: 'k' }])));
  // The encoder names this one from x-old (an entry from before the capture): the block fails.
  const r = failure(dec.decode(enc.encode([{ name: 'x-old', value: 'new value', rep: 'incremental' }])));
  assert.match(r.reason, /index 63 at byte 0 refers to a dynamic table entry not seen/);
  // 62 is now that placeholder (unknown name), 63 still x-known.
  assert.match(failure(dec.decode(indexed(62))).reason, /not seen/);
  assert.deepEqual(fieldsOf(dec.decode(indexed(63))), [f('x-known', 'k')]);
});

test('(a) a size update to 0 empties the table: synchronised from there', () => {
  const enc = encoderWithHistory();
  const dec = new HpackDecoder({ synchronised: false });
  const block = enc.encode([{ name: 'x-a', value: '1' }], [0, 4096]);
  assert.deepEqual(fieldsOf(dec.decode(block)), [f('x-a', '1')]);
  assert.equal(dec.synchronised, true);
  assert.deepEqual(fieldsOf(dec.decode(indexed(62))), [f('x-a', '1')]);
  assert.match(failure(dec.decode(indexed(63))).reason, /past the dynamic table \(1 entries\)/);
});

test('(c) known entries alone over a certain table size: every older entry is gone, synchronised', () => {
  const enc = encoderWithHistory(4096);
  const dec = new HpackDecoder({ synchronised: false });
  // The decoder saw the peer's SETTINGS_HEADER_TABLE_SIZE (4096) acknowledged: a certain bound.
  dec.setMaxTableSize(4096);
  const big = (i: number): FieldLine => ({ name: `x-${i}`, value: 'v'.repeat(1000) });
  fieldsOf(dec.decode(enc.encode([big(1), big(2), big(3)])));
  assert.equal(dec.synchronised, false, '3 x 1037 bytes fit beside the older entries');
  fieldsOf(dec.decode(enc.encode([big(4)])));
  assert.equal(dec.synchronised, true, '4 x 1037 > 4096: the older entries were evicted first');
  // x-1 was evicted too (the encoder agrees: its table holds 2..4).
  assert.deepEqual(enc.entries.map((e) => e.name), ['x-4', 'x-3', 'x-2']);
  assert.deepEqual(fieldsOf(dec.decode(indexed(64))), [f('x-2', 'v'.repeat(1000))]);
  assert.match(failure(dec.decode(indexed(65))).reason, /past the dynamic table \(3 entries\)/);
});

test('without a certain table size, filling 4096 bytes proves nothing: the peer may allow more', () => {
  const enc = encoderWithHistory(16384);
  const dec = new HpackDecoder({ synchronised: false });
  const big = (i: number): FieldLine => ({ name: `x-${i}`, value: 'v'.repeat(1000) });
  fieldsOf(dec.decode(enc.encode([big(1), big(2), big(3), big(4), big(5)])));
  assert.equal(dec.synchronised, false);
  // The decoder evicted as if the table were 4096 bytes: x-1 and x-2 are gone for it (the encoder
  // still has them): a reference fails, it does not mislead.
  assert.deepEqual(fieldsOf(dec.decode(indexed(62))), [f('x-5', 'v'.repeat(1000))]);
  assert.ok(!dec.decode(indexed(66)).ok);
});

test('joined, then a SETTINGS of 16 KiB seen: entries are kept up to it, as the encoder may', () => {
  // The peers raised the table to 16 KiB before the capture; no size update follows.
  const enc = encoderWithHistory(16384);
  const dec = new HpackDecoder({ synchronised: false });
  dec.setMaxTableSize(16384);
  const big = (i: number): FieldLine => ({ name: `x-${i}`, value: 'v'.repeat(1000) });
  fieldsOf(dec.decode(enc.encode([big(1), big(2), big(3), big(4), big(5), big(6)])));
  assert.deepEqual(fieldsOf(dec.decode(indexed(67))), [f('x-1', 'v'.repeat(1000))]);
});

test('a size update above 4096 is believed when no SETTINGS was seen, refused when it was', () => {
  const blind = new HpackDecoder({ synchronised: false });
  assert.deepEqual(fieldsOf(blind.decode(Uint8Array.from([...hpackInteger(16384, 5, 0x20), 0x82]))), [f(':method', 'GET')]);
  const seen = new HpackDecoder({ synchronised: false });
  seen.setMaxTableSize(4096);
  assert.match(failure(seen.decode(Uint8Array.from([...hpackInteger(16384, 5, 0x20), 0x82]))).reason, /over the peer's limit 4096/);
});

test('a size update tells the table size: entries over it prove the older ones gone', () => {
  const enc = encoderWithHistory();
  const dec = new HpackDecoder({ synchronised: false });
  fieldsOf(dec.decode(enc.encode([{ name: 'x-a', value: 'v'.repeat(200) }])));
  fieldsOf(dec.decode(enc.encode([{ name: 'x-b', value: 'v'.repeat(200) }], [300])));
  assert.equal(dec.synchronised, true);
  assert.deepEqual(fieldsOf(dec.decode(indexed(62))), [f('x-b', 'v'.repeat(200))]);
});

// --- never a wrong header ------------------------------------------------------------------------

const NAMES = ['x-a', 'x-b', 'user-agent', ':path', ':authority', 'cookie', 'content-type', 'grpc-timeout'];
const VALUES = ['', '1', 'application/grpc', '/svc.Echo/Say', 'example.com:443', 'a=b; c=d'];

const fieldLine: fc.Arbitrary<FieldLine> = fc.record({
  name: fc.constantFrom(...NAMES),
  value: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...VALUES) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 1500 }).map((n) => 'v'.repeat(n)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('latin1')) },
  ),
  rep: fc.constantFrom('indexed', 'indexed', 'incremental', 'without', 'never'),
  nameRef: fc.boolean(),
  huffman: fc.boolean(),
});

interface Scenario {
  /** The peer's SETTINGS_HEADER_TABLE_SIZE. */
  readonly limit: number;
  readonly blocks: readonly { readonly sizeUpdate: number | null; readonly fields: readonly FieldLine[] }[];
  readonly joinAt: number;
  readonly settingsSeen: boolean;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    limit: fc.constantFrom(256, 4096, 8192),
    blocks: fc.array(
      fc.record({
        // Rare, as with real encoders; when present, a fraction of the limit, 0 and the limit itself.
        sizeUpdate: fc.oneof(
          { weight: 12, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom(0, 1) },
          { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
        ),
        fields: fc.array(fieldLine, { maxLength: 8 }),
      }),
      { minLength: 2, maxLength: 25 },
    ),
    join: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    settingsSeen: fc.boolean(),
  })
  .map(({ limit, blocks, join, settingsSeen }) => ({
    limit,
    // A size update sets a fraction of the limit (0 included); a limit below the initial 4096
    // obliges the first block to shrink the table (RFC 7541 §4.2).
    blocks: blocks.map((b, i) => ({
      sizeUpdate: i === 0 && limit < 4096 ? limit : b.sizeUpdate === null ? null : Math.floor(b.sizeUpdate * limit),
      fields: b.fields,
    })),
    // After at least one block: the encoder's table may hold entries the decoder never sees.
    joinAt: 1 + Math.floor(join * (blocks.length - 1)),
    settingsSeen,
  }));

const stats = { joinedOk: 0, joinedFailed: 0, recovered: 0 };

test('never a wrong header: a decoder joining at any block emits only what was sent', () => {
  fc.assert(
    fc.property(scenario, (s) => {
      const enc = new HpackEncoder(4096);
      const encoded = s.blocks.map((b) => enc.encode(b.fields, b.sizeUpdate === null ? [] : [b.sizeUpdate]));
      const truth = s.blocks.map((b) => b.fields.map((l) => (l.rep === 'never' ? { name: l.name, value: l.value, neverIndexed: true } : f(l.name, l.value))));

      const fromStart = new HpackDecoder();
      fromStart.setMaxTableSize(s.limit);
      encoded.forEach((block, i) => assert.deepEqual(fieldsOf(fromStart.decode(block)), truth[i], `block ${i} from the start`));
      assert.equal(fromStart.synchronised, true);

      const joined = new HpackDecoder({ synchronised: false });
      if (s.settingsSeen) joined.setMaxTableSize(s.limit);
      for (let i = s.joinAt; i < encoded.length; i++) {
        const r = joined.decode(encoded[i]);
        if (r.ok) {
          assert.deepEqual(r.fields, truth[i], `block ${i}, joined at ${s.joinAt}`);
          stats.joinedOk++;
        } else {
          assert.match(r.reason, /not seen|past the dynamic table/);
          stats.joinedFailed++;
        }
        // Once synchronised, it decodes every later block.
        if (joined.synchronised) {
          stats.recovered++;
          for (let j = i + 1; j < encoded.length; j++) assert.deepEqual(fieldsOf(joined.decode(encoded[j])), truth[j], `block ${j} after recovery`);
          break;
        }
      }
    }),
    { numRuns: 1500 },
  );
  // The property is not vacuous: joined decoders decoded blocks, failed some, and recovered.
  console.log(`joined decoders: ${JSON.stringify(stats)}`);
  assert.ok(stats.joinedOk > 1000 && stats.joinedFailed > 100 && stats.recovered > 100, JSON.stringify(stats));
});
