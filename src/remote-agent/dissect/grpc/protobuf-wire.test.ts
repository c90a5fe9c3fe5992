import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { decodeSchemaless, MAX_DEPTH, printableText } from './protobuf-wire.ts';

test('every wire type, written by @bufbuild/protobuf, read back', () => {
  const inner = new BinaryWriter().tag(1, 2).string('Main St').tag(3, 0).uint32(12345).finish();
  const bytes = new BinaryWriter()
    .tag(1, 0).uint32(150)
    .tag(2, 2).string('hello, world\n')
    .tag(3, 2).bytes(inner)
    .tag(4, 1).fixed64(1234567890123n)
    .tag(5, 5).fixed32(0xdeadbeef)
    .tag(6, 2).bytes(Uint8Array.of(0, 1, 2, 0xff))
    .tag(536870911, 0).uint32(1)
    .finish();
  const r = decodeSchemaless(bytes);
  assert.equal(r.complete, true);
  assert.deepEqual(r.fields, [
    { no: 1, wire: 'varint', value: 150 },
    { no: 2, wire: 'len', string: 'hello, world\n' },
    { no: 3, wire: 'len', message: [{ no: 1, wire: 'len', string: 'Main St' }, { no: 3, wire: 'varint', value: 12345 }] },
    { no: 4, wire: 'i64', value: 1234567890123 },
    { no: 5, wire: 'i32', value: 0xdeadbeef },
    { no: 6, wire: 'len', bytes: 'AAEC/w==' },
    { no: 536870911, wire: 'varint', value: 1 },
  ]);
});

test('64-bit values stay exact past 2^53, as decimal strings', () => {
  const bytes = new BinaryWriter()
    .tag(1, 0).uint64(18446744073709551615n)
    .tag(2, 0).int64(-1n) // ten-byte varint: unsigned 2^64-1
    .tag(3, 0).uint64(9007199254740993n)
    .tag(4, 1).fixed64(18446744073709551615n)
    .tag(5, 0).uint64(9007199254740991n)
    .finish();
  assert.deepEqual(decodeSchemaless(bytes).fields, [
    { no: 1, wire: 'varint', value: '18446744073709551615' },
    { no: 2, wire: 'varint', value: '18446744073709551615' },
    { no: 3, wire: 'varint', value: '9007199254740993' },
    { no: 4, wire: 'i64', value: '18446744073709551615' },
    { no: 5, wire: 'varint', value: 9007199254740991 },
  ]);
});

test('groups (wire types 3 and 4) read as nested messages, hand-encoded', () => {
  // field 1 start group, field 2 varint 5, field 1 end group, field 3 varint 1
  const r = decodeSchemaless(Uint8Array.of(0x0b, 0x10, 0x05, 0x0c, 0x18, 0x01));
  assert.equal(r.complete, true);
  assert.deepEqual(r.fields, [{ no: 1, wire: 'group', message: [{ no: 2, wire: 'varint', value: 5 }] }, { no: 3, wire: 'varint', value: 1 }]);
  // An unclosed group, and an end tag for another field, are not protobuf.
  assert.equal(decodeSchemaless(Uint8Array.of(0x0b, 0x10, 0x05)).complete, false);
  assert.equal(decodeSchemaless(Uint8Array.of(0x0b, 0x10, 0x05, 0x14)).complete, false);
});

test('short text is text, not a message, though it parses as one', () => {
  // "hi" is field 13 varint 105 on the wire; "ok" field 13 wire 7 (invalid). Both are text here.
  for (const t of ['hi', 'ok', 'a', 'HTTP', 'x=1', 'héllo wörld', 'tab\there', '']) {
    const bytes = new BinaryWriter().tag(1, 2).string(t).finish();
    assert.deepEqual(decodeSchemaless(bytes).fields, [{ no: 1, wire: 'len', string: t }], t);
  }
  assert.equal(printableText(Uint8Array.of(0x68, 0x69)), 'hi');
  // Control characters, C1 controls, DEL and invalid UTF-8 are not text.
  for (const b of [[0x00], [0x1b, 0x5b], [0x7f], [0xc2, 0x85], [0xff, 0xfe], [0xc3]]) assert.equal(printableText(Uint8Array.from(b)), null, String(b));
});

