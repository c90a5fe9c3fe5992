import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SAMPLES_PER_EDGE, ServiceGraphBuilder, outcomeOf, percentile } from './service-graph.ts';
import { testEntry } from '../../test/helpers/entry-store.ts';
import { buildEntry, buildGrpcEntry, buildHttp2Entry } from '../../test/helpers/entries.ts';
import type { Entry } from '../model/entry.ts';
import { join } from 'node:path';
import { readEntries } from '../../test/helpers/read-entries.ts';
import { REPO_ROOT } from '../../test/helpers/shared-pcaps.ts';
import { rowCells } from '../tui/entry-row.ts';

test('counts: requests, 4xx, 5xx and unanswered apart, and nearest-rank p50/p95 on known inputs', () => {
  const graph = new ServiceGraphBuilder();
  // 1..100 ms; 500s on every tenth, 404s on every tenth but one off, plus two requests that got no response.
  const statusOf = (i: number): number => (i % 10 === 0 ? 500 : i % 10 === 1 ? 404 : i === 55 ? 302 : 200);
  for (let i = 1; i <= 100; i++) graph.add(testEntry({ src: 'web', dst: 'carts', namespace: 'shop', elapsedMs: i, status: statusOf(i) }), i);
  graph.add(testEntry({ src: 'web', dst: 'carts', status: null }), 101);
  graph.add(testEntry({ src: 'web', dst: 'carts', status: null }), 102);
  const g = graph.graph();
  assert.equal(g.edges.length, 1);
  const edge = g.edges[0]!;
  assert.deepEqual(
    { ...edge },
    { from: 'web', to: 'carts', protocol: 'HTTP', requests: 102, clientErrors: 10, serverErrors: 10, unanswered: 2, p50Ms: 50, p95Ms: 95 },
    'unanswered requests are counted apart (not as 5xx) and are no latency samples; 302 is neither',
  );
  assert.deepEqual(g.nodes.map((n) => ({ ...n })), [{ id: 'carts', namespace: 'shop' }, { id: 'web', namespace: 'shop' }]);
});

test('unnamed endpoints are nodes by IP; edges are per caller, callee and protocol', () => {
  const graph = new ServiceGraphBuilder();
  graph.add(testEntry({ srcIp: '10.0.0.7', dst: 'carts' }), 0);
  graph.add(testEntry({ src: 'web', dst: 'carts' }), 1);
  graph.add(testEntry({ src: 'carts', dst: 'web' }), 2);
  const g = graph.graph();
  assert.deepEqual(g.nodes.map((n) => n.id), ['10.0.0.7', 'carts', 'web']);
  assert.deepEqual(g.edges.map((e) => `${e.from}->${e.to}`), ['10.0.0.7->carts', 'carts->web', 'web->carts']);
});

test('removing the oldest entries undoes their counts and samples; empty edges and nodes leave', () => {
  const graph = new ServiceGraphBuilder();
  graph.add(testEntry({ src: 'a', dst: 'b', elapsedMs: 1000, status: 500 }), 0);
  graph.add(testEntry({ src: 'a', dst: 'c', elapsedMs: 5 }), 1);
  graph.add(testEntry({ src: 'a', dst: 'b', elapsedMs: 10 }), 2);
  graph.add(testEntry({ src: 'a', dst: 'b', elapsedMs: 20 }), 3);
  assert.equal(graph.graph().edges[0]?.p95Ms, 1000);
  graph.remove(testEntry({ src: 'a', dst: 'b', elapsedMs: 1000, status: 500 }), 0);
  graph.remove(testEntry({ src: 'a', dst: 'c', elapsedMs: 5 }), 1);
  const g = graph.graph();
  assert.deepEqual(g.edges.map((e) => ({ ...e })), [{ from: 'a', to: 'b', protocol: 'HTTP', requests: 2, clientErrors: 0, serverErrors: 0, unanswered: 0, p50Ms: 10, p95Ms: 20 }]);
  assert.deepEqual(g.nodes.map((n) => n.id), ['a', 'b']);
});

test('graph() keeps its identity until a change, and unchanged edges keep theirs', () => {
  const graph = new ServiceGraphBuilder();
  graph.add(testEntry({ src: 'a', dst: 'b' }), 0);
  graph.add(testEntry({ src: 'a', dst: 'c' }), 1);
  const g1 = graph.graph();
  assert.equal(graph.graph(), g1);
  assert.ok(Object.isFrozen(g1) && Object.isFrozen(g1.edges));
  graph.add(testEntry({ src: 'a', dst: 'c' }), 2);
  const g2 = graph.graph();
  assert.notEqual(g2, g1);
  assert.equal(g2.edges[0], g1.edges[0], 'a->b did not change');
  assert.notEqual(g2.edges[1], g1.edges[1]);
  graph.clear();
  assert.deepEqual(graph.graph().edges, []);
  assert.deepEqual(graph.graph().nodes, []);
});

test(`latency samples are the last ${SAMPLES_PER_EDGE} per edge`, () => {
  const graph = new ServiceGraphBuilder();
  // Old slow requests, then a full window of fast ones: the percentiles forget the slow ones.
  for (let i = 0; i < 100; i++) graph.add(testEntry({ src: 'a', dst: 'b', elapsedMs: 900 }), i);
  for (let i = 0; i < SAMPLES_PER_EDGE; i++) graph.add(testEntry({ src: 'a', dst: 'b', elapsedMs: 3 }), 100 + i);
  const edge = graph.graph().edges[0]!;
  assert.equal(edge.requests, 100 + SAMPLES_PER_EDGE);
  assert.equal(edge.p95Ms, 3);
  // Removing an entry whose sample already fell out of the window leaves the samples alone.
  graph.remove(testEntry({ src: 'a', dst: 'b', elapsedMs: 900 }), 0);
  assert.equal(graph.graph().edges[0]?.requests, 99 + SAMPLES_PER_EDGE);
  assert.equal(graph.graph().edges[0]?.p50Ms, 3);
});

