/**
 * Keeps the service map readable and its layout cheap: only the busiest workloads are drawn, the
 * rest fold into one "(N others)" node. Without it a capture full of unnamed IPs (one node each)
 * made dagre lay out tens of thousands of nodes on every switch to the map.
 */
import type { GraphEdge, GraphNode, ServiceGraph } from '../pipeline/store-api.ts';

export const MAX_MAP_NODES = 40;

function othersId(count: number): string {
  return `(${count} others)`;
}

/** The fold node stands for many workloads: no one query selects its traffic. */
export function isFoldedNode(id: string): boolean {
  return /^\(\d+ others\)$/.test(id);
}

/** Merges parallel edges after folding: counts add up; latencies keep the slowest (an upper bound). */
function mergeEdges(edges: readonly GraphEdge[]): GraphEdge[] {
  const byKey = new Map<string, GraphEdge>();
  for (const edge of edges) {
    const key = `${edge.from}\u0000${edge.to}\u0000${edge.protocol}`;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, edge);
      continue;
    }
    byKey.set(key, {
      from: edge.from,
      to: edge.to,
      protocol: edge.protocol,
      requests: seen.requests + edge.requests,
      clientErrors: seen.clientErrors + edge.clientErrors,
      serverErrors: seen.serverErrors + edge.serverErrors,
      unanswered: seen.unanswered + edge.unanswered,
      p50Ms: Math.max(seen.p50Ms, edge.p50Ms),
      p95Ms: Math.max(seen.p95Ms, edge.p95Ms),
    });
  }
  return [...byKey.values()];
}

export function capGraph(graph: ServiceGraph, maxNodes: number = MAX_MAP_NODES): ServiceGraph {
  if (graph.nodes.length <= maxNodes) return graph;
  const traffic = new Map<string, number>();
  for (const edge of graph.edges) {
    traffic.set(edge.from, (traffic.get(edge.from) ?? 0) + edge.requests);
    traffic.set(edge.to, (traffic.get(edge.to) ?? 0) + edge.requests);
  }
  const ranked = [...graph.nodes].sort((a, b) => (traffic.get(b.id) ?? 0) - (traffic.get(a.id) ?? 0) || (a.id < b.id ? -1 : 1));
  const kept = ranked.slice(0, maxNodes - 1);
  const keptIds = new Set(kept.map((n) => n.id));
  const others = othersId(graph.nodes.length - kept.length);
  const fold = (id: string): string => (keptIds.has(id) ? id : others);
  const nodes: GraphNode[] = [...kept, { id: others, namespace: '' }];
  const edges = mergeEdges(graph.edges.map((edge) => ({ ...edge, from: fold(edge.from), to: fold(edge.to) })));
  return { nodes, edges };
}
