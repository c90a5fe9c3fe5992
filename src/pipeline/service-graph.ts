/**
 * The service map of the store's filtered view, kept incrementally: workloads are nodes, and each
 * caller -> callee pair per protocol is an edge with request counts (all, 4xx, 5xx, unanswered)
 * and latency percentiles. Entries enter in arrival order and leave oldest first (ring eviction), which is what
 * lets every count be exact: an edge's latency samples are the last SAMPLES_PER_EDGE answered
 * requests of that edge still in the view, and an evicted entry is always the oldest of its edge.
 */
import type { Endpoint, Entry } from '../model/entry.ts';
import { descriptorOf, summarizeEntry } from '../remote-agent/dissect/descriptors.ts';
import { NumberDeque } from './number-deque.ts';
import type { GraphEdge, GraphNode, ServiceGraph } from './store-api.ts';

/** Latency samples kept per edge: the most recent ones (not a reservoir), so p95 follows the present. */
export const SAMPLES_PER_EDGE = 2048;

interface EdgeState {
  readonly from: string;
  readonly to: string;
  readonly protocol: string;
  requests: number;
  clientErrors: number;
  serverErrors: number;
  unanswered: number;
  /** Store sequence numbers of the sampled entries, in step with `latencies`. */
  readonly sampleSeqs: NumberDeque;
  readonly latencies: NumberDeque;
  /** The published edge; undefined when a count changed since. */
  published: GraphEdge | undefined;
}

interface NodeState {
  readonly node: GraphNode;
  /** Edges touching the node: it leaves the graph with its last edge. */
  edges: number;
}

export const EMPTY_GRAPH: ServiceGraph = Object.freeze({ nodes: Object.freeze([]), edges: Object.freeze([]) });

/** The node id of an endpoint: its workload name, or its IP while unnamed. */
export function nodeId(endpoint: Endpoint): string {
  return endpoint.name !== '' ? endpoint.name : endpoint.ip;
}

/** Which of an edge's counts an entry adds to besides `requests`: the map shows each on its own. */
export type Outcome = 'answered' | 'clientError' | 'serverError' | 'unanswered';

/**
 * By the class of the entry's outcome (its protocol descriptor's): HTTP's 4xx and 5xx, a DNS
 * NXDOMAIN or SERVFAIL; other outcomes (HTTP 1xx-3xx, and nonsense such as 600 from hostile
 * traffic) are just answered.
 */
export function outcomeOf(entry: Entry): Outcome {
  // Unanswered: the answer never came (timeout, connection closed, no pair), which the dissector
  // says with an error. A message of a one-sided protocol (a WebSocket message the client sent)
  // has no response by design, and is answered as far as the map goes.
  if (entry.response === null) return entry.error !== null && entry.error.type !== 'dissection' ? 'unanswered' : 'answered';
  const outcomeClass = summarizeEntry(entry).outcomeClass;
  if (outcomeClass === 'client-error') return 'clientError';
  if (outcomeClass === 'server-error') return 'serverError';
  return 'answered';
}

/**
 * The edge an entry counts on, by the protocol variant its descriptor names (HTTP, HTTP/2, gRPC,
 * DNS), so variants of one family keep their own edges; the abbreviation for an entry of a
 * protocol we do not describe (NDJSON input).
 */
export function edgeLabelOf(entry: Entry): string {
  const descriptor = descriptorOf(entry);
  if (descriptor !== undefined) {
    try {
      return descriptor.edgeLabel(entry);
    } catch {
      // fields of other types than the dissector writes: the abbreviation, as for any other entry
    }
  }
  return String(entry.protocol.abbr);
}

/** Something on the edge failed on the server's side: a 5xx, or no answer at all (drawn red). */
export function isFailing(edge: GraphEdge): boolean {
  return edge.serverErrors > 0 || edge.unanswered > 0;
}

function count(edge: EdgeState, outcome: Outcome, delta: 1 | -1): void {
  edge.requests += delta;
  if (outcome === 'clientError') edge.clientErrors += delta;
  else if (outcome === 'serverError') edge.serverErrors += delta;
  else if (outcome === 'unanswered') edge.unanswered += delta;
}

/** Nearest-rank percentile of sorted values (p in 0..1); 0 when there are none. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/**
 * What the map takes from an entry: the store keeps these per entry in columns (entry-store.ts),
 * so the graph is rebuilt and entries leave it without decoding the entries.
 */
export interface EdgeFacts {
  readonly from: string;
  readonly to: string;
  readonly fromNamespace: string;
  readonly toNamespace: string;
  /** The edge label (edgeLabelOf). */
  readonly protocol: string;
  readonly outcome: Outcome;
  /** Both sides present: the latency is a sample (see add). */
  readonly sampled: boolean;
  readonly elapsedMs: number;
}

export function edgeFactsOf(entry: Entry): EdgeFacts {
  return {
    from: nodeId(entry.src),
    to: nodeId(entry.dst),
    fromNamespace: entry.src.namespace,
    toNamespace: entry.dst.namespace,
    protocol: edgeLabelOf(entry),
    outcome: outcomeOf(entry),
    // Unanswered requests and one-sided records (a WebSocket message from the server) have
    // elapsedTime 0: sampling them would drag the percentiles to 0.
    sampled: entry.request !== null && entry.response !== null,
    elapsedMs: entry.elapsedTime,
  };
}

