import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { DEFAULT_DISSECT_OPTIONS, type DissectOptions } from '../dissector.ts';
import type { GrpcCall } from './entry.ts';
import { isGrpcContentType, openGrpcCall } from './index.ts';
import { MAX_KEPT_MESSAGES } from './message-side.ts';

const REQUEST = { ':method': 'POST', ':scheme': 'http', ':path': '/sharktest.Echo/Say', ':authority': 'x', 'content-type': 'application/grpc', te: 'trailers' };

/** A length-prefixed gRPC message. */
function frame(payload: Uint8Array, compressed = false): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** A protobuf message `{1: text, 2: n}` written with @bufbuild/protobuf's writer. */
function textAndNumber(text: string, n: number): Uint8Array {
  return new BinaryWriter().tag(1, 2).string(text).tag(2, 0).uint32(n).finish();
}

function call(opts: Partial<DissectOptions>, feed: (c: ReturnType<typeof openGrpcCall>) => void, headers: Record<string, string> = REQUEST): GrpcCall {
  const c = openGrpcCall(headers, { ...DEFAULT_DISSECT_OPTIONS, ...opts });
  feed(c);
  return c.finish();
}

test('content types: application/grpc and its +suffix forms are gRPC; grpc-web and others are not', () => {
  for (const t of ['application/grpc', 'application/grpc+proto', 'application/grpc+json', 'Application/GRPC; charset=utf-8', ' application/grpc+proto ;x=1']) assert.equal(isGrpcContentType(t), true, t);
  for (const t of [undefined, '', 'application/grpc-web', 'application/grpc-web-text', 'application/grpc-web+proto', 'application/json', 'application/grpcx']) assert.equal(isGrpcContentType(t), false, String(t));
});

test('a unary call: service, method, status, messages decoded without a schema', () => {
  const c = call({}, (c) => {
    c.requestData(frame(textAndNumber('hello', 7)));
    c.responseHeaders({ ':status': '200', 'content-type': 'application/grpc' });
    c.responseData(frame(textAndNumber('world', 300)));
    c.trailers({ 'grpc-status': '0', 'grpc-message': '' });
  });
  assert.equal(c.service, 'sharktest.Echo');
  assert.equal(c.method, 'Say');
  assert.equal(c.status, 0);
  assert.equal(c.statusName, 'OK');
  assert.equal(c.message, '');
  assert.equal(c.requestEncoding, 'identity');
  assert.equal(c.timeoutMs, null);
  assert.equal(c.requestMessageCount, 1);
  assert.deepEqual(c.requestMessages, [{ size: 9, compressed: false, fields: [{ no: 1, wire: 'len', string: 'hello' }, { no: 2, wire: 'varint', value: 7 }] }]);
  assert.deepEqual(c.responseMessages[0]!.fields, [{ no: 1, wire: 'len', string: 'world' }, { no: 2, wire: 'varint', value: 300 }]);
  assert.equal(c.error, undefined);
});

test('framing: any chunking of several messages gives the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.string({ maxLength: 40 }), fc.nat(1 << 30)), { minLength: 0, maxLength: 8 }),
      fc.array(fc.nat(60), { maxLength: 30 }),
      (messages, cuts) => {
        const wire = join(messages.map(([t, n]) => frame(textAndNumber(t, n))));
        const whole = call({}, (c) => c.responseData(wire));
        // Cut the same bytes at arbitrary points (empty chunks included).
        const chunked = call({}, (c) => {
          let at = 0;
          for (const len of cuts) {
            c.responseData(wire.subarray(at, Math.min(wire.length, at + len)));
            at = Math.min(wire.length, at + len);
          }
          c.responseData(wire.subarray(at));
        });
        assert.equal(whole.responseMessageCount, messages.length);
        assert.deepEqual(chunked, whole);
        messages.forEach(([t, n], i) => {
          const fields = whole.responseMessages[i]!.fields!;
          assert.equal(fields[1]!.value, n);
          assert.equal(fields[0]!.string ?? Buffer.from(fields[0]!.bytes ?? '', 'base64').toString(), t);
        });
      },
    ),
    { numRuns: 300 },
  );
});