test('bytes that are neither text nor a whole message stay base64', () => {
  // Packed repeated varints [1,2,3]: 01 is field 0, not a tag. A truncated message: not whole.
  const bytes = new BinaryWriter().tag(1, 2).bytes(Uint8Array.of(1, 2, 3)).tag(2, 2).bytes(Uint8Array.of(0x0a, 0x05, 0x61)).finish();
  assert.deepEqual(decodeSchemaless(bytes).fields, [
    { no: 1, wire: 'len', bytes: 'AQID' },
    { no: 2, wire: 'len', bytes: 'CgVh' },
  ]);
});

test('not protobuf: the fields before the fault, complete false, nothing thrown', () => {
  const r = decodeSchemaless(Uint8Array.of(0x08, 0x01, 0x07, 0x00));
  assert.equal(r.complete, false);
  assert.deepEqual(r.fields, [{ no: 1, wire: 'varint', value: 1 }]);
  // An over-long varint (11 bytes), a length past the end, wire types 6 and 7, field 0.
  for (const b of [[0x08, ...Array(10).fill(0xff), 0x01], [0x0a, 0x05, 0x61], [0x0e], [0x0f], [0x00, 0x00], [0x08]]) {
    const bad = decodeSchemaless(Uint8Array.from(b));
    assert.equal(bad.complete, false, String(b));
  }
  assert.deepEqual(decodeSchemaless(new Uint8Array(0)), { fields: [], complete: true, cut: false });
});

test('depth is bounded: nesting past MAX_DEPTH stays bytes, in linear time', () => {
  let bytes: Uint8Array = new BinaryWriter().tag(1, 0).uint32(1).finish();
  for (let i = 0; i < 200; i++) bytes = new BinaryWriter().tag(1, 2).bytes(bytes).finish();
  const start = performance.now();
  const r = decodeSchemaless(bytes);
  assert.ok(performance.now() - start < 1000);
  let depth = 0;
  let f = r.fields[0];
  while (f?.message) {
    depth++;
    f = f.message[0];
  }
  assert.equal(depth, MAX_DEPTH - 1);
  assert.ok(f?.bytes !== undefined);
  // Deep groups: no recursion past the bound either.
  const groups = Uint8Array.from([...Array(10_000).fill(0x0b), ...Array(10_000).fill(0x0c)]);
  assert.equal(decodeSchemaless(groups).complete, false);
});

test('the field count is bounded, and says so', () => {
  const w = new BinaryWriter();
  for (let i = 0; i < 100; i++) w.tag(1, 0).uint32(i);
  const r = decodeSchemaless(w.finish(), 10);
  assert.equal(r.fields.length, 10);
  assert.equal(r.cut, true);
});

test('hostile bytes never throw, and what decodes whole re-encodes to bytes that decode the same', () => {
  // Not byte-equal: a varint may be written longer than needed (0x80 0x00 is 0).
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = decodeSchemaless(bytes);
      if (r.complete && !r.cut) assert.deepEqual(decodeSchemaless(encode(r.fields)).fields, r.fields);
    }),
    { numRuns: 3000 },
  );
});

/** Writes decoded fields back (for the round-trip property). */
function encode(fields: ReturnType<typeof decodeSchemaless>['fields']): Uint8Array {
  const w = new BinaryWriter();
  for (const f of fields) {
    switch (f.wire) {
      case 'varint':
        w.tag(f.no, 0).uint64(BigInt(f.value!));
        break;
      case 'i64':
        w.tag(f.no, 1).fixed64(BigInt(f.value!));
        break;
      case 'i32':
        w.tag(f.no, 5).fixed32(Number(f.value));
        break;
      case 'len':
        w.tag(f.no, 2).bytes(f.message ? encode(f.message) : f.string !== undefined ? new TextEncoder().encode(f.string) : Buffer.from(f.bytes!, 'base64'));
        break;
      case 'group':
        w.tag(f.no, 3).raw(encode(f.message!)).tag(f.no, 4);
        break;
    }
  }
  return w.finish();
}
