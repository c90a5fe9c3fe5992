/**
 * KFL semantics over entries: the decisions listed at the top of compile.ts, one test each.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpEntry as Entry } from '../remote-agent/dissect/http1/entry.ts';
import { compileKfl } from './index.ts';
import { httpEntry } from './test-entries.ts';

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

function matches(query: string, entry: Entry = httpEntry()): boolean {
  const r = compileKfl(query, { nowMs: NOW });
  if (!r.ok) throw new Error(r.error.display);
  return r.filter.test(entry);
}

/** An entry as another protocol's dissector would produce it (fields we do not model are absent). */
function dnsEntry(): Entry {
  // Cast: the Entry union holds only the protocols we dissect.
  return { ...httpEntry(), protocol: { name: 'dns', version: '0', abbr: 'DNS' }, response: null } as unknown as Entry;
}

test('empty and blank queries match everything', () => {
  assert.equal(matches(''), true);
  assert.equal(matches('  \n\t '), true);
});

test('protocol words', () => {
  assert.equal(matches('http'), true);
  assert.equal(matches('http1'), true);
  assert.equal(matches('http2'), false);
  assert.equal(matches('dns'), false);
  assert.equal(matches('dns', dnsEntry()), true);
  assert.equal(matches('http', dnsEntry()), false);
  const h2 = httpEntry({ protocol: { name: 'http', version: '2.0', abbr: 'HTTP/2' } });
  assert.equal(matches('http and http2 and !http1', h2), true);
  const grpc = httpEntry({ protocol: { name: 'http', version: '2.0', abbr: 'gRPC' } });
  assert.equal(matches('http && grpc && !gql', grpc), true);
  assert.equal(matches('postgres or postgresql or mysql or kafka or amqp or redis or ws or ldap'), false);
  assert.equal(matches('tls'), false);
  assert.equal(matches('tls', httpEntry({ tls: true })), true);
});

test('numbers compare numerically, also against numeric strings', () => {
  assert.equal(matches('response.status == 200'), true);
  assert.equal(matches('response.status == "200"'), true);
  assert.equal(matches('response.status == 200.0'), true);
  assert.equal(matches('response.status != 200'), false);
  assert.equal(matches('response.status >= 200 and response.status < 300'), true);
  assert.equal(matches('request.queryString["a"] > 42'), true, '"50" > 42');
  assert.equal(matches('request.queryString["a"] < 42'), false);
  assert.equal(matches('elapsedTime > 12 and elapsedTime < 13'), true);
});

test('strings order by text when neither side is a number', () => {
  assert.equal(matches('request.method < "POST"'), true);
  assert.equal(matches('startTime >= "2023-11-14"'), true);
  assert.equal(matches('request.method > 3'), false);
});

test('missing fields are null: nil works, ordering and methods are false, no collapse', () => {
  assert.equal(matches('request.nothing == nil'), true);
  assert.equal(matches('request.nothing != null'), false);
  assert.equal(matches('request.nothing > 1 or request.nothing <= 1'), false);
  assert.equal(matches('request.nothing.startsWith("a")'), false);
  assert.equal(matches('!(request.nothing == 1)'), true);
  assert.equal(matches('request.nothing != 1'), true);
  assert.equal(matches('response.status > 400 or dns', dnsEntry()), true, 'no v1 collapse');
  assert.equal(matches('request.foo == 1 or true'), true);
  assert.equal(matches('response == nil', dnsEntry()), true);
});

test('precedence: and binds tighter than or (unlike Kubeshark v1)', () => {
  assert.equal(matches('dns and false or true'), true, '(dns and false) or true');
  assert.equal(matches('true or true and false'), true, 'true or (true and false)');
  assert.equal(matches('(true or true) and false'), false);
  assert.equal(matches('!dns && http || false'), true);
  assert.equal(matches('not dns and http'), true);
});

test('regex literals match unanchored on either side of == and !=', () => {
  assert.equal(matches('response.status == r"0"'), true, '200 contains 0');
  assert.equal(matches('response.status == r"^4"'), false);
  assert.equal(matches('r"^2\\d\\d$" == response.status'), true);
  assert.equal(matches('request.method != r"POST|PUT"'), true);
  assert.equal(matches('request.headers["Accept"] == r\'application/json.*\''), true);
  assert.equal(matches('request.nothing == r".*"'), false, 'null never matches');
  assert.equal(matches('request.queryString["tag"] == r"^y$"'), true, 'any element of a list');
});

