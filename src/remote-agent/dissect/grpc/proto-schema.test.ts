import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { SharkError } from '../../../model/errors.ts';
import { REPO_ROOT } from '../../../../test/helpers/shared-pcaps.ts';
import { DEFAULT_DISSECT_OPTIONS } from '../dissector.ts';
import { openGrpcCall } from './index.ts';
import { loadProtoDescriptor, loadProtoDescriptorFile, MAX_PROTO_DESCRIPTOR_BYTES } from './proto-schema.ts';
import { MAX_DEPTH } from './protobuf-wire.ts';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/grpc');
const dir = mkdtempSync(join(tmpdir(), 'shark-proto-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `protoc -o` of `files` (relative to `include`), as a user would make the set. */
function protoc(include: string, files: readonly string[], includeImports: boolean): string {
  const out = join(dir, `set-${Math.random().toString(36).slice(2)}.pb`);
  execFileSync('protoc', [`-I${include}`, ...(includeImports ? ['--include_imports'] : []), `-o${out}`, ...files]);
  return out;
}

const SHARK_SET = protoc(FIXTURES, ['shark_test.proto'], false);
const shark = loadProtoDescriptorFile(SHARK_SET).schema;
/** The same set in @bufbuild/protobuf's registry, to encode test messages as a client library would. */
const encoder = createFileRegistry(fromBinary(FileDescriptorSetSchema, execFileSync('cat', [SHARK_SET])));

function encode(typeName: string, init: Record<string, unknown>): Uint8Array {
  const desc = encoder.getMessage(typeName) as DescMessage;
  return toBinary(desc, create(desc, init));
}

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

test('the RPC types come from the service descriptor by :path', () => {
  assert.deepEqual(shark.rpcTypes('sharktest.Echo', 'Say'), { input: 'sharktest.SayRequest', output: 'sharktest.SayReply' });
  assert.deepEqual(shark.rpcTypes('sharktest.Echo', 'Chat'), { input: 'sharktest.ChatMessage', output: 'sharktest.ChatMessage' });
  assert.equal(shark.rpcTypes('sharktest.Echo', 'Nope'), null);
  assert.equal(shark.rpcTypes('other.Svc', 'Say'), null);
});

test('a call decoded with the schema: canonical proto3 JSON, 64-bit as strings, bytes base64, enums by name', () => {
  const request = encode('sharktest.SayRequest', {
    text: 'hello',
    password: 'hunter2',
    big: -9007199254740993n,
    huge: 18446744073709551615n,
    delta: -5n,
    stamp: 1234n,
    loud: true,
    ratio: 0.5,
    blob: Uint8Array.of(0, 1, 2, 255),
    mood: 2,
    from: { name: 'Ann', age: 41, address: { street: 'Main St', city: 'Springfield', zip: 12345 }, tags: ['a', 'b'] },
    friends: [{ name: 'Bob' }, { name: 'Cy' }],
    numbers: [1, -2, 3],
    labels: { env: 'prod' },
  });
  const call = openGrpcCall({ ':path': '/sharktest.Echo/Say', 'content-type': 'application/grpc' }, { ...DEFAULT_DISSECT_OPTIONS, protobufSchema: shark });
  call.requestData(frame(request));
  call.responseHeaders({ ':status': '200' });
  call.responseData(frame(encode('sharktest.SayReply', { text: 'hi Ann', big: 7n, mood: 1 })));
  call.trailers({ 'grpc-status': '0' });
  const c = call.finish();
  assert.deepEqual(c.requestMessages, [
    {
      size: request.length,
      compressed: false,
      type: 'sharktest.SayRequest',
      json: {
        text: 'hello',
        password: 'hunter2',
        big: '-9007199254740993',
        huge: '18446744073709551615',
        delta: '-5',
        stamp: '1234',
        loud: true,
        ratio: 0.5,
        blob: 'AAEC/w==',
        mood: 'MOOD_GRUMPY',
        from: { name: 'Ann', age: 41, address: { street: 'Main St', city: 'Springfield', zip: 12345 }, tags: ['a', 'b'] },
        friends: [{ name: 'Bob' }, { name: 'Cy' }],
        numbers: [1, -2, 3],
        labels: { env: 'prod' },
      },
    },
  ]);
  assert.deepEqual(c.responseMessages[0]!.json, { text: 'hi Ann', big: '7', mood: 'MOOD_HAPPY' });
  assert.equal(c.responseMessages[0]!.type, 'sharktest.SayReply');
});

test('an unknown method decodes without the schema; bytes that do not parse as the type fall back, saying so', () => {
  const opts = { ...DEFAULT_DISSECT_OPTIONS, protobufSchema: shark };
  const unknown = openGrpcCall({ ':path': '/sharktest.Echo/Missing' }, opts);
  unknown.requestData(frame(encode('sharktest.CountRequest', { count: 3, prefix: 'n' })));
  const u = unknown.finish().requestMessages[0]!;
  assert.equal(u.type, undefined);
  assert.deepEqual(u.fields, [{ no: 1, wire: 'varint', value: 3 }, { no: 2, wire: 'len', string: 'n' }]);

  // Field 1 of SayRequest is a string; a varint there does not parse as the type.
  const wrong = openGrpcCall({ ':path': '/sharktest.Echo/Say' }, opts);
  wrong.requestData(frame(Uint8Array.of(0x08, 0x96, 0x01)));
  const w = wrong.finish().requestMessages[0]!;
  assert.equal(w.json, undefined);
  assert.deepEqual(w.fields, [{ no: 1, wire: 'varint', value: 150 }]);
  assert.match(w.error!, /^does not parse as sharktest\.SayRequest \(.+\); decoded without the schema$/);
});

test('imports: with --include_imports all resolve; without it the well-known types are supplied, others are named as missing', () => {
  // protoc here has no well-known .proto files (Debian's are in libprotobuf-dev): a stand-in with
  // Timestamp's name and fields lets it compile; the loader then takes @bufbuild/protobuf's own.
  mkdirSync(join(dir, 'google/protobuf'), { recursive: true });
  writeFileSync(join(dir, 'google/protobuf/timestamp.proto'), 'syntax = "proto3";\npackage google.protobuf;\nmessage Timestamp { int64 seconds = 1; int32 nanos = 2; }\n');
  writeFileSync(join(dir, 'common.proto'), 'syntax = "proto3";\npackage common;\nmessage Money { int64 cents = 1; string currency = 2; }\n');
  writeFileSync(
    join(dir, 'shop.proto'),
    'syntax = "proto3";\npackage shop;\nimport "common.proto";\nimport "google/protobuf/timestamp.proto";\n' +
      'message Order { common.Money price = 1; google.protobuf.Timestamp at = 2; }\nservice Shop { rpc Buy(Order) returns (Order); }\n',
  );
  writeFileSync(join(dir, 'clock.proto'), 'syntax = "proto3";\npackage clock;\nimport "google/protobuf/timestamp.proto";\nmessage Tick { google.protobuf.Timestamp at = 1; }\nservice Clock { rpc Now(Tick) returns (Tick); }\n');

  const whole = loadProtoDescriptorFile(protoc(dir, ['shop.proto'], true)).schema;
  assert.deepEqual(whole.rpcTypes('shop.Shop', 'Buy'), { input: 'shop.Order', output: 'shop.Order' });
  const order = Uint8Array.from([0x0a, 0x03, 0x08, 0xe8, 0x07, 0x12, 0x02, 0x08, 0x3c]); // price.cents 1000, at.seconds 60
  assert.deepEqual(whole.toJson('shop.Order', order), { price: { cents: '1000' }, at: '1970-01-01T00:01:00Z' });

  const wellKnownOnly = loadProtoDescriptorFile(protoc(dir, ['clock.proto'], false)).schema;
  assert.deepEqual(wellKnownOnly.toJson('clock.Tick', Uint8Array.of(0x0a, 0x02, 0x08, 0x3c)), { at: '1970-01-01T00:01:00Z' });

  const lacking = protoc(dir, ['shop.proto'], false);
  assert.throws(
    () => loadProtoDescriptorFile(lacking),
    (err: unknown) =>
      err instanceof SharkError &&
      err.code === 'USAGE' &&
      err.message === `--proto-descriptor ${lacking}: the set lacks imported files: common.proto (imported by shop.proto): write one with \`protoc --include_imports -o FILE.pb your.proto\` or \`buf build -o FILE.pb\``,
  );
});

test('a bad descriptor: one message with what, where and what to do, and the error code the exit code follows', () => {
  const cases: Array<[string, Uint8Array | null, RegExp, string]> = [
    ['missing.pb', null, /^--proto-descriptor .*missing\.pb: cannot read the file \(ENOENT/, 'IO_ERROR'],
    ['empty.pb', new Uint8Array(0), /: the file is empty, not a FileDescriptorSet: write one with `protoc --include_imports -o FILE\.pb your\.proto`/, 'USAGE'],
    ['source.pb', new TextEncoder().encode('// hi\nsyntax = "proto3";'), /: this is \.proto source text; the flag takes the compiled FileDescriptorSet: write one/, 'USAGE'],
    ['garbage.pb', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff), /: not a FileDescriptorSet \(.+\): write one/, 'USAGE'],
    ['nameless.pb', Uint8Array.of(0x0a, 0x00), /: not a FileDescriptorSet \(it holds no named \.proto files\): write one/, 'USAGE'],
  ];
  for (const [name, bytes, message, code] of cases) {
    const path = join(dir, name);
    if (bytes !== null) writeFileSync(path, bytes);
    assert.throws(
      () => loadProtoDescriptorFile(path),
      (err: unknown) => err instanceof SharkError && err.code === code && message.test(err.message) && !err.message.includes('\n    at '),
      name,
    );
  }
  // A set whose types do not resolve (a field of a type no file defines).
  const broken = toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, { file: [{ name: 'b.proto', syntax: 'proto3', messageType: [{ name: 'M', field: [{ name: 'x', number: 1, type: 11, typeName: '.nowhere.T', label: 1 }] }] }] }),
  );
  assert.throws(() => loadProtoDescriptor(broken, '--proto-descriptor b.pb'), /^SharkError: --proto-descriptor b\.pb: the descriptors do not resolve \(.+\): write one/);
});

