/**
 * What the service map lets you select (nodes, then edges), the KFL query each selection stands
 * for and how it narrows the active filter, and the edge table under the drawing (pure).
 */
import { kflString } from '../kfl/index.ts';
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { cutText, formatLatency } from './entry-row.ts';
import { isFoldedNode } from './graph-cap.ts';
import type { GraphLayout } from './graph-layout.ts';
import type { MapSelection } from './graph-canvas.ts';

export type MapItem = { readonly kind: 'node'; readonly id: string } | { readonly kind: 'edge'; readonly index: number };

/** Nodes in reading order of the drawing (left to right, top to bottom), then edges in table order. */
export function mapItems(graph: ServiceGraph, layout: GraphLayout): readonly MapItem[] {
  const nodes = [...layout.nodes].sort((a, b) => a.left - b.left || a.top - b.top).map((box): MapItem => ({ kind: 'node', id: box.id }));
  const edges = graph.edges.map((_, index): MapItem => ({ kind: 'edge', index }));
  return [...nodes, ...edges];
}

const IP_LIKE = /^[0-9a-f:.[\]]+$/i;

/** `name == "x"`, or `ip == "10.0.0.1"` for nodes that have no workload name. */
function sideTerm(side: 'src' | 'dst', id: string): string {
  return IP_LIKE.test(id) && /[.:]/.test(id) ? `${side}.ip == ${kflString(id)}` : `${side}.name == ${kflString(id)}`;
}

/**
 * The traffic a selection stands for: calls into a node (calls out of it when nothing calls it), or
 * one edge; undefined for the "(N others)" fold and its edges, which no name query matches.
 */
export function filterForItem(graph: ServiceGraph, item: MapItem): string | undefined {
  if (item.kind === 'node') {
    if (isFoldedNode(item.id)) return undefined;
    const isCalled = graph.edges.some((edge) => edge.to === item.id);
    return sideTerm(isCalled ? 'dst' : 'src', item.id);
  }
  const edge = graph.edges[item.index];
  if (edge === undefined || isFoldedNode(edge.from) || isFoldedNode(edge.to)) return undefined;
  return `${sideTerm('src', edge.from)} and ${sideTerm('dst', edge.to)}`;
}

/**
 * The active filter narrowed to a selection's traffic: `(old) and term`, or the term alone when no
 * filter is active (or the filter already is that term, so enter twice does not stack it). The old
 * query is a valid one (the store only holds compiled filters), so parentheses keep its meaning
 * whatever operators it uses; the caller still compiles the result before applying it.
 */
export function narrowFilter(active: string, term: string): string {
  const old = active.trim();
  if (old === '' || old === term) return term;
  return `(${old}) and ${term}`;
}

/** The filter a map selection sets: `previous` (the active one; '' for none) narrowed by `term`. */
export interface Narrowing {
  readonly previous: string;
  readonly term: string;
  readonly query: string;
}

export function narrowingFor(active: string, term: string): Narrowing {
  return { previous: active, term, query: narrowFilter(active, term) };
}

/** True when the query combines a filter that was active (not just the selection's term). */
export function isNarrowing(narrowed: Narrowing): boolean {
  return narrowed.query !== narrowed.term;
}

/**
 * The query in at most `room` cells, display-safe: whole when it fits, else the earlier filter is
 * cut so the term the map adds (the news) stays in view.
 */
export function fitNarrowing(narrowed: Narrowing, room: number): string {
  const whole = cutText(narrowed.query, room);
  if (whole === narrowed.query || !isNarrowing(narrowed)) return whole;
  const term = cutText(narrowed.term, room);
  const old = cutText(narrowed.previous.trim(), room - term.length - '() and '.length);
  return old === '' ? term : `(${old}) and ${term}`;
}

export function asSelection(item: MapItem | undefined): MapSelection {
  return item;
}

/**
 * The edge table's columns. CERR% and SERR% are shares of REQS answered with a client-side and a
 * server-side error, as each protocol's descriptor classes its outcomes (HTTP 4xx and 5xx, DNS
 * NXDOMAIN and SERVFAIL, gRPC statuses by the HTTP status google.rpc.Code gives them); NO RSP
 * counts requests that got no response (they are in neither share).
 */
export const EDGE_TABLE_TITLE = ['CALLER -> CALLEE', 'PROTO', 'REQS', 'CERR%', 'SERR%', 'NO RSP', 'P50', 'P95'] as const;

/** `count` of `total` as a percentage: one decimal below 10%, and never 0 for a count above 0, so a rare failure does not read as none. */
export function percentOf(count: number, total: number): string {
  if (total <= 0 || count <= 0) return '0%';
  const share = (count / total) * 100;
  if (share < 0.1) return '<0.1%';
  return `${share.toFixed(share < 10 ? 1 : 0)}%`;
}

export function edgeTableCells(edge: GraphEdge): readonly string[] {
  return [
    `${edge.from} -> ${edge.to}`,
    edge.protocol,
    String(edge.requests),
    percentOf(edge.clientErrors, edge.requests),
    percentOf(edge.serverErrors, edge.requests),
    String(edge.unanswered),
    formatLatency(edge.p50Ms),
    formatLatency(edge.p95Ms),
  ];
}
