import '../../test/helpers/force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { layoutGraph } from './graph-layout.ts';
import { filterForItem, mapItems, narrowingFor } from './map-items.ts';
import { ServiceMap } from './service-map.tsx';
import { plain } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

const edge = (from: string, to: string, requests: number, serverErrors = 0, clientErrors = 0, unanswered = 0): GraphEdge => ({ from, to, protocol: 'HTTP', requests, clientErrors, serverErrors, unanswered, p50Ms: 8, p95Ms: 120 });
const GRAPH: ServiceGraph = {
  nodes: ['front-end', 'catalogue', 'carts', 'orders', 'payment', 'user'].map((id) => ({ id, namespace: 'sock-shop' })),
  edges: [edge('front-end', 'catalogue', 40), edge('front-end', 'carts', 12), edge('front-end', 'orders', 5), edge('front-end', 'user', 9, 0, 3), edge('orders', 'payment', 5, 1, 0, 1)],
};

function renderMap(selected: number, width: number, height: number, activeFilter = ''): string {
  const layout = layoutGraph(GRAPH);
  const items = mapItems(GRAPH, layout);
  const term = items[selected] === undefined ? undefined : filterForItem(GRAPH, items[selected]);
  const pending = term === undefined ? undefined : narrowingFor(activeFilter, term);
  return render(<ServiceMap graph={GRAPH} layout={layout} items={items} selected={selected} pending={pending} width={width} height={height} />).lastFrame() ?? '';
}

test('map: every service in a box, edges with counts, the edge table with error shares and latencies', () => {
  const frame = plain(renderMap(0, 120, 30));
  for (const id of ['front-end', 'catalogue', 'carts', 'orders', 'payment', 'user']) assert.match(frame, new RegExp(`│ ${id} │`));
  assert.match(frame, /HTTP 40/);
  assert.match(frame, /CALLER -> CALLEE\s+PROTO\s+REQS\s+CERR%\s+SERR%\s+NO RSP\s+P50\s+P95/);
  assert.match(frame, /orders -> payment\s+HTTP\s+5\s+0%\s+20%\s+1\s+8\.0ms\s+120ms/);
  assert.match(frame, /front-end -> user\s+HTTP\s+9\s+33%\s+0%\s+0\s+8\.0ms\s+120ms/);
  assert.match(frame, /enter filters on: src\.name == "front-end"/);
  assert.ok(frame.split('\n').length <= 30);
});

test('map: selecting an edge shows its query and highlights its table row', () => {
  const edgeItem = 6 + 1; // six nodes, then edges in table order
  const frame = renderMap(edgeItem, 120, 30);
  assert.match(plain(frame), /enter filters on: src\.name == "front-end" and dst\.name == "carts"/);
  const narrowing = plain(renderMap(edgeItem, 120, 30, 'status >= 500'));
  assert.match(narrowing, /enter narrows to: \(status >= 500\) and src\.name == "front-end" and dst\.name == "carts"/);
  const row = frame.split('\n').find((line) => plain(line).startsWith('front-end -> carts'));
  assert.match(row ?? '', /\u001b\[7m/);
});

test('map: a terminal smaller than the drawing scrolls to the selection', () => {
  const layout = layoutGraph(GRAPH);
  const payment = mapItems(GRAPH, layout).findIndex((item) => item.kind === 'node' && item.id === 'payment');
  const frame = plain(renderMap(payment, 40, 14));
  assert.match(frame, /payment/);
  assert.match(frame, /^enter filters on: dst\.name == "payment"$/m, 'what enter does comes first; the scroll note only where it fits');
  assert.ok(frame.split('\n').every((line) => line.length <= 40));
  assert.match(plain(renderMap(payment, 90, 10)), /enter filters on: dst\.name == "payment" · map \d+x\d+, scrolled to the selection/);
});

test('map at 80 columns: a long active filter is cut so the selection\'s term stays whole', () => {
  const frame = plain(renderMap(6 + 1, 80, 21, 'response.status >= 400 and request.path.startsWith("/catalogue/items")'));
  const line = frame.split('\n').find((text) => text.startsWith('enter narrows to: '));
  assert.ok(line !== undefined && line.length <= 80, frame);
  assert.match(line, /^enter narrows to: \(respons.*…\) and src\.name == "front-end" and dst\.name == "carts"$/);
});

test('map at 80 columns: every table column is there and the caller -> callee names are whole', () => {
  const frame = plain(renderMap(0, 80, 21));
  assert.match(frame, /CALLER -> CALLEE\s+PROTO\s+REQS\s+CERR%\s+SERR%\s+NO RSP\s+P50\s+P95/);
  assert.match(frame, /front-end -> catalogue\s+HTTP\s+40\s+0%\s+0%\s+0\s+8\.0ms\s+120ms/);
  assert.ok(frame.split('\n').every((line) => line.length <= 80));
});

test('map: no traffic yet', () => {
  const empty: ServiceGraph = { nodes: [], edges: [] };
  const frame = plain(render(<ServiceMap graph={empty} layout={layoutGraph(empty)} items={[]} selected={0} pending={undefined} width={80} height={10} />).lastFrame());
  assert.match(frame, /No traffic in the current view yet\./);
});