test('percentile is nearest-rank', () => {
  assert.equal(percentile(new Float64Array([]), 0.5), 0);
  assert.equal(percentile(new Float64Array([7]), 0.95), 7);
  assert.equal(percentile(new Float64Array([1, 2, 3, 4]), 0.5), 2);
  assert.equal(percentile(new Float64Array([1, 2, 3, 4]), 0.95), 4);
});

test('outcomeOf: 400-499 and 500-599 by class; no response apart; other statuses are answered', () => {
  const outcomes = [200, 302, 399, 400, 401, 499, 500, 502, 599, 600, 999, 0].map((status) => outcomeOf(testEntry({ status })));
  assert.deepEqual(outcomes, ['answered', 'answered', 'answered', 'clientError', 'clientError', 'clientError', 'serverError', 'serverError', 'serverError', 'answered', 'answered', 'answered']);
  assert.equal(outcomeOf(testEntry({ status: null })), 'unanswered');
});

test('outcomeOf: a message of a one-sided protocol (no response by design, no error) is not unanswered', () => {
  const sent: Entry = {
    ...testEntry({ status: null }),
    protocol: { name: 'websocket', version: '13', abbr: 'WS' },
    upgradeId: '0-0',
    request: { opcode: 'text', frames: 1, payloadLength: 2, compressed: false, masked: true, payload: { size: 2, mimeType: 'text/plain; charset=utf-8', text: 'hi' } },
    response: null,
    error: null,
  };
  assert.equal(outcomeOf(sent), 'answered');
  assert.equal(outcomeOf({ ...sent, error: { type: 'connection', msg: 'capture ended inside the message' } }), 'unanswered');
});

test('removing entries undoes the 4xx, 5xx and unanswered counts they added', () => {
  const graph = new ServiceGraphBuilder();
  const statuses = [401, 502, null, 200, 404];
  statuses.forEach((status, seq) => graph.add(testEntry({ src: 'a', dst: 'b', status }), seq));
  assert.deepEqual(pick(graph.graph().edges[0]!), { requests: 5, clientErrors: 2, serverErrors: 1, unanswered: 1 });
  statuses.slice(0, 3).forEach((status, seq) => graph.remove(testEntry({ src: 'a', dst: 'b', status }), seq));
  assert.deepEqual(pick(graph.graph().edges[0]!), { requests: 2, clientErrors: 1, serverErrors: 0, unanswered: 0 });
});

function pick(edge: { requests: number; clientErrors: number; serverErrors: number; unanswered: number }) {
  return { requests: edge.requests, clientErrors: edge.clientErrors, serverErrors: edge.serverErrors, unanswered: edge.unanswered };
}

test('one-sided records (WebSocket messages) are not latency samples, and their rows show no latency', async () => {
  const { all } = await readEntries([join(REPO_ROOT, 'test/fixtures/pcaps/websocket/echo-port80.pcap')]);
  const messages = all.filter((e) => e.protocol.name === 'websocket');
  const graph = new ServiceGraphBuilder();
  // One real answered HTTP-style sample of 7 ms on the same edge, then the messages (elapsedTime 0).
  const probe = testEntry({ srcIp: messages[0]!.src.ip, dstIp: messages[0]!.dst.ip, elapsedMs: 7 });
  messages.forEach((e, i) => graph.add({ ...e, protocol: probe.protocol } as Entry, i + 1));
  graph.add(probe, messages.length + 1);
  const edge = graph.graph().edges[0]!;
  assert.equal(edge.requests, messages.length + 1);
  assert.equal(edge.p50Ms, 7, 'the messages did not drag the percentiles to 0');
  for (const e of messages) assert.equal(rowCells(e).latency, '-', `${e.id}: a one-sided message shows no latency`);
});

test('gRPC and HTTP/2 calls keep their own edges; a gRPC status counts by its class, no status as server-side', () => {
  const src = { name: 'frontend', namespace: 'shop' };
  const dst = { name: 'carts', namespace: 'shop' };
  const graph = new ServiceGraphBuilder();
  const entries = [
    buildGrpcEntry({ src, dst }),
    buildGrpcEntry({ src, dst, grpcStatus: 5 }),
    buildGrpcEntry({ src, dst, grpcStatus: 14 }),
    buildGrpcEntry({ src, dst, grpcStatus: null }),
    buildGrpcEntry({ src, dst, grpcStatus: null, status: null }),
    buildHttp2Entry({ src, dst, status: 503 }),
    buildEntry({ src, dst, status: 404 }),
  ];
  entries.forEach((entry, seq) => graph.add(entry, seq));
  const edges = graph.graph().edges.map((e) => [e.protocol, e.requests, e.clientErrors, e.serverErrors, e.unanswered]);
  assert.deepEqual(edges, [['HTTP', 1, 1, 0, 0], ['HTTP/2', 1, 0, 1, 0], ['gRPC', 5, 1, 2, 1]]);
  entries.forEach((entry, seq) => graph.remove(entry, seq));
  assert.deepEqual(graph.graph().edges, []);
});