export class ServiceGraphBuilder {
  /**
   * caller -> callee -> protocol -> edge. Nested maps rather than one map keyed by a joined string:
   * the names come from shared strings whose hashes V8 caches, while a joined key would be a new
   * string to build and hash for every entry (this is the hot path of add and of setFilter).
   */
  readonly #edges = new Map<string, Map<string, Map<string, EdgeState>>>();
  #edgeCount = 0;
  readonly #nodes = new Map<string, NodeState>();
  #published: ServiceGraph = EMPTY_GRAPH;
  #changed = false;

  /** Adds an entry of the view; `seq` is its store sequence number (increasing). */
  add(entry: Entry, seq: number): void {
    this.addFacts(edgeFactsOf(entry), seq);
  }

  /** Removes an entry that was added with `seq` and is now the oldest of the view. */
  remove(entry: Entry, seq: number): void {
    this.removeFacts(edgeFactsOf(entry), seq);
  }

  /** add() of an entry by its facts. */
  addFacts(facts: EdgeFacts, seq: number): void {
    const { from, to, protocol } = facts;
    let byTo = this.#edges.get(from);
    if (byTo === undefined) this.#edges.set(from, (byTo = new Map()));
    let byProtocol = byTo.get(to);
    if (byProtocol === undefined) byTo.set(to, (byProtocol = new Map()));
    let edge = byProtocol.get(protocol);
    if (edge === undefined) {
      edge = {
        from, to, protocol, requests: 0, clientErrors: 0, serverErrors: 0, unanswered: 0,
        sampleSeqs: new NumberDeque(), latencies: new NumberDeque(), published: undefined,
      };
      byProtocol.set(protocol, edge);
      this.#edgeCount++;
      this.#retainNode(from, facts.fromNamespace);
      this.#retainNode(to, facts.toNamespace);
    }
    count(edge, facts.outcome, 1);
    if (facts.sampled) {
      if (edge.latencies.length === SAMPLES_PER_EDGE) {
        edge.latencies.shift();
        edge.sampleSeqs.shift();
      }
      edge.latencies.push(facts.elapsedMs);
      edge.sampleSeqs.push(seq);
    }
    edge.published = undefined;
    this.#changed = true;
  }

  /** remove() of an entry by its facts. */
  removeFacts(facts: EdgeFacts, seq: number): void {
    const byTo = this.#edges.get(facts.from);
    const byProtocol = byTo?.get(facts.to);
    const edge = byProtocol?.get(facts.protocol);
    if (byTo === undefined || byProtocol === undefined || edge === undefined) return;
    count(edge, facts.outcome, -1);
    if (edge.sampleSeqs.front() === seq) {
      edge.sampleSeqs.shift();
      edge.latencies.shift();
    }
    edge.published = undefined;
    this.#changed = true;
    if (edge.requests > 0) return;
    byProtocol.delete(edge.protocol);
    if (byProtocol.size === 0) byTo.delete(facts.to);
    if (byTo.size === 0) this.#edges.delete(facts.from);
    this.#edgeCount--;
    this.#releaseNode(edge.from);
    this.#releaseNode(edge.to);
  }

  clear(): void {
    if (this.#edgeCount === 0) return;
    this.#edges.clear();
    this.#edgeCount = 0;
    this.#nodes.clear();
    this.#changed = true;
  }

  /** The current graph; the same object until something changes. Sorted for stable rendering. */
  graph(): ServiceGraph {
    if (!this.#changed) return this.#published;
    const nodes = [...this.#nodes.values()].map((n) => n.node).sort((a, b) => compare(a.id, b.id));
    const edges: GraphEdge[] = [];
    for (const byTo of this.#edges.values()) {
      for (const byProtocol of byTo.values()) {
        for (const edge of byProtocol.values()) edges.push((edge.published ??= publish(edge)));
      }
    }
    edges.sort((a, b) => compare(a.from, b.from) || compare(a.to, b.to) || compare(a.protocol, b.protocol));
    this.#published = Object.freeze({ nodes: Object.freeze(nodes), edges: Object.freeze(edges) });
    this.#changed = false;
    return this.#published;
  }

  #retainNode(id: string, namespace: string): void {
    const state = this.#nodes.get(id);
    if (state !== undefined) state.edges++;
    // The first namespace seen wins: ids are names, so a name is one workload (see the report).
    else this.#nodes.set(id, { node: Object.freeze({ id, namespace }), edges: 1 });
  }

  #releaseNode(id: string): void {
    const state = this.#nodes.get(id);
    if (state === undefined) return;
    if (--state.edges === 0) this.#nodes.delete(id);
  }
}

function publish(edge: EdgeState): GraphEdge {
  const sorted = edge.latencies.sortedCopy();
  return Object.freeze({
    from: edge.from,
    to: edge.to,
    protocol: edge.protocol,
    requests: edge.requests,
    clientErrors: edge.clientErrors,
    serverErrors: edge.serverErrors,
    unanswered: edge.unanswered,
    p50Ms: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
