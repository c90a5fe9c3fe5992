/**
 * compileKfl's public contract, FilterRun (limit and redaction over a stream), and the 40 real
 * queries users wrote for Kubeshark (USER_QUERIES below, kept in this file): every one must compile without error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpEntry } from '../remote-agent/dissect/http1/entry.ts';
import { FilterRun, KNOWN_FIELDS, compileKfl } from './index.ts';
import { httpEntry } from '../../test/helpers/entries.ts';

const USER_QUERIES: readonly string[] = [
  'http and response.status == r"4.*"',
  'http and request.method == "GET" and request.path != "/example" and (request.queryString["a"] > 42 or request.headers["x"] == "y")',
  'response.status == 201',
  'http and request.path == "/catalogue"',
  'http and request.path != "/catalogue"',
  'http and request.headers["Accept"] == r"application/json.*"',
  'http and response.status >= 400',
  'timestamp < datetime("10/28/2021, 9:13:02.905 PM")',
  '(http and request.method == "PUT") or (amqp and request.queue.startsWith("test")) or (kafka and response.payload.errorCode == 2) or (redis and request.key == "example") or (grpc and request.headers[":path"] == r".*foo.*")',
  'http and dst.name == "carts"',
  'http and (request.queryString["x"] == response.headers["y"] or response.content.text.contains(request.queryString["x"]))',
  'request.path.startsWith("something")',
  'response.content.text.json().some.path == "somevalue"',
  'http and redact("request.path", "src.name")',
  'http and limit(100)',
  'timestamp >= now()',
  'http or dns',
  'request.headers["Authorization"] == r"Token.*" and src.ip != "192.168.49.2"',
  '(response.status == 500) and (request.headers["User-Agent"] == "kube-probe/1.27+") and (src.name == "node-exporter")',
  'response.status > 400 or dns',
  '!dns',
  'dst.namespace == ""',
  '(src.namespace == "ns1" and dst.namespace == "ns2") or (src.namespace == "ns2" and dst.namespace == "ns1")',
  'request.command == "GET" and request.key == "key"',
  '!request.path.startsWith("/actuator") and !request.path.startsWith("/health") and http and dst.name != "pgadmin"',
  'timestamp >= hours(-5)',
  'request.path.* == "v1"',
  'http && status_code >= 400 && status_code < 500',
  'http && method == "GET" && status_code >= 400',
  'dst.pod.namespace == "production"',
  'dns && "google.com" in dns_questions',
  'grpc && grpc_status != 0',
  'http && elapsed_time > 5000000',
  'timestamp > now() - duration("5m")',
  'http && url.matches(".*/api/v[0-9]+/.*")',
  'http && "authorization" in request.headers',
  '"production" in namespaces',
  'src.service.namespace != dst.service.namespace',
  '!(src.pod.namespace == "kube-system")',
  'map_get(request.headers, "x-tenant", "") == "acme"',
];

test('all 40 user queries compile, without warnings', () => {
  assert.equal(USER_QUERIES.length, 40);
  for (const q of USER_QUERIES) {
    const r = compileKfl(q);
    assert.ok(r.ok, r.ok ? q : r.error.display);
    assert.deepEqual(r.warnings, [], q);
    assert.equal(typeof r.filter.test(httpEntry()), 'boolean');
  }
});

test('the compiled filter keeps its query', () => {
  const r = compileKfl('http');
  assert.ok(r.ok);
  assert.equal(r.filter.query, 'http');
});

test('FilterRun stops at the limit and counts matches', () => {
  const r = compileKfl('response.status == 200 and limit(2)');
  assert.ok(r.ok);
  const run = new FilterRun(r.filter);
  const failing = httpEntry({ response: { ...httpEntry().response!, status: 500 } });
  assert.equal(run.offer(failing), undefined);
  assert.ok(run.offer(httpEntry()));
  assert.equal(run.exhausted, false);
  assert.ok(run.offer(httpEntry()));
  assert.equal(run.exhausted, true);
  assert.equal(run.offer(httpEntry()), undefined);
  assert.equal(run.matched, 2);
});

test('FilterRun without a limit is never exhausted', () => {
  const r = compileKfl('');
  assert.ok(r.ok);
  const run = new FilterRun(r.filter);
  for (let i = 0; i < 10; i++) run.offer(httpEntry());
  assert.equal(run.matched, 10);
  assert.equal(run.exhausted, false);
});

test('limit(0) is exhausted from the start', () => {
  const r = compileKfl('limit(0)');
  assert.ok(r.ok);
  const run = new FilterRun(r.filter);
  assert.equal(run.exhausted, true);
  assert.equal(run.offer(httpEntry()), undefined);
});

test('redaction replaces values in a copy, never in the original', () => {
  const r = compileKfl('http and redact("request.path", "src.name", "request.headers.authorization", "..Cookie", "query_string.tag")');
  assert.ok(r.ok);
  const original = httpEntry();
  original.request.headers['Cookie'] = 'secret=1';
  const out = new FilterRun(r.filter).offer(original) as HttpEntry;
  assert.equal(out.request.path, '[REDACTED]');
  assert.equal(out.src.name, '[REDACTED]');
  assert.equal(out.request.headers['Authorization'], '[REDACTED]', 'header names in any case');
  assert.equal(out.request.headers['Cookie'], '[REDACTED]');
  assert.equal(out.request.queryString['tag'], '[REDACTED]');
  assert.equal(out.dst.name, 'carts', 'other values untouched');
  assert.equal(original.request.path, '/api/v1/items', 'original untouched');
  assert.equal(original.request.headers['Authorization'], 'Token abc');
});

test('redaction inside a JSON body, plain and base64', () => {
  const r = compileKfl('redact("response.content.text.json()..name", "request.postData.text.json().password")');
  assert.ok(r.ok);
  const e = httpEntry();
  e.request.postData = { mimeType: 'application/json', text: btoa('{"user":"u","password":"p"}'), encoding: 'base64' };
  const out = r.filter.redact(e) as typeof e;
  assert.deepEqual(JSON.parse(out.response!.content.text), { items: [{ id: 7, name: '[REDACTED]' }], some: { path: 'somevalue' } });
  assert.deepEqual(JSON.parse(atob(out.request.postData!.text)), { user: 'u', password: '[REDACTED]' });
  assert.equal(out.request.postData!.encoding, 'base64');
});

test('redaction of a missing path changes nothing', () => {
  const r = compileKfl('redact("request.nothing.here", "..nowhere")');
  assert.ok(r.ok);
  const e = httpEntry();
  assert.deepEqual(r.filter.redact(e), e);
});

test('KNOWN_FIELDS lists entry paths, aliases and protocol words', () => {
  for (const name of ['request.path', 'response.status', 'status_code', 'src.pod.name', 'namespaces', 'http', 'tls', 'grpc_status']) {
    assert.ok(KNOWN_FIELDS.includes(name), name);
  }
});

test('compileKfl never throws, even on a non-string query', () => {
  const r = compileKfl(undefined as unknown as string);
  assert.equal(typeof r.ok, 'boolean');
});
