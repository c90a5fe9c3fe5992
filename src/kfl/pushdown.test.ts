import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALIASES } from './fields.ts';
import { AGENT_ALIASES, pushdownSafe } from './pushdown.ts';

test('queries on what the agent knows run in the agents (v1 paths and KFL2 variables)', () => {
  for (const q of [
    'http and response.status >= 500',
    'request.path.startsWith("/api")',
    'elapsedTime > 100',
    'method == "POST"',
    'status_code >= 400 && path != "/healthz"',
    'request.headers["User-Agent"].contains("curl")',
    'src.ip == "10.0.0.1" and dst.port == 8080',
    'timestamp > timestamp("2026-01-01T00:00:00Z") - hours(1)',
    'size(request.headers) > 3',
    'response.content.text.json()..name == "a"',
    // The regex refused these: "src", "id" or "pods" inside a string literal, a map key or below request.
    'request.path == "/src/x"',
    'request.url.contains("id=3")',
    'request.headers["X-Pods"] == "2"',
    'request..id == 7',
    // What HTTP/2 entries and gRPC calls add: filled by the agent, never rewritten by the CLI.
    'grpc && grpc_status != 0',
    'grpc and grpc.service == "shop.v1.Cart" and grpc_method == "AddItem"',
    'http2.streamId > 1 and response.trailers["grpc-status"] == "0"',
  ]) {
    assert.equal(pushdownSafe(q), true, q);
  }
});

test('queries on names, ids, limit(), the clock or unknown fields run in the CLI only', () => {
  for (const q of [
    // v1 paths and KFL2 variables of endpoint names, namespaces, pods, services
    'dst.name == "db"', 'src.namespace == "shop"', 'src.pod == "p"', 'dst.service == "s"', '"shop" in namespaces', 'dst.pod.name == "x"',
    'src.service.namespace == "shop"', '"a" in pods', 'services.size() > 0', 'src["name"] == "x"', 'dst.*.contains("carts")',
    'id == "a/b/0-1"', 'http and limit(5)', 'src_name == "x"', 'node == "n1"', 'node_name == "n1"', 'local_labels != nil',
    // The regex let these through: they read names or depend on the pod's clock or time zone.
    '..name == "carts"',
    'timestamp > now() - minutes(5)',
    'timestamp > datetime("2026-01-02T10:00:00")',
    'request.path == "/x" and redact("request.headers.cookie")',
    'capture != nil',
    'worker == 1',
    'request.headers[dst.name] != nil',
    'request.path.startsWith(src.namespace)',
    // Empty, or not a query: nothing to push down.
    '', '   ', 'http and (', 'foo()',
  ]) {
    assert.equal(pushdownSafe(q), false, q);
  }
});

test('every whitelisted KFL2 variable exists', () => {
  for (const name of AGENT_ALIASES) assert.ok(ALIASES.has(name), name);
});
