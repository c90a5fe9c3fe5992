import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { capGraph } from './graph-cap.ts';
import { filterForItem } from './map-items.ts';

function edge(from: string, to: string, requests: number, serverErrors = 0, p95Ms = 10): GraphEdge {
  return { from, to, protocol: 'HTTP', requests, clientErrors: Math.min(1, requests - serverErrors), serverErrors, unanswered: 0, p50Ms: p95Ms / 2, p95Ms };
}

test('a small graph is drawn as it is', () => {
  const graph: ServiceGraph = { nodes: [{ id: 'a', namespace: '' }, { id: 'b', namespace: '' }], edges: [edge('a', 'b', 3)] };
  assert.equal(capGraph(graph, 5), graph);
});

test('past the cap the quietest workloads fold into one node, with their traffic added up', () => {
  const callers = Array.from({ length: 10 }, (_, i) => `10.0.0.${i}`);
  const graph: ServiceGraph = {
    nodes: [{ id: 'front-end', namespace: 'shop' }, { id: 'carts', namespace: 'shop' }, ...callers.map((id) => ({ id, namespace: '' }))],
    edges: [edge('front-end', 'carts', 100, 5, 40), ...callers.map((id, i) => edge(id, 'front-end', 1 + i, i % 2, 20 + i))],
  };
  const capped = capGraph(graph, 4);
  assert.deepEqual(capped.nodes.map((n) => n.id), ['front-end', 'carts', '10.0.0.9', '(9 others)']);
  const folded = capped.edges.find((e) => e.from === '(9 others)');
  assert.equal(folded?.to, 'front-end');
  assert.equal(folded?.requests, 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9);
  assert.equal(folded?.serverErrors, 4);
  assert.equal(folded?.clientErrors, 9, 'each folded edge had one 4xx');
  assert.equal(folded?.p95Ms, 28);
  assert.equal(capped.edges.reduce((n, e) => n + e.requests, 0), graph.edges.reduce((n, e) => n + e.requests, 0), 'no request is lost');
});

test('the fold node and its edges stand for no query: enter on them does not filter on a made-up name', () => {
  const callers = Array.from({ length: 6 }, (_, i) => `10.0.0.${i}`);
  const graph: ServiceGraph = {
    nodes: [{ id: 'front-end', namespace: 'shop' }, ...callers.map((id) => ({ id, namespace: '' }))],
    edges: callers.map((id, i) => edge(id, 'front-end', 1 + i)),
  };
  const capped = capGraph(graph, 3);
  const fold = capped.nodes.find((n) => n.id.endsWith(' others)'))!;
  assert.equal(filterForItem(capped, { kind: 'node', id: fold.id }), undefined);
  assert.equal(filterForItem(capped, { kind: 'edge', index: capped.edges.findIndex((e) => e.from === fold.id) }), undefined);
  assert.equal(filterForItem(capped, { kind: 'node', id: 'front-end' }), 'dst.name == "front-end"');
});