test('a descriptor file past the size bound is refused before it is read', () => {
  const big = join(dir, 'big.pb');
  writeFileSync(big, new Uint8Array(MAX_PROTO_DESCRIPTOR_BYTES + 1));
  assert.throws(() => loadProtoDescriptorFile(big), /: the file is larger than the 16 MiB a descriptor set may be: give a set of only/);
});

test('hostile bytes through the schema path: never thrown out; a deep nest is skipped by the schema, bounded without it', () => {
  const opts = { ...DEFAULT_DISSECT_OPTIONS, maxBodyBytes: 1 << 20, protobufSchema: shark };
  // SayRequest.friends (12) holding field 12 holding field 12... 20,000 deep: unknown to Person, and
  // a message nest far past the schemaless depth bound.
  // Prefixes from the inside out (field 12, the length of what follows), joined once.
  const core = Uint8Array.of(0x0a, 0x01, 0x61);
  const prefixes: Uint8Array[] = [];
  let inner = core.length;
  for (let i = 0; i < 20_000; i++) {
    const prefix = Uint8Array.from([0x62, ...new BinaryWriter().uint32(inner).finish()]);
    prefixes.push(prefix);
    inner += prefix.length;
  }
  const deep = Uint8Array.from(Buffer.concat([...prefixes.reverse(), core]));
  const call = openGrpcCall({ ':path': '/sharktest.Echo/Say' }, opts);
  call.requestData(frame(deep));
  // Person has no field 12: the schema skips the nest as one unknown field.
  assert.deepEqual(call.finish().requestMessages[0]!.json, { friends: [{}] });
  // The same nest under an unknown method: wire fields, guessed MAX_DEPTH levels deep, then bytes.
  const unknown = openGrpcCall({ ':path': '/sharktest.Echo/Nope' }, opts);
  unknown.requestData(frame(deep));
  let level = unknown.finish().requestMessages[0]!.fields![0];
  let depth = 0;
  while (level?.message) {
    level = level.message[0];
    depth++;
  }
  assert.equal(depth, MAX_DEPTH - 1);
  assert.ok(level?.bytes !== undefined);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('Say', 'Count', 'Sum', 'Chat'), (bytes, method) => {
      const c = openGrpcCall({ ':path': `/sharktest.Echo/${method}` }, opts);
      c.requestData(frame(bytes));
      c.responseData(frame(bytes));
      JSON.stringify(c.finish());
    }),
    { numRuns: 1000 },
  );
});