test('one message spread over many chunks, one byte at a time', () => {
  const wire = frame(textAndNumber('x'.repeat(1000), 1));
  const c = call({}, (c) => {
    for (let i = 0; i < wire.length; i++) c.requestData(wire.subarray(i, i + 1));
  });
  assert.equal(c.requestMessageCount, 1);
  assert.equal(c.requestMessages[0]!.fields![0]!.string, 'x'.repeat(1000));
});

test('gzip messages per side (grpc-encoding), with the compressed flag per message', () => {
  const plain = textAndNumber('compressed hello', 42);
  const gz = zlib.gzipSync(plain);
  const c = call(
    {},
    (c) => {
      c.requestData(join([frame(gz, true), frame(plain, false)]));
      c.responseHeaders({ ':status': '200', 'grpc-encoding': 'deflate' });
      c.responseData(frame(zlib.deflateSync(plain), true));
      c.trailers({ 'grpc-status': '0' });
    },
    { ...REQUEST, 'grpc-encoding': 'gzip' },
  );
  assert.equal(c.requestEncoding, 'gzip');
  assert.equal(c.responseEncoding, 'deflate');
  const [first, second] = c.requestMessages;
  assert.equal(first!.compressed, true);
  assert.equal(first!.size, gz.length);
  assert.equal(first!.decodedSize, plain.length);
  assert.equal(first!.fields![0]!.string, 'compressed hello');
  assert.equal(second!.compressed, false);
  assert.equal(second!.decodedSize, undefined);
  assert.equal(c.responseMessages[0]!.fields![1]!.value, 42);
});

test('unknown encodings are counted, not decoded, and say why; so is a compressed flag without an encoding', () => {
  const c = call(
    {},
    (c) => {
      c.requestData(join([frame(Uint8Array.of(1, 2, 3), true), frame(Uint8Array.of(8, 1))]));
      c.responseHeaders({ ':status': '200' });
      c.responseData(frame(Uint8Array.of(1, 2, 3), true));
    },
    { ...REQUEST, 'grpc-encoding': 'snappy' },
  );
  assert.equal(c.requestMessageCount, 2);
  assert.match(c.requestMessages[0]!.error!, /grpc-encoding snappy is not one this tool decodes/);
  assert.equal(c.requestMessages[0]!.fields, undefined);
  assert.deepEqual(c.requestMessages[1]!.fields, [{ no: 1, wire: 'varint', value: 1 }]);
  assert.match(c.responseMessages[0]!.error!, /compressed flag is set but the call has no grpc-encoding/);
  assert.match(call({}, (c) => c.requestData(frame(Uint8Array.of(1, 2, 3), true)), { ...REQUEST, 'grpc-encoding': 'gzip' }).requestMessages[0]!.error!, /gzip decompression failed/);
});

test('bounds: a 4 GiB declared length allocates nothing and is counted; --max-body caps what is kept per side', () => {
  const huge = Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3);
  const chunk = new Uint8Array(64 * 1024);
  const before = process.memoryUsage().arrayBuffers;
  const c = call({ maxBodyBytes: 16 }, (c) => {
    c.requestData(huge);
    for (let i = 0; i < 1000; i++) c.requestData(chunk);
  });
  assert.ok(process.memoryUsage().arrayBuffers - before < 8 * 1024 * 1024);
  assert.equal(c.requestMessageCount, 1);
  const m = c.requestMessages[0]!;
  assert.equal(m.size, 0xffffffff);
  assert.equal(m.truncated, true);
  assert.match(m.error!, /the call ended 65536003 bytes into this 4294967295-byte message/);

  // 16 bytes per side: the first message whole, the second cut, the rest only counted.
  const msg = textAndNumber('0123456789', 1); // 14 bytes
  const capped = call({ maxBodyBytes: 16 }, (c) => c.responseData(join([frame(msg), frame(msg), frame(msg)])));
  assert.equal(capped.responseMessageCount, 3);
  assert.equal(capped.responseMessages.length, 2);
  assert.equal(capped.responseMessages[0]!.truncated, undefined);
  assert.equal(capped.responseMessages[1]!.truncated, true);
  assert.match(capped.responseMessages[1]!.error!, /cut by --max-body: 2 of 14 bytes kept/);

  // A stream of empty messages: all counted, MAX_KEPT_MESSAGES kept.
  const empties = call({}, (c) => c.responseData(join(Array.from({ length: 1000 }, () => frame(new Uint8Array(0))))));
  assert.equal(empties.responseMessageCount, 1000);
  assert.equal(empties.responseMessages.length, MAX_KEPT_MESSAGES);
  assert.deepEqual(empties.responseMessages[0], { size: 0, compressed: false, fields: [] });
});

