/**
 * Enter in the service map narrows the active filter: for any old filter and any node or edge
 * name (names come from captured traffic and the cluster), the combined query compiles and keeps
 * exactly the entries that the old filter keeps and that belong to the selection.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileKfl } from '../kfl/index.ts';
import type { Entry } from '../model/entry.ts';
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { filterForItem, narrowFilter, type MapItem } from './map-items.ts';
import { makeEntry } from '../../test/helpers/tui-store.ts';

const OLD_FILTERS = ['', 'response.status >= 500', 'response.status == 404 or response.status == 500', 'not (request.method == "GET")', 'request.path.startsWith("/c") || response.status < 300', 'limit(3)', 'http and dst.port == 80'];
const STATUSES = [200, 404, 500, null] as const;

const edge = (from: string, to: string): GraphEdge => ({ from, to, protocol: 'HTTP', requests: 1, clientErrors: 0, serverErrors: 0, unanswered: 0, p50Ms: 1, p95Ms: 1 });

/** An entry between two workloads; the IP is the name too, so a term on either (IP-like names get `ip ==`) sees it. */
function between(src: string, dst: string, method: string, status: number | null): Entry {
  const entry = makeEntry({ src, dst, method, status, url: '/catalogue' });
  return { ...entry, src: { ...entry.src, ip: src }, dst: { ...entry.dst, ip: dst } };
}

const name = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), fc.constantFrom('a"b', 'x\\', '\\"', '\b', '10.0.0.9', 'fe80::1', 'carts'));

test('narrowed map query: compiles, and keeps exactly old-filter matches of the selection', () => {
  fc.assert(
    fc.property(fc.constantFrom(...OLD_FILTERS), name, name, fc.constantFrom('node', 'edge'), (old, from, to, kind) => {
      fc.pre(from !== to);
      const graph: ServiceGraph = { nodes: [{ id: from, namespace: '' }, { id: to, namespace: '' }], edges: [edge(from, to)] };
      const item: MapItem = kind === 'node' ? { kind: 'node', id: to } : { kind: 'edge', index: 0 };
      const term = filterForItem(graph, item)!;
      const query = narrowFilter(old, term);
      const combined = compileKfl(query);
      assert.ok(combined.ok, `${query} compiles`);
      const oldFilter = old === '' ? undefined : compileKfl(old);
      const selection = compileKfl(term);
      assert.ok(selection.ok);
      for (const [a, b] of [[from, to], [to, from], [`${from}x`, to], [from, `${to}x`]]) {
        for (const status of STATUSES) {
          for (const method of ['GET', 'POST']) {
            const entry = between(a!, b!, method, status);
            const inOld = oldFilter === undefined || (oldFilter.ok && oldFilter.filter.test(entry));
            const inSelection = kind === 'node' ? entry.dst.name === to : entry.src.name === from && entry.dst.name === to;
            assert.equal(selection.filter.test(entry), inSelection, `${term} on ${a} -> ${b}`);
            assert.equal(combined.filter.test(entry), inOld && inSelection, `${query} on ${a} -> ${b} ${method} ${status}`);
          }
        }
      }
    }),
    { numRuns: 300, seed: 7 },
  );
});

test('narrowed map query keeps the old filter\'s limit()', () => {
  const compiled = compileKfl(narrowFilter('limit(3)', 'dst.name == "carts"'));
  assert.ok(compiled.ok);
  assert.equal(compiled.filter.limit, 3);
});
