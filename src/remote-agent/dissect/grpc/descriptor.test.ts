/**
 * The gRPC variant as everyone outside the folder sees it: through the registered HTTP descriptor
 * (DESCRIPTORS.http, composed with the variant), on calls built like the dissector builds them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileKfl } from '../../../kfl/index.ts';
import type { Entry } from '../../../model/entry.ts';
import type { DetailSection } from '../../../model/protocol-descriptor.ts';
import { buildEntry, buildGrpcEntry, buildHttp2Entry, rawMessage, schemaMessage } from '../../../../test/helpers/entries.ts';
import { DESCRIPTORS } from '../descriptors.ts';
import type { HttpEntry } from '../http1/entry.ts';
import { renderFields } from './descriptor-fields.ts';

const http = DESCRIPTORS.http;

function selects(query: string | undefined, entry: Entry): boolean {
  assert.ok(query !== undefined);
  const r = compileKfl(query);
  if (!r.ok) throw new Error(`${query}: ${r.error.display}`);
  return r.filter.test(entry);
}

test('row: call or stream, Service/Method, the status name; queries that select the same cell', () => {
  const entry = buildGrpcEntry({ service: 'shop.v1.Cart', rpc: 'AddItem', grpcStatus: 5, grpcMessage: 'no item 7' });
  const row = http.summarize(entry);
  assert.deepEqual(
    { verb: row.verb, target: row.target, outcome: row.outcome, outcomeClass: row.outcomeClass, isError: row.isError },
    { verb: 'call', target: 'shop.v1.Cart/AddItem', outcome: 'NOT_FOUND', outcomeClass: 'client-error', isError: true },
  );
  for (const query of [row.verbQuery, row.targetQuery, row.outcomeQuery]) assert.ok(selects(query, entry), query);
  assert.equal(selects(row.targetQuery, buildGrpcEntry({ service: 'shop.v1.Cart', rpc: 'Other' })), false);
  assert.equal(selects(row.outcomeQuery, buildGrpcEntry({ grpcStatus: 0 })), false);
  assert.equal(selects(row.verbQuery, buildGrpcEntry({ responseMessageCount: 2 })), false);

  const stream = buildGrpcEntry({ rpc: 'Watch', requestMessageCount: 1, responseMessageCount: 1200 });
  const streamRow = http.summarize(stream);
  assert.deepEqual([streamRow.verb, streamRow.target, streamRow.outcome, streamRow.isError], ['stream', 'shop.v1.Cart/Watch (1 → 1,200 msgs)', 'OK', false]);
  assert.ok(selects(streamRow.verbQuery, stream));
  assert.equal(selects(streamRow.verbQuery, entryOk()), false);
});

const entryOk = (): HttpEntry => buildGrpcEntry();

test('outcome class by the HTTP status google.rpc.Code gives each code; any status but OK, or none, is an error', () => {
  const cases: ReadonlyArray<readonly [number | null, string, string, boolean]> = [
    [0, 'OK', 'success', false], [1, 'CANCELLED', 'client-error', true], [2, 'UNKNOWN', 'server-error', true],
    [3, 'INVALID_ARGUMENT', 'client-error', true], [4, 'DEADLINE_EXCEEDED', 'server-error', true],
    [7, 'PERMISSION_DENIED', 'client-error', true], [8, 'RESOURCE_EXHAUSTED', 'client-error', true],
    [12, 'UNIMPLEMENTED', 'server-error', true], [13, 'INTERNAL', 'server-error', true], [14, 'UNAVAILABLE', 'server-error', true],
    [16, 'UNAUTHENTICATED', 'client-error', true], [42, 'CODE_42', 'server-error', true], [null, '', 'server-error', true],
  ];
  for (const [status, outcome, outcomeClass, isError] of cases) {
    const row = http.summarize(buildGrpcEntry({ grpcStatus: status }));
    assert.deepEqual([row.outcome, row.outcomeClass, row.isError], [outcome, outcomeClass, isError], String(status));
  }
  const proxied = http.summarize(buildGrpcEntry({ grpcStatus: null, status: 503 }));
  assert.deepEqual([proxied.outcome, proxied.outcomeClass, proxied.isError], ['HTTP 503', 'server-error', true], 'no grpc-status: the HTTP status that answered');
  const unanswered = http.summarize(buildGrpcEntry({ grpcStatus: null, status: null }));
  assert.deepEqual([unanswered.outcome, unanswered.outcomeClass, unanswered.isError], ['', 'none', true], 'no response: an error, uncoloured like HTTP');
});

test('an HTTP/2 entry without a call, and an HTTP/1 entry, keep the HTTP row', () => {
  assert.equal(http.summarize(buildHttp2Entry({ method: 'PUT', url: '/x' })).verb, 'PUT');
  assert.equal(http.summarize(buildEntry({ url: '/y' })).target, '/y');
});

test('detail: the call, HTTP sections without the raw bodies, then each side messages with counts', () => {
  const entry = buildGrpcEntry({
    grpcStatus: 14, grpcMessage: 'backend down', timeoutMs: 250, responseEncoding: 'gzip',
    requestMessages: [schemaMessage({ userId: 'alice', items: [{ sku: 'A1', qty: 2 }] }, 'shop.v1.GetCartRequest')],
    responseMessages: [
      { ...rawMessage([{ no: 1, wire: 'len', string: 'alice' }, { no: 2, wire: 'len', message: [{ no: 1, wire: 'varint', value: 42 }] }], 30), compressed: true, decodedSize: 48 },
      rawMessage([{ no: 3, wire: 'len', bytes: 'AAEC' }]),
      { size: 9, compressed: false, error: 'cut by --max-body', truncated: true },
    ],
    responseMessageCount: 1200,
    trailers: { 'grpc-status': '14', 'grpc-message': 'backend%20down' },
  });
  const sections = http.represent(entry);
  assert.deepEqual(sections.map((s) => `${s.kind}:${s.title}`), [
    'heading:gRPC call', 'table:Call',
    'heading:Request', 'table:Headers', 'table:Query', 'table:Cookies',
    'heading:Response', 'table:Headers', 'table:Cookies', 'table:Trailers', 'table:HTTP/2 stream',
    'heading:Request messages', 'body:Request message 1 of 1',
    'heading:Response messages', 'body:Response message 1 of 1,200, gzip-compressed, 30 B on the wire',
    'body:Response message 2 of 1,200', 'body:Response message 3 of 1,200',
  ]);
  assert.deepEqual(sections[0], { kind: 'heading', title: 'gRPC call', text: 'shop.v1.Cart/GetCart  14 UNAVAILABLE', outcomeClass: 'server-error' });
  const call = sections[1] as Extract<DetailSection, { kind: 'table' }>;
  assert.deepEqual(call.rows.map((r) => [r.label, r.value, r.selector]), [
    ['Service', 'shop.v1.Cart', 'grpc.service'], ['Method', 'GetCart', 'grpc.method'], ['Status', '14 UNAVAILABLE', 'grpc.status'],
    ['Message', 'backend down', 'grpc.message'], ['Deadline', '250ms', 'grpc.timeoutMs'],
    ['Request encoding', 'identity', 'grpc.requestEncoding'], ['Response encoding', 'gzip', 'grpc.responseEncoding'],
    ['Request messages', '1', 'grpc.requestMessageCount'], ['Response messages', '1,200', 'grpc.responseMessageCount'],
  ]);
  for (const row of call.rows) if (row.selector !== undefined) assert.ok(compileKfl(`${row.selector} != nil`).ok, row.selector);
  const byTitle = (title: string) => sections.find((s) => s.title === title) as DetailSection;
  assert.deepEqual(byTitle('Response messages'), { kind: 'heading', title: 'Response messages', text: 'showing 3 of 1,200 messages' });
  assert.deepEqual(byTitle('Request messages'), { kind: 'heading', title: 'Request messages', text: '1 message' });
  const json = byTitle('Request message 1 of 1');
  assert.ok(json.kind === 'body');
  assert.equal(json.mimeType, 'protobuf shop.v1.GetCartRequest');
  assert.equal(json.text, JSON.stringify({ userId: 'alice', items: [{ sku: 'A1', qty: 2 }] }, null, 2));
  const tree = byTitle('Response message 1 of 1,200, gzip-compressed, 30 B on the wire');
  assert.ok(tree.kind === 'body');
  assert.deepEqual([tree.mimeType, tree.sizeBytes, tree.text], ['protobuf, no schema', 48, '1: "alice"\n2 {\n  1: 42\n}']);
  const bytes = byTitle('Response message 2 of 1,200');
  assert.ok(bytes.kind === 'body' && bytes.text === '3: AAEC (bytes, base64)');
  const empty = http.represent(buildGrpcEntry({ requestMessages: [rawMessage([], 0)] })).find((s) => s.title === 'Request message 1 of 1');
  assert.ok(empty?.kind === 'body' && empty.text === '(empty message)');
  const cut = byTitle('Response message 3 of 1,200');
  assert.ok(cut.kind === 'body');
  assert.deepEqual([cut.text, cut.truncated], ['(not decoded: cut by --max-body)', true]);
});

test('field trees: fixed-width values with their wire type, deep nests elided, long trees cut and counted', () => {
  assert.equal(renderFields([{ no: 4, wire: 'i32', value: 1065353216 }, { no: 5, wire: 'i64', value: '18446744073709551615' }, { no: 6, wire: 'len', string: 'a"\nb' }]),
    '4: 1065353216 (i32)\n5: 18446744073709551615 (i64)\n6: "a\\"\\nb"');
  type F = Parameters<typeof renderFields>[0][number];
  let deep: F = { no: 1, wire: 'varint', value: 1 };
  for (let i = 0; i < 100_000; i++) deep = { no: 1, wire: 'len', message: [deep] };
  const text = renderFields([deep]);
  assert.ok(text.includes('1 { … }') && text.split('\n').length < 100, 'a 100,000-deep nest: no stack overflow, bounded output');
  const wide = renderFields(Array.from({ length: 10_000 }, (_, i) => ({ no: i, wire: 'varint' as const, value: i })));
  assert.match(wide, /… 8,000 more fields not shown$|… 8000 more fields not shown$/);
});

test('KFL: grpc word, grpc.* paths and Kubeshark variables through the compiler (examples 43)', () => {
  const failed = buildGrpcEntry({ service: 'shop.v1.Cart', rpc: 'AddItem', grpcStatus: 5, grpcMessage: 'gone' });
  const ok = buildGrpcEntry({ service: 'shop.v1.Cart', rpc: 'GetCart' });
  const noStatus = buildGrpcEntry({ grpcStatus: null });
  const h2 = buildHttp2Entry();
  const h1 = buildEntry({ status: 500 });
  const cases: ReadonlyArray<readonly [string, readonly boolean[]]> = [
    // [failed, ok, noStatus, h2, h1]
    ['grpc', [true, true, true, false, false]],
    ['http2', [true, true, true, true, false]],
    ['grpc and grpc.status != 0', [true, false, true, false, false]],
    ['grpc && grpc_status != 0', [true, false, true, false, false]],
    ['grpc_status == 5', [true, false, false, false, false]],
    ['grpc.statusName == "NOT_FOUND" and grpc.message == "gone"', [true, false, false, false, false]],
    ['grpc_method == "AddItem" and grpc_service == "shop.v1.Cart"', [true, false, false, false, false]],
    ['grpc.method.startsWith("Get")', [false, true, true, false, false]],
    ['grpc.requestMessageCount == 1 and grpc.responseEncoding == "identity"', [true, true, true, false, false]],
    ['response.trailers["GRPC-STATUS"] == "5"', [true, false, false, false, false]],
    ['grpc and request.headers[":path"] == r".*AddItem.*"', [true, false, false, false, false]],
    ['grpc_status == nil', [false, false, true, true, true]],
  ];
  for (const [query, expected] of cases) {
    const r = compileKfl(query);
    assert.ok(r.ok, query);
    assert.deepEqual(r.warnings, [], `${query}: no unknown-field warning`);
    assert.deepEqual([failed, ok, noStatus, h2, h1].map((e) => r.filter.test(e)), expected, query);
  }
});

test('service map: gRPC entries keep their own edge; failed calls count by class', () => {
  assert.equal(http.edgeLabel(buildGrpcEntry()), 'gRPC');
  assert.equal(http.edgeLabel(buildHttp2Entry()), 'HTTP/2');
});

test('held characters count the kept messages besides the raw bodies', () => {
  const entry = buildGrpcEntry({ requestMessages: [rawMessage([], 100)], responseMessages: [{ ...rawMessage([], 50), decodedSize: 400 }] });
  const raw = entry.request.postData!.text.length + entry.response!.content.text.length;
  assert.equal(http.heldChars!(entry), raw + 500);
});

test('garbage where a call should be: a row and sections anyway (the registry guards), never a throw', () => {
  const entry = buildGrpcEntry() as unknown as Record<string, unknown>;
  entry['grpc'] = { service: 5, method: null, status: 'x', requestMessages: 7 };
  assert.doesNotThrow(() => http.summarize(entry as unknown as HttpEntry));
});

test('held characters of a hostile call: numbers only, or a throw the reorder buffer catches', () => {
  const entry = buildGrpcEntry();
  (entry.grpc as unknown as Record<string, unknown>).responseMessages = [{ size: '1e9' }, { size: 5, decodedSize: Number.NaN }, { size: 7 }];
  const held = http.heldChars!(entry);
  assert.equal(typeof held, 'number');
  assert.equal(held, entry.request.postData!.text.length + entry.response!.content.text.length + 7);
});