test('bounds: a compressed message past the 4 MiB encoded cap decodes as a prefix, and says so', () => {
  const gz = zlib.gzipSync(randomBytes(5 * 1024 * 1024), { level: 1 });
  const c = call({ maxBodyBytes: 1024 }, (c) => c.requestData(frame(gz, true)), { ...REQUEST, 'grpc-encoding': 'gzip' });
  const m = c.requestMessages[0]!;
  assert.equal(m.size, gz.length);
  assert.equal(m.decodedSize, undefined);
  assert.equal(m.truncated, true);
  assert.match(m.error!, /^only the first 4\.0 MiB of 5\.\d MiB compressed were kept$/);
});

test('bounds: a gzip bomb stops at the decoder ceiling', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(200 * 1024 * 1024));
  const c = call({ maxBodyBytes: 1024 }, (c) => c.requestData(frame(bomb, true)), { ...REQUEST, 'grpc-encoding': 'gzip' });
  assert.match(c.requestMessages[0]!.error!, /gzip decompression failed \(ERR_BUFFER_TOO_LARGE\)/);
});

test('gaps stop splitting that side, are counted and said in the call', () => {
  const msg = frame(textAndNumber('abc', 1));
  const c = call({}, (c) => {
    c.requestData(join([msg, msg.subarray(0, 4)]));
    c.gap('request', 100);
    c.requestData(msg);
    c.responseData(msg);
    c.trailers({ 'grpc-status': '0' });
  });
  assert.equal(c.requestMessageCount, 1);
  assert.equal(c.responseMessageCount, 1);
  assert.match(c.error!, /^request: lost 100 bytes in the capture; the messages after them are not split, so the count is a lower bound$/);
  // Mid-message: the message is kept as cut.
  const mid = call({}, (c) => {
    c.responseData(msg.subarray(0, 7));
    c.gap('response', 10);
  });
  assert.equal(mid.responseMessages[0]!.truncated, true);
  assert.match(mid.responseMessages[0]!.error!, /the capture lost bytes inside it \(2 of its 7 bytes seen before\)/);
  assert.match(mid.error!, /^response: lost 10 bytes/);
});

test('a prefix flag other than 0 or 1 is not gRPC framing: the side stops splitting and says so', () => {
  const c = call({}, (c) => c.responseData(Uint8Array.from(Buffer.from('HTTP/1.1 200 OK\r\n'))));
  assert.equal(c.responseMessageCount, 0);
  assert.match(c.error!, /response: message 1 has prefix flag 0x48 \(not 0 or 1\)/);
});

