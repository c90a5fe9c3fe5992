/**
 * Redaction of HTTP/2 and gRPC entries (built as their dissectors build them): HTTP/2's
 * pseudo-header fields and trailers like HTTP's URL and headers, a gRPC call's decoded messages
 * with the body rules, and the raw protobuf bytes dropped where the decoded form lost a secret.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGrpcEntry, buildHttp2Entry, rawMessage, schemaMessage } from '../../../test/helpers/entries.ts';
import type { HttpEntry } from '../dissect/http1/entry.ts';
import { EntryRedactor, REDACTED } from './index.ts';

const redactor = new EntryRedactor();
const redact = (entry: HttpEntry): HttpEntry => redactor.redact(entry) as HttpEntry;

test('HTTP/2: :path like the URL, :authority userinfo, trailers like headers', () => {
  const entry = redact(buildHttp2Entry({
    url: '/feed?page=2&token=path-secret-1',
    authority: 'bob:authority-secret-2@api:8443',
    scheme: 'https',
    requestHeaders: { authorization: 'Bearer header-secret-3', 'x-tenant': 'acme' },
    trailers: { 'x-api-key': 'trailer-secret-4', 'grpc-status': '0' },
  }));
  const headers = entry.request.headers;
  assert.equal(headers[':path'], `/feed?page=2&token=${REDACTED}`);
  assert.equal(entry.request.url, `/feed?page=2&token=${REDACTED}`);
  assert.equal(headers[':authority'], `bob:${REDACTED}@api:8443`);
  assert.deepEqual([headers[':method'], headers[':scheme'], headers['x-tenant'], headers.authorization], ['GET', 'https', 'acme', REDACTED]);
  assert.deepEqual(entry.response!.trailers, { 'x-api-key': REDACTED, 'grpc-status': '0' });
  const text = JSON.stringify(entry);
  for (const secret of ['path-secret-1', 'authority-secret-2', 'header-secret-3', 'trailer-secret-4']) assert.ok(!text.includes(secret), secret);
  // Idempotent: redacted again, the same.
  assert.equal(JSON.stringify(redact(JSON.parse(text) as HttpEntry)), text);
});

test('HTTP/2 without secrets is left as it was, byte for byte', () => {
  const entry = buildHttp2Entry({ url: '/a?b=c', authority: 'api:80', trailers: { 'x-checksum': 'abc' } });
  const before = JSON.stringify(entry);
  assert.equal(JSON.stringify(redact(entry)), before);
});

test('gRPC with a schema: JSON messages by key names, the raw bytes of that side dropped', () => {
  const entry = redact(buildGrpcEntry({
    requestMessages: [schemaMessage({ username: 'ann', password: 'json-secret-5', item: { sku: 'A1', apiKey: 'json-secret-6' } }, 'shop.v1.Login')],
    responseMessages: [schemaMessage({ greeting: 'hello', count: 3 }, 'shop.v1.Hello')],
  }));
  const call = entry.grpc!;
  assert.deepEqual(call.requestMessages[0]!.json, { username: REDACTED, password: REDACTED, item: { sku: 'A1', apiKey: REDACTED } });
  assert.equal(entry.request.postData!.text, REDACTED, 'the raw bytes hold the same secrets');
  assert.equal(entry.request.postData!.encoding, undefined, 'no longer base64');
  assert.deepEqual(call.responseMessages[0]!.json, { greeting: 'hello', count: 3 });
  assert.equal(entry.response!.content.encoding, 'base64', 'nothing found on the response side: its raw bytes stay');
  assert.ok(!JSON.stringify(entry).includes('json-secret'));
});

test('gRPC without a schema: string fields as text bodies (JSON, forms, key blocks inside), bytes left', () => {
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEvkey-secret-7\n-----END PRIVATE KEY-----';
  const entry = redact(buildGrpcEntry({
    requestMessages: [rawMessage([
      { no: 1, wire: 'len', string: 'alice' },
      { no: 2, wire: 'len', message: [{ no: 1, wire: 'len', string: '{"token":"nested-secret-8","x":1}' }, { no: 2, wire: 'varint', value: 42 }] },
      { no: 3, wire: 'len', string: 'item=pen&password=form-secret-9' },
      { no: 4, wire: 'len', string: key },
      { no: 5, wire: 'len', bytes: 'AAEC' },
    ])],
  }));
  const fields = entry.grpc!.requestMessages[0]!.fields!;
  assert.equal(fields[0]!.string, 'alice');
  assert.equal(fields[1]!.message![0]!.string, `{"token":"${REDACTED}","x":1}`);
  assert.equal(fields[1]!.message![1]!.value, 42);
  assert.equal(fields[2]!.string, `item=pen&password=${REDACTED}`);
  assert.ok(!fields[3]!.string!.includes('key-secret-7') && fields[3]!.string!.startsWith('-----BEGIN PRIVATE KEY-----'));
  assert.equal(fields[4]!.bytes, 'AAEC');
  assert.equal(entry.request.postData!.text, REDACTED);
  assert.ok(!/secret-[789]/.test(JSON.stringify(entry)));
});

test('gRPC with nothing to hide keeps its raw bytes; hostile call shapes are replaced, never thrown on', () => {
  const clean = buildGrpcEntry({ requestMessages: [rawMessage([{ no: 1, wire: 'len', string: 'alice' }])] });
  const before = JSON.stringify(clean);
  assert.equal(JSON.stringify(redact(clean)), before);

  const hostile = buildGrpcEntry();
  const call = hostile.grpc as unknown as Record<string, unknown>;
  call.requestMessages = 'password=x';
  call.responseMessages = [{ fields: { no: 1 } }, { json: { secret: 'hostile-secret-10' } }, null, 7];
  const out = redact(hostile);
  assert.deepEqual(out.grpc!.requestMessages, []);
  assert.ok(!JSON.stringify(out).includes('hostile-secret-10'));
  assert.equal(out.response!.content.text, REDACTED);

  let deep: Record<string, unknown> = { no: 1, wire: 'len', string: 'password=deep-secret-11' };
  for (let i = 0; i < 10_000; i++) deep = { no: 1, wire: 'len', message: [deep] };
  const nested = buildGrpcEntry({ requestMessages: [rawMessage([deep as never])] });
  assert.ok(!JSON.stringify(redact(nested)).includes('deep-secret-11'), 'deeper than is checked: not kept');
});
