/** The HTTP descriptor: what the list row, detail pane, dedup, service map and KFL read of an HTTP entry. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileKfl } from '../../../kfl/index.ts';
import { buildHttp2Entry } from '../../../../test/helpers/entries.ts';
import { makeEntry } from '../../../../test/helpers/tui-store.ts';
import { DESCRIPTORS } from '../descriptors.ts';
import { httpDescriptor } from './descriptor.ts';
import type { HttpEntry } from './entry.ts';

const http = (spec: Parameters<typeof makeEntry>[0] = {}): HttpEntry => makeEntry(spec);

function selects(query: string | undefined, entry: HttpEntry): boolean {
  assert.ok(query !== undefined);
  const r = compileKfl(query);
  if (!r.ok) throw new Error(`${query}: ${r.error.display}`);
  return r.filter.test(entry);
}

test('summary: method, target as sent, status and its class; queries that select the same cell', () => {
  const entry = http({ method: 'POST', url: '/orders?id="3"', status: 201 });
  const row = httpDescriptor.summarize(entry);
  assert.deepEqual(
    { verb: row.verb, target: row.target, outcome: row.outcome, outcomeClass: row.outcomeClass, isError: row.isError },
    { verb: 'POST', target: '/orders?id="3"', outcome: '201', outcomeClass: 'success', isError: false },
  );
  assert.equal(row.payloadBytes, entry.response!.content.size);
  for (const query of [row.verbQuery, row.targetQuery, row.outcomeQuery]) assert.ok(selects(query, entry), query);
  assert.equal(selects(row.verbQuery, http({ method: 'GET' })), false);
  assert.equal(selects(row.targetQuery, http({ url: '/orders' })), false);
  assert.equal(selects(row.outcomeQuery, http({ status: 200 })), false);
});

test('outcome classes by RFC 9110 status class; no response or >= 400 is an error', () => {
  const cases: ReadonlyArray<readonly [number | null, string, boolean]> = [
    [101, 'info', false], [200, 'success', false], [304, 'redirect', false], [404, 'client-error', true],
    [503, 'server-error', true], [600, 'none', true], [0, 'none', false], [null, 'none', true],
  ];
  for (const [status, outcomeClass, isError] of cases) {
    const row = httpDescriptor.summarize(http({ status }));
    assert.deepEqual([row.outcomeClass, row.isError], [outcomeClass, isError], String(status));
    assert.equal(row.outcome, status === null ? '' : String(status));
    assert.equal(row.outcomeQuery === undefined, status === null);
  }
});

test('detail sections: request line and maps, status line and maps, then the bodies', () => {
  const entry = http({ url: '/a?x=1&x=2', requestBody: { mimeType: 'text/plain', text: 'hi' } });
  entry.request.queryString = { x: ['1', '2'] };
  entry.response!.headers['Set-Cookie'] = 'a=1\nb=2';
  const sections = httpDescriptor.represent(entry);
  assert.deepEqual(sections.map((s) => `${s.kind}:${s.title}`), [
    'heading:Request', 'table:Headers', 'table:Query', 'table:Cookies',
    'heading:Response', 'table:Headers', 'table:Cookies', 'body:Request body', 'body:Response body',
  ]);
  assert.deepEqual(sections[0], { kind: 'heading', title: 'Request', text: 'GET /a?x=1&x=2 HTTP/1.1' });
  const query = sections[2]!;
  assert.ok(query.kind === 'table');
  assert.deepEqual(query.rows.map((r) => `${r.label}=${r.value}`), ['x=1', 'x=2'], 'a repeated parameter: a row per value');
  assert.equal(query.rows[0]!.selector, 'request.queryString["x"]');
  const responseHeaders = sections[5]!;
  assert.ok(responseHeaders.kind === 'table');
  assert.deepEqual(responseHeaders.rows.filter((r) => r.label === 'Set-Cookie').map((r) => r.value), ['a=1', 'b=2']);
  const noAnswer = httpDescriptor.represent(http({ status: null }));
  assert.deepEqual(noAnswer.find((s) => s.title === 'Response'), { kind: 'heading', title: 'Response', text: 'no response', outcomeClass: 'server-error', absent: true });
});

test('dedup key: method and URL, long URLs bounded by a prefix and their length', () => {
  assert.equal(httpDescriptor.dedupKey(http({ method: 'PUT', url: '/x' })), 'PUT|/x');
  const long = `/${'a'.repeat(10_000)}`;
  const key = httpDescriptor.dedupKey(http({ url: long }));
  assert.ok(key.length < 300, `${key.length}`);
  assert.notEqual(key, httpDescriptor.dedupKey(http({ url: `${long}b` })), 'the length tells them apart');
});

test('edge label is the variant; KFL words tell variants apart as Kubeshark does', () => {
  assert.equal(httpDescriptor.edgeLabel(http()), 'HTTP');
  // The words of the registered descriptor: HTTP's and its variants' (gRPC's `grpc`).
  const words = new Map(DESCRIPTORS.http.kfl.words.map((w) => [w.word, w]));
  const h2 = { name: 'http', version: '2.0', abbr: 'HTTP/2' };
  const grpc = { name: 'http', version: '2.0', abbr: 'gRPC' };
  const gql1 = { name: 'http', version: '1.1', abbr: 'GQL' };
  assert.deepEqual(['http', 'http1', 'http2', 'grpc', 'gql', 'gqlv1', 'gqlv2'].map((w) => words.get(w)!.matches(h2)), [true, false, true, false, false, false, false]);
  assert.deepEqual(['http2', 'grpc'].map((w) => words.get(w)!.matches(grpc)), [true, true]);
  assert.deepEqual(['http1', 'gql', 'gqlv1', 'gqlv2'].map((w) => words.get(w)!.matches(gql1)), [true, true, true, false]);
  assert.equal(words.get('http')!.matches({ name: 'dns', version: '0', abbr: 'DNS' }), false);
});

test('KFL variables read the HTTP fields', () => {
  const entry = http({ method: 'DELETE', url: '/p?q=1', status: 404 });
  for (const [query, expected] of [['method == "DELETE"', true], ['status_code == 404', true], ['path == "/p"', true], ['query_string["q"] == "1"', true], ['url == "/p"', false]] as const) {
    assert.equal(selects(query, entry), expected, query);
  }
});

test('body sizes and the replay command', () => {
  const entry = http({ requestBody: { mimeType: 'text/plain', text: 'hello' } });
  assert.deepEqual(httpDescriptor.bodySizes!(entry), { request: 5, response: entry.response!.bodySize });
  assert.deepEqual(httpDescriptor.bodySizes!(http({ status: null })), { request: 0, response: null });
  assert.match(httpDescriptor.replayCommand!(entry), /^curl -X GET 'http:\/\/catalogue\/catalogue\?size=5'/);
});

test('HTTP/2: the row is an HTTP row; the detail adds the trailers and the stream (with its reset)', () => {
  const entry = buildHttp2Entry({ url: '/items?page=2', streamId: 7, trailers: { 'x-checksum': 'abc' } });
  const row = httpDescriptor.summarize(entry);
  assert.deepEqual([row.verb, row.target, row.outcome, row.isError], ['GET', '/items?page=2', '200', false]);
  const sections = httpDescriptor.represent(entry);
  assert.deepEqual(sections[0], { kind: 'heading', title: 'Request', text: 'GET /items?page=2 HTTP/2.0' });
  const trailers = sections.find((s) => s.title === 'Trailers');
  assert.ok(trailers?.kind === 'table');
  assert.deepEqual(trailers.rows, [{ label: 'x-checksum', value: 'abc', selector: 'response.trailers["x-checksum"]' }]);
  const stream = sections.find((s) => s.title === 'HTTP/2 stream');
  assert.ok(stream?.kind === 'table');
  assert.deepEqual(stream.rows, [{ label: 'Id', value: '7', selector: 'http2.streamId' }]);
  assert.equal(httpDescriptor.edgeLabel(entry), 'HTTP/2');
  assert.equal(httpDescriptor.dedupKey(entry), 'GET|/items?page=2|7', 'the stream id tells concurrent calls to one URL apart');

  const reset = buildHttp2Entry({ streamId: 9, reset: { by: 'client', code: 8, name: 'CANCEL' } });
  assert.equal(httpDescriptor.summarize(reset).isError, true, 'a reset stream is an error whatever its status');
  const resetRows = httpDescriptor.represent(reset).find((s) => s.title === 'HTTP/2 stream');
  assert.ok(resetRows?.kind === 'table');
  assert.deepEqual(resetRows.rows[1], { label: 'Reset', value: 'by the client: CANCEL (0x8)', selector: 'http2.reset.name' });
  assert.equal(httpDescriptor.represent(http()).some((s) => s.title === 'HTTP/2 stream' || s.title === 'Trailers'), false, 'HTTP/1 shows neither');
});

test('HTTP/2 KFL: the stream id, the reset and trailers by name in any case, through the compiler', () => {
  const entry = buildHttp2Entry({ streamId: 7, trailers: { 'X-Checksum': 'abc' } });
  const reset = buildHttp2Entry({ streamId: 9, reset: { by: 'server', code: 2, name: 'INTERNAL_ERROR' } });
  for (const [query, a, b] of [
    ['http2 and http2.streamId == 7', true, false],
    ['response.trailers["x-checksum"] == "abc"', true, false],
    ['"x-CHECKSUM" in response.trailers', true, false],
    ['http2.reset.name == "INTERNAL_ERROR" and http2.reset.by == "server"', false, true],
    ['http2.reset != nil', false, true],
  ] as const) {
    assert.deepEqual([selects(query, entry), selects(query, reset)], [a, b], query);
  }
  const compiled = compileKfl('http2.streamId == 7 and response.trailers["x"] == nil and http2.reset.code == 2');
  assert.ok(compiled.ok);
  assert.deepEqual(compiled.warnings, [], 'known paths: no "did you mean"');
});