test('status: trailers, trailers-only, names for 0..16, CODE_<n> past them, null without one', () => {
  const names = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];
  names.forEach((name, code) => {
    const c = call({}, (c) => c.trailers({ 'grpc-status': String(code) }));
    assert.deepEqual([c.status, c.statusName], [code, name]);
  });
  const only = call({}, (c) => c.responseHeaders({ ':status': '200', 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown method' }));
  assert.deepEqual([only.status, only.statusName, only.message], [12, 'UNIMPLEMENTED', 'unknown method']);
  assert.deepEqual(
    ((c) => [c.status, c.statusName])(call({}, (c) => c.trailers({ 'grpc-status': '42' }))),
    [42, 'CODE_42'],
  );
  for (const bad of ['', 'abc', '-1', '1.5', '9999999999']) assert.equal(call({}, (c) => c.trailers({ 'grpc-status': bad })).status, null, bad);
  const none = call({}, (c) => c.responseHeaders({ ':status': '200' }));
  assert.deepEqual([none.status, none.statusName, none.message], [null, null, null]);
});

test('grpc-message is percent-decoded UTF-8; malformed escapes are kept as sent', () => {
  const msg = (m: string) => call({}, (c) => c.trailers({ 'grpc-status': '2', 'grpc-message': m })).message;
  assert.equal(msg('no%20such%20user'), 'no such user');
  assert.equal(msg('caf%C3%A9 %E2%9C%93 100%25'), 'café ✓ 100%');
  assert.equal(msg('100%'), '100%');
  assert.equal(msg('%4'), '%4');
  assert.equal(msg('%zz%41'), '%zzA');
  assert.equal(msg('bad %C3 utf8'), 'bad %C3 utf8');
  assert.equal(msg('plain'), 'plain');
});

test('grpc-timeout: every unit to milliseconds; malformed is null', () => {
  const timeout = (t: string) => call({}, () => {}, { ...REQUEST, 'grpc-timeout': t }).timeoutMs;
  assert.equal(timeout('1H'), 3_600_000);
  assert.equal(timeout('2M'), 120_000);
  assert.equal(timeout('3S'), 3000);
  assert.equal(timeout('250m'), 250);
  assert.equal(timeout('1500u'), 1.5);
  assert.equal(timeout('2000000n'), 2);
  assert.equal(timeout('99999999S'), 99_999_999_000);
  for (const bad of ['', 'S', '10', '10s', '-1S', '1.5S', '123456789S', '10 S x']) assert.equal(timeout(bad), null, bad);
});

test('a malformed :path still gives what can be read', () => {
  const at = (path: string | undefined) => {
    const h: Record<string, string> = { ...REQUEST };
    if (path === undefined) delete h[':path'];
    else h[':path'] = path;
    const c = call({}, () => {}, h);
    return [c.service, c.method];
  };
  assert.deepEqual(at('/pkg.Svc/Do'), ['pkg.Svc', 'Do']);
  assert.deepEqual(at('/onlyservice'), ['onlyservice', '']);
  assert.deepEqual(at('/a/b/c'), ['a', 'b/c']);
  assert.deepEqual(at('noslash/x'), ['noslash', 'x']);
  assert.deepEqual(at(undefined), ['', '']);
});

test('hostile bytes in any chunking never throw and stay bounded', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), fc.boolean(), (chunks, gzip) => {
      const c = call(
        { maxBodyBytes: 256 },
        (c) => {
          for (const ch of chunks) c.responseData(ch);
          c.trailers({ 'grpc-status': String.fromCharCode(...chunks.flatMap((ch) => [...ch.subarray(0, 2)])) });
        },
        gzip ? { ...REQUEST, 'grpc-encoding': 'gzip' } : REQUEST,
      );
      assert.ok(c.responseMessages.length <= MAX_KEPT_MESSAGES);
      JSON.stringify(c);
    }),
    { numRuns: 500 },
  );
});

test('bounds: the decoded forms of a side stay within their JSON budget', () => {
  // 10,000 one-byte varint fields per message: some 350 KB of JSON each, over 4 x 64 KiB + 128 KiB for two.
  const many = new Uint8Array(20_000);
  for (let i = 0; i < many.length; i += 2) many[i] = 0x08;
  const c = call({}, (c) => c.requestData(join([frame(many), frame(many), frame(many)])));
  assert.equal(c.requestMessageCount, 3);
  assert.equal(c.requestMessages[0]!.fields!.length, 10_000);
  assert.ok(JSON.stringify(c.requestMessages).length <= 4 * 65536 + 128 * 1024 + 1000);
  assert.equal(c.requestMessages[1]!.fields, undefined);
  assert.match(c.requestMessages[1]!.error!, /larger than the per-side limit for decoded forms/);
});

test('application/grpc+json: messages are JSON text, shown as json; bad JSON says so', () => {
  const text = (s: string) => frame(new TextEncoder().encode(s));
  const c = call(
    {},
    (c) => {
      c.requestData(join([text('{"name":"ann","big":"18446744073709551615"}'), text('{"oops"')]));
      c.responseHeaders({ ':status': '200', 'content-type': 'application/grpc+json' });
      c.responseData(text('[1,2,{"ok":true}]'));
    },
    { ...REQUEST, 'content-type': 'application/grpc+json; charset=utf-8' },
  );
  assert.deepEqual(c.requestMessages[0], { size: 43, compressed: false, json: { name: 'ann', big: '18446744073709551615' } });
  assert.equal(c.requestMessages[1]!.error, 'not JSON, though the content-type says application/grpc+json');
  assert.deepEqual(c.responseMessages[0]!.json, [1, 2, { ok: true }]);
  // application/grpc and +proto stay protobuf.
  assert.deepEqual(call({}, (c) => c.requestData(frame(Uint8Array.of(8, 1))), { ...REQUEST, 'content-type': 'application/grpc+proto' }).requestMessages[0]!.fields, [{ no: 1, wire: 'varint', value: 1 }]);
});