test('header and cookie maps match keys in any case; query strings do not', () => {
  assert.equal(matches('request.headers["accept"] == "application/json"'), true);
  assert.equal(matches('request.headers.accept == "application/json"'), true);
  assert.equal(matches('request.headers["USER-AGENT"] == "kube-probe/1.27+"'), true);
  assert.equal(matches('"authorization" in request.headers'), true);
  assert.equal(matches('"x-missing" in request.headers'), false);
  assert.equal(matches('request.cookies["session"] == "s1"'), true);
  assert.equal(matches('map_get(response.headers, "x-tenant", "") == "acme"'), true);
  assert.equal(matches('map_get(response.headers, "x-other", "none") == "none"'), true);
  assert.equal(matches('"A" in request.queryString'), false);
  assert.equal(matches('"a" in query_string'), true);
});

test('lists: == means any element, != means no element, in means membership', () => {
  assert.equal(matches('request.queryString["tag"] == "y"'), true);
  assert.equal(matches('request.queryString["tag"] != "y"'), false);
  assert.equal(matches('request.queryString["tag"] != "z"'), true);
  assert.equal(matches('request.method in ["GET", "POST"]'), true);
  assert.equal(matches('response.status in [200, 204]'), true);
  assert.equal(matches('"x" in "xyz"'), false, 'no substring test with in');
  assert.equal(matches('request.queryString["tag"] == ["x", "y"]'), true, 'deep equality of two lists');
});

test('paths: index, wildcard, any-depth', () => {
  const e = httpEntry();
  (e.request as unknown as Record<string, unknown>)['pathSegments'] = ['api', 'v1', 'items'];
  assert.equal(matches('request.pathSegments[1] == "v1"', e), true);
  assert.equal(matches('request.pathSegments.* == "v1"', e), true);
  assert.equal(matches('request.pathSegments[*] == "items"', e), true);
  assert.equal(matches('request.pathSegments.* != "v2"', e), true);
  assert.equal(matches('request.pathSegments[7] == nil', e), true);
  assert.equal(matches('request.headers.* == "carts"', e), true, 'wildcard over map values');
  assert.equal(matches('..namespace == "production"'), true);
  assert.equal(matches('src..name == "frontend"'), true);
  assert.equal(matches('..Accept == "application/json"'), true);
});

test('field-to-field comparisons', () => {
  const e = httpEntry();
  e.request.queryString['x'] = 'acme';
  assert.equal(matches('request.queryString["x"] == response.headers["x-tenant"]', e), true);
  assert.equal(matches('response.content.text.contains(request.queryString["a"])', e), false);
  assert.equal(matches('request.url.contains(request.queryString["a"])', e), true);
  assert.equal(matches('src.namespace != dst.namespace', e), true);
});

test('string methods', () => {
  assert.equal(matches('request.path.startsWith("/api")'), true);
  assert.equal(matches('request.path.endsWith("items")'), true);
  assert.equal(matches('request.path.contains("v1")'), true);
  assert.equal(matches('request.path.contains("V1")'), false, 'case-sensitive');
  assert.equal(matches('url.matches(".*/api/v[0-9]+/.*")'), true);
  assert.equal(matches('url.matches(r"^/api")'), true);
  assert.equal(matches('request.method.matches(request.queryString["tag"])'), false);
  assert.equal(matches('response.status.startsWith("2")'), true, 'numbers have a string form');
  assert.equal(matches('request.queryString["tag"].startsWith("y")'), true, 'any element');
});

test('json() continues the path, base64 bodies are decoded first', () => {
  assert.equal(matches('response.content.text.json().items[0].id == 7'), true);
  assert.equal(matches('response.content.text.json().some.path == "somevalue"'), true);
  assert.equal(matches('response.content.text.json()..name == "a"'), true);
  assert.equal(matches('response.content.text.json().items.*.id == 7'), true);
  assert.equal(matches('response.content.text.json()["some"]["path"] == "somevalue"'), true);
  const b64 = httpEntry();
  b64.response!.content = { size: 9, mimeType: 'application/json', text: btoa('{"id":7}'), encoding: 'base64' };
  assert.equal(matches('response.content.text.json().id == 7', b64), true);
  assert.equal(matches('request.url.json() == nil'), true, 'not JSON: null');
});

test('size() and len()', () => {
  assert.equal(matches('request.method.size() == 3'), true);
  assert.equal(matches('size(request.headers) == 4'), true);
  assert.equal(matches('len(request.queryString["tag"]) == 2'), true);
  assert.equal(matches('size("héllo") == 5'), true);
  assert.equal(matches('size("😀") == 1'), true, 'code points, not UTF-16 units');
  assert.equal(matches('size(request.nothing) >= 0'), false);
});

