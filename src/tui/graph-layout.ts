/**
 * Lays out the service graph in layers (callers left of callees) with dagre, in character cells:
 * a node is a 3-row box as wide as its name, an edge label reserves room for "HTTP 42 serr 4.8%".
 */
import dagre from '@dagrejs/dagre';
import type { GraphEdge, ServiceGraph } from '../pipeline/store-api.ts';
import { cutText } from './entry-row.ts';
import { percentOf } from './map-items.ts';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface NodeBox {
  readonly id: string;
  /** The id as drawn: display-safe and at most MAX_NODE_LABEL cells (ids are names from traffic). */
  readonly label: string;
  /** Top-left cell and size. */
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface EdgePath {
  /** Index into ServiceGraph.edges. */
  readonly index: number;
  readonly edge: GraphEdge;
  /** Cells, starting next to the caller's box and ending next to the callee's box. */
  readonly points: readonly Point[];
  readonly label: string;
  readonly labelAt: Point;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly NodeBox[];
  readonly edges: readonly EdgePath[];
}

const BOX_HEIGHT = 3;
/** Longest node name drawn in full; the edge table below the map has room for more. */
export const MAX_NODE_LABEL = 40;
const MAX_PROTOCOL_LABEL = 12;

export function nodeLabel(id: string): string {
  return cutText(id, MAX_NODE_LABEL);
}

/**
 * "HTTP 42", plus what failed on the server's side: "gRPC 42 serr 4.8%", "HTTP 42 serr 4.8% 1 no rsp"
 * (server-side errors: HTTP 5xx, DNS SERVFAIL, gRPC UNAVAILABLE...; client-side ones are in the table).
 */
export function edgeLabel(edge: GraphEdge): string {
  const serverErrors = edge.serverErrors > 0 ? ` serr ${percentOf(edge.serverErrors, edge.requests)}` : '';
  const unanswered = edge.unanswered > 0 ? ` ${edge.unanswered} no rsp` : '';
  return `${cutText(edge.protocol, MAX_PROTOCOL_LABEL)} ${edge.requests}${serverErrors}${unanswered}`;
}

export function layoutGraph(graph: ServiceGraph): GraphLayout {
  if (graph.nodes.length === 0) return { width: 0, height: 0, nodes: [], edges: [] };
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 1, edgesep: 1, ranksep: 6, marginx: 1, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  const labels = new Map(graph.nodes.map((node) => [node.id, nodeLabel(node.id)]));
  for (const node of graph.nodes) g.setNode(node.id, { width: labels.get(node.id)!.length + 4, height: BOX_HEIGHT });
  graph.edges.forEach((edge, index) => {
    if (edge.from === edge.to) return; // a workload calling itself is in the table, not drawn
    const label = edgeLabel(edge);
    g.setEdge(edge.from, edge.to, { width: label.length + 2, height: 1, labelpos: 'c', label }, String(index));
  });
  dagre.layout(g);

  const boxes = new Map<string, NodeBox>();
  for (const node of graph.nodes) {
    const laid = g.node(node.id) as { x: number; y: number; width: number; height: number };
    boxes.set(node.id, {
      id: node.id,
      label: labels.get(node.id)!,
      left: Math.round(laid.x - laid.width / 2),
      top: Math.round(laid.y - laid.height / 2),
      width: laid.width,
      height: BOX_HEIGHT,
    });
  }
  const edges: EdgePath[] = [];
  graph.edges.forEach((edge, index) => {
    const from = boxes.get(edge.from);
    const to = boxes.get(edge.to);
    if (from === undefined || to === undefined || edge.from === edge.to) return;
    const laid = g.edge({ v: edge.from, w: edge.to, name: String(index) }) as { points?: Point[]; x?: number; y?: number };
    const inner = (laid.points ?? []).slice(1, -1).map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) }));
    const label = edgeLabel(edge);
    const labelAt = { x: Math.round((laid.x ?? 0) - label.length / 2), y: Math.round(laid.y ?? 0) };
    edges.push({ index, edge, points: [exitPoint(from, to), ...inner, entryPoint(to, from)], label, labelAt });
  });
  let width = 0;
  let height = 0;
  for (const box of boxes.values()) {
    width = Math.max(width, box.left + box.width + 1);
    height = Math.max(height, box.top + box.height);
  }
  for (const path of edges) {
    for (const p of path.points) height = Math.max(height, p.y + 1);
    width = Math.max(width, path.labelAt.x + path.label.length + 1);
  }
  return { width, height, nodes: [...boxes.values()], edges };
}

const middleRow = (box: NodeBox): number => box.top + Math.floor(box.height / 2);

/** The cell beside the caller's box on the callee's side (callers are usually to the left). */
function exitPoint(from: NodeBox, to: NodeBox): Point {
  return to.left >= from.left ? { x: from.left + from.width, y: middleRow(from) } : { x: from.left - 1, y: middleRow(from) };
}

function entryPoint(to: NodeBox, from: NodeBox): Point {
  return to.left >= from.left ? { x: to.left - 1, y: middleRow(to) } : { x: to.left + to.width, y: middleRow(to) };
}
