/**
 * What the service map lets you select (nodes, then edges), the KFL query each selection stands
 * for, and the edge table under the drawing (pure).
 */
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { formatLatency } from './entry-row.ts';
import type { GraphLayout } from './graph-layout.ts';
import type { MapSelection } from './graph-canvas.ts';

export type MapItem = { readonly kind: 'node'; readonly id: string } | { readonly kind: 'edge'; readonly index: number };

/** Nodes in reading order of the drawing (left to right, top to bottom), then edges in table order. */
export function mapItems(graph: ServiceGraph, layout: GraphLayout): readonly MapItem[] {
  const nodes = [...layout.nodes].sort((a, b) => a.left - b.left || a.top - b.top).map((box): MapItem => ({ kind: 'node', id: box.id }));
  const edges = graph.edges.map((_, index): MapItem => ({ kind: 'edge', index }));
  return [...nodes, ...edges];
}

function quoteKfl(text: string): string {
  return JSON.stringify(text);
}

const IP_LIKE = /^[0-9a-f:.[\]]+$/i;

/** `name == "x"`, or `ip == "10.0.0.1"` for nodes that have no workload name. */
function sideTerm(side: 'src' | 'dst', id: string): string {
  return IP_LIKE.test(id) && /[.:]/.test(id) ? `${side}.ip == ${quoteKfl(id)}` : `${side}.name == ${quoteKfl(id)}`;
}

/** The traffic a selection stands for: calls into a node (calls out of it when nothing calls it), or one edge. */
export function filterForItem(graph: ServiceGraph, item: MapItem): string | undefined {
  if (item.kind === 'node') {
    const isCalled = graph.edges.some((edge) => edge.to === item.id);
    return sideTerm(isCalled ? 'dst' : 'src', item.id);
  }
  const edge = graph.edges[item.index];
  if (edge === undefined) return undefined;
  return `${sideTerm('src', edge.from)} and ${sideTerm('dst', edge.to)}`;
}

export function asSelection(item: MapItem | undefined): MapSelection {
  return item;
}

export const EDGE_TABLE_TITLE = ['CALLER -> CALLEE', 'PROTO', 'REQS', 'ERR%', 'P50', 'P95'] as const;

export function edgeTableCells(edge: GraphEdge): readonly string[] {
  return [
    `${edge.from} -> ${edge.to}`,
    edge.protocol,
    String(edge.requests),
    `${(edge.errorRate * 100).toFixed(edge.errorRate > 0 && edge.errorRate < 0.1 ? 1 : 0)}%`,
    formatLatency(edge.p50Ms),
    formatLatency(edge.p95Ms),
  ];
}
