import './test-force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { layoutGraph } from './graph-layout.ts';
import { mapItems } from './map-items.ts';
import { ServiceMap } from './service-map.tsx';
import { plain } from './test-support.ts';

afterEach(cleanup);

const edge = (from: string, to: string, requests: number, errors = 0): GraphEdge => ({ from, to, protocol: 'HTTP', requests, errors, errorRate: errors / requests, p50Ms: 8, p95Ms: 120 });
const GRAPH: ServiceGraph = {
  nodes: ['front-end', 'catalogue', 'carts', 'orders', 'payment', 'user'].map((id) => ({ id, namespace: 'sock-shop' })),
  edges: [edge('front-end', 'catalogue', 40), edge('front-end', 'carts', 12), edge('front-end', 'orders', 5), edge('front-end', 'user', 9), edge('orders', 'payment', 5, 1)],
};

function renderMap(selected: number, width: number, height: number): string {
  const layout = layoutGraph(GRAPH);
  return render(<ServiceMap graph={GRAPH} layout={layout} items={mapItems(GRAPH, layout)} selected={selected} width={width} height={height} />).lastFrame() ?? '';
}

test('map: every service in a box, edges with counts, the edge table with rates and latencies', () => {
  const frame = plain(renderMap(0, 120, 30));
  for (const id of ['front-end', 'catalogue', 'carts', 'orders', 'payment', 'user']) assert.match(frame, new RegExp(`│ ${id} │`));
  assert.match(frame, /HTTP 40/);
  assert.match(frame, /CALLER -> CALLEE\s+PROTO\s+REQS\s+ERR%\s+P50\s+P95/);
  assert.match(frame, /orders -> payment\s+HTTP\s+5\s+20%\s+8\.0ms\s+120ms/);
  assert.match(frame, /enter filters on: src\.name == "front-end"/);
  assert.ok(frame.split('\n').length <= 30);
});

test('map: selecting an edge shows its query and highlights its table row', () => {
  const edgeItem = 6 + 1; // six nodes, then edges in table order
  const frame = renderMap(edgeItem, 120, 30);
  assert.match(plain(frame), /enter filters on: src\.name == "front-end" and dst\.name == "carts"/);
  const row = frame.split('\n').find((line) => plain(line).startsWith('front-end -> carts'));
  assert.match(row ?? '', /\u001b\[7m/);
});

test('map: a terminal smaller than the drawing scrolls to the selection', () => {
  const layout = layoutGraph(GRAPH);
  const payment = mapItems(GRAPH, layout).findIndex((item) => item.kind === 'node' && item.id === 'payment');
  const frame = plain(renderMap(payment, 40, 14));
  assert.match(frame, /payment/);
  assert.match(frame, /scrolled to the selection/);
  assert.ok(frame.split('\n').every((line) => line.length <= 40));
});

test('map: no traffic yet', () => {
  const empty: ServiceGraph = { nodes: [], edges: [] };
  const frame = plain(render(<ServiceMap graph={empty} layout={layoutGraph(empty)} items={[]} selected={0} width={80} height={10} />).lastFrame());
  assert.match(frame, /No traffic in the current view yet\./);
});
