import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { cropRows, drawGraph, scrollToShow } from './graph-canvas.ts';
import { layoutGraph } from './graph-layout.ts';
import { EDGE_TABLE_TITLE, edgeTableCells, filterForItem, mapItems, narrowFilter, percentOf } from './map-items.ts';

const edge = (from: string, to: string, requests: number, serverErrors = 0, clientErrors = 0, unanswered = 0): GraphEdge => ({ from, to, protocol: 'HTTP', requests, clientErrors, serverErrors, unanswered, p50Ms: 4, p95Ms: 30 });
const GRAPH: ServiceGraph = {
  nodes: ['front-end', 'catalogue', 'carts', 'orders', 'payment'].map((id) => ({ id, namespace: 'sock-shop' })),
  edges: [edge('front-end', 'catalogue', 40, 0, 3), edge('front-end', 'carts', 12), edge('front-end', 'orders', 5), edge('orders', 'payment', 5, 1, 2, 1)],
};
const text = (rows: readonly (readonly { text: string }[])[]): string[] => rows.map((row) => row.map((segment) => segment.text).join(''));

test('layout: callers sit left of callees, in layers, boxes do not overlap', () => {
  const layout = layoutGraph(GRAPH);
  const box = (id: string) => layout.nodes.find((node) => node.id === id)!;
  assert.ok(box('front-end').left < box('orders').left);
  assert.ok(box('orders').left < box('payment').left);
  for (const a of layout.nodes) {
    for (const b of layout.nodes) {
      if (a === b) continue;
      const apart = a.left + a.width <= b.left || b.left + b.width <= a.left || a.top + a.height <= b.top || b.top + b.height <= a.top;
      assert.ok(apart, `${a.id} overlaps ${b.id}`);
    }
  }
  assert.equal(layout.edges.length, 4);
});

test('drawing: boxes with names, arrows into callees, labels with counts', () => {
  const lines = text(drawGraph(layoutGraph(GRAPH), undefined));
  const all = lines.join('\n');
  for (const id of ['front-end', 'catalogue', 'carts', 'orders', 'payment']) assert.match(all, new RegExp(`│ ${id} │`));
  assert.equal((all.match(/▶/g) ?? []).length, 4);
  assert.match(all, /HTTP 40/);
  assert.match(all, /HTTP 5 serr 20% 1 no rsp/, 'server-side failures on the edge: their share and unanswered count');
  assert.match(all, /HTTP 40─/, 'client-side errors alone are not drawn as failures');
  assert.doesNotMatch(all, /HTTP 40 serr/);
  assert.match(all, /─┤|├─|┬|┴/, 'fan-out joins into a branch');
});

test('drawing: the selection is styled apart', () => {
  const rows = drawGraph(layoutGraph(GRAPH), { kind: 'node', id: 'orders' });
  const selected = rows.flat().filter((segment) => segment.style === 'selected').map((segment) => segment.text).join('');
  assert.match(selected, /orders/);
  assert.doesNotMatch(selected, /payment/);
});

test('cropping and scrolling keep a window of the drawing', () => {
  const rows = [[{ text: 'abcdef', style: 'node' as const }], [{ text: 'gh', style: 'edge' as const }, { text: 'ijkl', style: 'label' as const }]];
  assert.deepEqual(text(cropRows(rows, 1, 1, 3, 5)), ['hij']);
  assert.equal(scrollToShow(2, 2, 10, 50), 0);
  assert.equal(scrollToShow(30, 3, 10, 50), 23);
  assert.equal(scrollToShow(48, 3, 10, 50), 40);
});

test('map items: nodes left to right, then edges; each stands for a KFL query', () => {
  const items = mapItems(GRAPH, layoutGraph(GRAPH));
  assert.deepEqual(items[0], { kind: 'node', id: 'front-end' });
  assert.equal(items.length, 9);
  assert.equal(filterForItem(GRAPH, { kind: 'node', id: 'carts' }), 'dst.name == "carts"');
  assert.equal(filterForItem(GRAPH, { kind: 'node', id: 'front-end' }), 'src.name == "front-end"');
  assert.equal(filterForItem(GRAPH, { kind: 'edge', index: 1 }), 'src.name == "front-end" and dst.name == "carts"');
  const unnamed: ServiceGraph = { nodes: [{ id: '10.0.0.9', namespace: '' }], edges: [edge('front-end', '10.0.0.9', 1)] };
  assert.equal(filterForItem(unnamed, { kind: 'node', id: '10.0.0.9' }), 'dst.ip == "10.0.0.9"');
});

test('edge table cells: count, client-side and server-side error shares, unanswered, p50 and p95', () => {
  assert.deepEqual(edgeTableCells(GRAPH.edges[3]), ['orders -> payment', 'HTTP', '5', '40%', '20%', '1', '4.0ms', '30ms']);
  assert.deepEqual(edgeTableCells(GRAPH.edges[0]), ['front-end -> catalogue', 'HTTP', '40', '7.5%', '0%', '0', '4.0ms', '30ms']);
  assert.deepEqual(EDGE_TABLE_TITLE, ['CALLER -> CALLEE', 'PROTO', 'REQS', 'CERR%', 'SERR%', 'NO RSP', 'P50', 'P95']);
});

test('percentOf: whole percent from 10%, one decimal below, never 0 for a count above 0', () => {
  assert.deepEqual([[0, 10], [1, 10], [3, 40], [1, 3], [1, 5000], [7, 0]].map(([count, total]) => percentOf(count, total)), ['0%', '10%', '7.5%', '33%', '<0.1%', '0%']);
});

test('narrowFilter: the map combines with the active filter instead of replacing it', () => {
  assert.equal(narrowFilter('', 'dst.name == "carts"'), 'dst.name == "carts"');
  assert.equal(narrowFilter('  ', 'dst.name == "carts"'), 'dst.name == "carts"');
  assert.equal(narrowFilter('status >= 500', 'dst.name == "carts"'), '(status >= 500) and dst.name == "carts"');
  // `or` binds looser than `and`: without the parentheses this would widen, not narrow.
  assert.equal(narrowFilter('status == 404 or status == 500', 'dst.name == "carts"'), '(status == 404 or status == 500) and dst.name == "carts"');
  assert.equal(narrowFilter('dst.name == "carts"', 'dst.name == "carts"'), 'dst.name == "carts"', 'enter twice does not stack');
});

test('an empty graph lays out as nothing', () => {
  assert.deepEqual(layoutGraph({ nodes: [], edges: [] }), { width: 0, height: 0, nodes: [], edges: [] });
});
