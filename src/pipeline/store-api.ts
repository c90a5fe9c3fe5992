/**
 * The contract between the entry store (the CLI half of the pipeline: bounded ring, live filter,
 * service graph) and the TUI. The TUI only reads through this interface and never touches capture
 * or Kubernetes code; the store is fed by `read`, `demo` and live taps.
 */
import type { CompiledFilter } from '../kfl/api.ts';
import type { Entry } from '../model/entry.ts';
import type { ProtocolTallies } from '../model/protocol-tally.ts';
import type { UndissectedCounts } from '../model/undissected.ts';

export interface StoreSnapshot {
  /** Increments on every visible change; a new object per change (useSyncExternalStore-friendly). */
  readonly version: number;
  /** Entries received since start (including evicted ones). */
  readonly total: number;
  /** Entries in the ring buffer now (at most maxEntries). */
  readonly held: number;
  /** Entries evicted from the ring because it was full. */
  readonly evicted: number;
  /** Entries in the buffer that match the active filter: the rows the list can show. */
  readonly shown: number;
  /** Entries received per second over the last few seconds (wall clock). */
  readonly entriesPerSec: number;
  /** Drops reported by the capture (kernel, reassembly caps, agent backpressure): sum shown in the header. */
  readonly drops: number;
  /** Active filter query ('' when none). */
  readonly filter: string;
  /**
   * Bodies and other large strings, kept beside the compact entries within a byte budget: what is
   * held, the budget, and how many were dropped (oldest first) to stay within it. Present once
   * the first such body arrived.
   */
  readonly bodies?: BodyStats;
  /**
   * Present when the active filter's pass over the held entries read a dropped body in this many
   * entries: there the body read as null (a `contains` on it is false), so they may be missing.
   */
  readonly filterReadDropped?: number;
  /** True once the source has ended (file read, replay finished without --loop). */
  readonly ended: boolean;
  /**
   * Capture times (entry.timestamp, ms) of the earliest and the latest entry received, evicted ones
   * included: what a finished source shows instead of a rate. Absent before the first entry.
   */
  readonly timeSpan?: { readonly firstMs: number; readonly lastMs: number };
  /** Present for a live tap: what is being tapped, for the header. */
  readonly scope?: TapScope;
  /** Present and true once some traffic comes unredacted (tap --no-redact, or an agent that does not redact). */
  readonly redactionOff?: boolean;
  /** The latest notice of a live source (a pod tapped or gone, a stream retried), for the header. */
  readonly notice?: string;
  /** Present while a live tap's API server does not answer, for the header. */
  readonly apiOutage?: ApiOutageView;
  /**
   * Present once the source saw traffic it does not dissect (TLS, HTTP/2, DNS ...), by guessed
   * protocol: the header and the empty list say so instead of "waiting for traffic".
   */
  readonly undissected?: UndissectedCounts;
  /**
   * Present once a live tap's agents counted exchanges they saw but could not read (HTTP/2 streams
   * on connections open before the tap: ProtocolTally.lost): the empty list says so.
   */
  readonly protocols?: ProtocolTallies;
}

export interface BodyStats {
  readonly heldBytes: number;
  readonly budgetBytes: number;
  readonly dropped: number;
  readonly droppedBytes: number;
}

/** An API server outage as the header shows it: since when, and when the next try is. */
export interface ApiOutageView {
  /** Wall clock (ms since the epoch). */
  readonly sinceMs: number;
  readonly retryInMs: number;
}

/** What a live tap covers; the header shows it instead of the plain target count. */
export interface TapScope {
  /** The kubeconfig context in use. */
  readonly context: string;
  /** Namespaces searched for targets; empty for all namespaces (-A). */
  readonly namespaces: readonly string[];
  /** Pods being tapped now. */
  readonly pods: number;
}

export interface GraphNode {
  /** Workload name, or the IP when unnamed. */
  readonly id: string;
  readonly namespace: string;
}

export interface GraphEdge {
  /** Caller node id. */
  readonly from: string;
  /** Callee node id. */
  readonly to: string;
  /** Protocol abbreviation (e.g. "HTTP"). */
  readonly protocol: string;
  readonly requests: number;
  /** Of them, answered with a status 400-499 (the client's mistake: 401, 404 ...). */
  readonly clientErrors: number;
  /** Answered with a status 500-599 (the server failed). */
  readonly serverErrors: number;
  /** Got no response at all (timed out, connection closed). */
  readonly unanswered: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

export interface ServiceGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface EntryStore {
  /** Called after changes, at most about 30 times a second (arrivals are batched). */
  subscribe(listener: () => void): () => void;
  snapshot(): StoreSnapshot;
  /** Rows `[start, start + count)` of the filtered view, oldest first. */
  rows(start: number, count: number): readonly Entry[];
  /** Row `index` of the filtered view. */
  row(index: number): Entry | undefined;
  /** Applies a filter to the whole buffer and to every entry that arrives later (null: none). */
  setFilter(filter: CompiledFilter | null): void;
  /** The service graph of the filtered view. */
  graph(): ServiceGraph;
}