test('KFL2 aliases', () => {
  assert.equal(matches('method == "GET" && path == "/api/v1/items" && status_code == 200'), true);
  assert.equal(matches('http_version == "HTTP/1.1" && request_body_size == 0 && response_body_size == 45'), true);
  assert.equal(matches('query_string["a"] == "50"'), true);
  assert.equal(matches('elapsed_time == 12500'), true, 'microseconds');
  assert.equal(matches('src.pod.name == "frontend" && dst.pod.namespace == "production"'), true);
  assert.equal(matches('src.service.namespace == "shop" && dst.service.name == "carts"'), true);
  assert.equal(matches('"shop" in namespaces && "carts" in pods && size(services) == 2'), true);
  const external = httpEntry({ dst: { ip: '1.1.1.1', port: 443, name: '', namespace: '' } });
  assert.equal(matches('size(namespaces) == 1 and dst.namespace == ""', external), true);
  assert.equal(matches('grpc && grpc_status != 0'), false);
  assert.equal(matches('dns_questions == nil && redis_command == nil'), true);
  assert.equal(matches('node.name == nil'), true);
});

test('time functions, fixed at compile time', () => {
  const e = httpEntry({ timestamp: NOW - 60_000 });
  assert.equal(matches('timestamp > now() - duration("5m")', e), true);
  assert.equal(matches('timestamp > now() - duration("30s")', e), false);
  assert.equal(matches('timestamp >= minutes(-2) and timestamp < seconds(-59)', e), true);
  assert.equal(matches('timestamp >= hours(-5)', e), true);
  assert.equal(matches('timestamp >= now()', e), false);
  assert.equal(matches('timestamp < days(1) and timestamp > weeks(-1) and timestamp > months(-1) and timestamp > years(-1)', e), true);
  assert.equal(matches('timestamp == timestamp("2024-01-15T11:59:00Z")', e), true);
  assert.equal(matches('timestamp == datetime("2024-01-15T11:59:00.000Z")', e), true);
  const local = new Date(2021, 9, 28, 21, 13, 2, 905).getTime();
  assert.equal(matches('timestamp == datetime("10/28/2021, 9:13:02.905 PM")', httpEntry({ timestamp: local })), true);
  assert.equal(matches('duration("1h30m") == 5400000 and duration("250ms") == 250 and duration("-1.5s") == -1500'), true);
});

test('arithmetic and unary minus', () => {
  assert.equal(matches('response.status + 100 == 300'), true);
  assert.equal(matches('-response.status == -200'), true);
  assert.equal(matches('response.status * 2 / 4 == 100 and response.status % 7 == 4'), true);
  assert.equal(matches('response.status / 0 == nil'), true);
  assert.equal(matches('"a" + "b" == "ab"'), true);
});

test('limit() and redact() are true and collected', () => {
  const r = compileKfl('http and limit(100) and redact("request.path", "src.name") and limit(5)');
  assert.ok(r.ok);
  assert.equal(r.filter.limit, 5);
  assert.deepEqual(r.filter.redactPaths, ['request.path', 'src.name']);
  assert.equal(r.filter.test(httpEntry()), true);
  const plain = compileKfl('http');
  assert.ok(plain.ok);
  assert.equal(plain.filter.limit, undefined);
  const e = httpEntry();
  assert.equal(plain.filter.redact(e), e, 'no redaction: the entry itself');
});

test('unknown fields near a known one warn, others do not', () => {
  const near = compileKfl('http and request.pth == "/"');
  assert.ok(near.ok);
  assert.deepEqual(near.warnings, [{ code: 'KFL_UNKNOWN_FIELD', message: 'unknown field request.pth: did you mean request.path?', column: 10, length: 11 }]);
  const alias = compileKfl('status_cod >= 500');
  assert.ok(alias.ok);
  assert.equal(alias.warnings[0]?.message, 'unknown field status_cod: did you mean status_code?');
  const far = compileKfl('request.queue.startsWith("test") or response.payload.errorCode == 2 or request.headers["x-anything"] == 1');
  assert.ok(far.ok);
  assert.deepEqual(far.warnings, []);
  assert.equal(far.filter.test(httpEntry()), false);
});

test('strings: both quotes and escapes', () => {
  const e = httpEntry();
  e.request.headers['X-Quote'] = 'say "hi"\n\tnow \u00e9';
  assert.equal(matches('request.headers["X-Quote"] == "say \\"hi\\"\\n\\tnow \\u00e9"', e), true);
  assert.equal(matches("request.headers['X-Quote'].startsWith('say \\'hi\\'') == false", e), true);
  assert.equal(matches('"a\\\\b".size() == 3'), true);
  assert.equal(matches('url.matches(".*\\d+")'), true, 'unknown escapes stay as written for regexes');
});
