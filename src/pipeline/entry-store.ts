/**
 * The in-memory store behind the TUI: a ring of the newest entries, a live filtered view of it and
 * the service graph of that view. Sources (read, demo replay, live taps) call add(); the TUI reads
 * only through the EntryStore interface.
 *
 * Every entry gets a sequence number (its arrival index); the entry with sequence s sits in slot
 * s % maxEntries, so the ring never moves anything. Entries are held in compact form
 * (compact-ring.ts: a few hundred bytes each, bodies in a side store bounded by bytes) and decoded
 * when shown; the service map's facts of each entry sit in columns (edge-fact-columns.ts). With a filter, the view is a deque of the
 * matching sequence numbers: arrivals are tested once, evictions pop its front, and a new filter is
 * one pass over the ring. Without a filter the view is the ring itself (no per-entry bookkeeping).
 *
 * Listeners hear about arrivals at most once per frame (a 10k entries/s source must not render 10k
 * times a second); a filter change, triggered by a keystroke, is announced at once.
 */
import type { CompiledFilter } from '../kfl/api.ts';
import type { Entry } from '../model/entry.ts';
import { emptyTallies, sumTallies, type ProtocolTallies } from '../model/protocol-tally.ts';
import { emptyUndissected, formatUndissected, hasUndissected, sumUndissected, type UndissectedCounts } from '../model/undissected.ts';
import { CompactRing } from './compact-ring.ts';
import { EdgeFactColumns } from './edge-fact-columns.ts';
import { NumberDeque } from './number-deque.ts';
import { DEFAULT_MAX_PART_BYTES } from './part-store.ts';
import { SlidingRate } from './rate.ts';
import { edgeFactsOf, ServiceGraphBuilder } from './service-graph.ts';
import type { ApiOutageView, BodyStats, EntryStore, ServiceGraph, StoreSnapshot, TapScope } from './store-api.ts';

export interface Cancelable {
  cancel(): void;
}

export interface EntryStoreOptions {
  /** Ring size (default 100_000); the oldest entry is evicted (and counted) beyond it. */
  maxEntries?: number;
  /** Bytes of bodies (and other large strings) kept beside the compact entries (default 256 MiB). */
  maxBodyBytes?: number;
  /** Notification batching interval in ms (default 33, about 30 frames a second). */
  frameMs?: number;
  /** Wall clock in ms (default Date.now), for entriesPerSec; injectable for tests. */
  now?: () => number;
  /** Timer (default setTimeout); injectable for tests. */
  schedule?: (fn: () => void, ms: number) => Cancelable;
}

export const DEFAULT_MAX_ENTRIES = 100_000;
export const DEFAULT_FRAME_MS = 33;
/** While arrivals are in the rate window, the rate is re-read this often so it decays to 0 when traffic stops. */
export const RATE_TICK_MS = 1000;

function defaultSchedule(fn: () => void, ms: number): Cancelable {
  const timer = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(timer) };
}

export class RingEntryStore implements EntryStore {
  readonly #capacity: number;
  readonly #frameMs: number;
  readonly #now: () => number;
  readonly #schedule: (fn: () => void, ms: number) => Cancelable;

  readonly #ring: CompactRing;
  readonly #facts: EdgeFactColumns;
  /** Entries in the ring now. */
  #held = 0;
  /** Entries whose test in the last re-filter read a body that was dropped (it read as null). */
  #filterReadDropped = 0;
  /** Entries received so far: the next sequence number. */
  #total = 0;
  #evicted = 0;
  #drops = 0;
  #ended = false;
  /** Earliest and latest entry.timestamp seen (entries may arrive a little out of order). */
  #firstMs = Infinity;
  #lastMs = -Infinity;
  #scope: TapScope | undefined;
  #redactionOff = false;
  #notice: string | undefined;
  #apiOutage: ApiOutageView | undefined;
  #undissected: UndissectedCounts | undefined;
  /** formatUndissected of #undissected: an unchanged count is no change for the view. */
  #undissectedText = '';
  #protocols: ProtocolTallies | undefined;
  /** The lost counts of #protocols: only they are shown, so only they make a change for the view. */
  #lostKey = '';

  #filter: CompiledFilter | null = null;
  /** Sequence numbers of the matching entries in the ring, oldest first (only with a filter). */
  readonly #matches = new NumberDeque();
  readonly #graph = new ServiceGraphBuilder();
  /**
   * The graph is rebuilt lazily: a new filter only marks it stale, and graph() rebuilds it when
   * the map asks. Re-filtering 1M entries then costs one predicate pass, not a graph as well.
   */
  #graphStale = false;
  readonly #rate = new SlidingRate();

  readonly #listeners = new Set<() => void>();
  #frameTimer: Cancelable | null = null;
  #rateTimer: Cancelable | null = null;
  #changed = false;
  #snapshot: StoreSnapshot;

  constructor(options: EntryStoreOptions = {}) {
    this.#capacity = Math.max(1, Math.floor(options.maxEntries ?? DEFAULT_MAX_ENTRIES));
    this.#frameMs = options.frameMs ?? DEFAULT_FRAME_MS;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? defaultSchedule;
    this.#ring = new CompactRing(this.#capacity, options.maxBodyBytes ?? DEFAULT_MAX_PART_BYTES);
    this.#facts = new EdgeFactColumns(this.#capacity);
    this.#snapshot = this.#buildSnapshot(0);
  }

  add(entry: Entry): void {
    const seq = this.#total++;
    const slot = seq % this.#capacity;
    if (this.#held < this.#capacity) this.#held++;
    else this.#evictOldest(seq - this.#capacity);
    const facts = edgeFactsOf(entry);
    this.#ring.set(slot, entry);
    this.#facts.set(slot, facts);
    // An arrival is tested as it came (bodies and all), before anything of it can be dropped.
    if (this.#filter === null || this.#filter.test(entry)) {
      if (this.#filter !== null) this.#matches.push(seq);
      if (!this.#graphStale) this.#graph.addFacts(facts, seq);
    }
    if (Number.isFinite(entry.timestamp)) {
      this.#firstMs = Math.min(this.#firstMs, entry.timestamp);
      this.#lastMs = Math.max(this.#lastMs, entry.timestamp);
    }
    this.#rate.record(this.#now());
    this.#markChanged();
  }

  /** Capture-side drops (kernel, reassembly caps, backpressure) to show in the header. */
  addDrops(n: number): void {
    if (!(n > 0)) return;
    this.#drops += n;
    this.#markChanged();
  }

  /** A live tap's context, namespaces and pod count, for the header; call again when they change. */
  setScope(scope: TapScope): void {
    this.#scope = Object.freeze({ ...scope, namespaces: Object.freeze([...scope.namespaces]) });
    this.#markChanged();
  }

  /** Some traffic comes unredacted: the header says so for the rest of the session. */
  markRedactionOff(): void {
    if (this.#redactionOff) return;
    this.#redactionOff = true;
    this.#markChanged();
  }

  /** A live source's latest notice replaces the one shown before (all are also printed at exit). */
  setNotice(message: string): void {
    this.#notice = message;
    this.#markChanged();
  }

  /** A live tap's API server outage (null once it answers again), for the header. */
  setApiOutage(outage: ApiOutageView | null): void {
    this.#apiOutage = outage === null ? undefined : Object.freeze({ ...outage });
    this.#markChanged();
  }

  /**
   * What the source saw but did not dissect (a capture's counts so far, or every pod's), for the
   * header and the empty list; call again as they grow. The counts are copied.
   */
  setUndissected(counts: UndissectedCounts): void {
    if (!hasUndissected(counts)) return;
    const text = formatUndissected(counts);
    if (text === this.#undissectedText) return;
    this.#undissectedText = text;
    this.#undissected = sumUndissected(emptyUndissected(), counts);
    this.#markChanged();
  }

  /**
   * Per-protocol tallies of the source (every pod's, summed), for the empty list to say how many
   * exchanges were seen but could not be read; call again as they grow. The tallies are copied.
   */
  setProtocols(tallies: ProtocolTallies): void {
    const key = Object.entries(tallies)
      .filter(([, t]) => (t.lost ?? 0) > 0)
      .map(([name, t]) => `${name}:${t.lost}`)
      .join(',');
    if (key === this.#lostKey) return;
    this.#lostKey = key;
    this.#protocols = sumTallies(emptyTallies(), tallies);
    this.#markChanged();
  }

  /** The source has finished. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#markChanged();
  }

  /** Cancels pending timers (the store stays readable); call when the view closes. */
  dispose(): void {
    this.#frameTimer?.cancel();
    this.#frameTimer = null;
    this.#rateTimer?.cancel();
    this.#rateTimer = null;
    this.#listeners.clear();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  snapshot(): StoreSnapshot {
    if (this.#changed) {
      this.#snapshot = this.#buildSnapshot(this.#snapshot.version + 1);
      this.#changed = false;
    }
    return this.#snapshot;
  }

  rows(start: number, count: number): readonly Entry[] {
    const from = Math.max(0, Math.floor(start));
    const to = Math.min(this.#shown(), from + Math.max(0, Math.floor(count)));
    const out: Entry[] = [];
    for (let i = from; i < to; i++) out.push(this.#rowAt(i));
    return out;
  }

  row(index: number): Entry | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#shown()) return undefined;
    return this.#rowAt(index);
  }

  setFilter(filter: CompiledFilter | null): void {
    this.#filter = filter;
    this.#matches.clear();
    this.#graph.clear();
    this.#graphStale = true;
    this.#ring.takeDroppedReads();
    if (filter !== null) {
      const oldest = this.#total - this.#held;
      for (let seq = oldest; seq < this.#total; seq++) {
        if (this.#ring.test(seq % this.#capacity, filter)) this.#matches.push(seq);
      }
    }
    this.#filterReadDropped = this.#ring.takeDroppedReads();
    this.#changed = true;
    // One notification now covers any arrivals that were waiting for the frame timer.
    this.#frameTimer?.cancel();
    this.#frameTimer = null;
    this.#notify();
  }

  /** Bytes of the compact entries and the map's columns (bodies are in snapshot().bodies). */
  compactBytes(): number {
    return this.#ring.rowBytes + this.#facts.bytes;
  }

  graph(): ServiceGraph {
    if (this.#graphStale) {
      this.#graphStale = false;
      const shown = this.#shown();
      const oldest = this.#total - this.#held;
      for (let i = 0; i < shown; i++) {
        const seq = this.#filter === null ? oldest + i : this.#matches.at(i)!;
        this.#graph.addFacts(this.#facts.get(seq % this.#capacity), seq);
      }
    }
    return this.#graph.graph();
  }

  #shown(): number {
    return this.#filter === null ? this.#held : this.#matches.length;
  }

  /** Row `index` of the view; the caller has checked the bounds. */
  #rowAt(index: number): Entry {
    const seq = this.#filter === null ? this.#total - this.#held + index : this.#matches.at(index)!;
    const entry = this.#ring.entry(seq % this.#capacity);
    // Matching entries carry the filter's redact() paths as "[REDACTED]" wherever they are shown.
    return this.#filter !== null && this.#filter.redactPaths.length > 0 ? this.#filter.redact(entry) : entry;
  }

  #evictOldest(seq: number): void {
    const slot = seq % this.#capacity;
    this.#evicted++;
    const inView = this.#filter === null || this.#matches.front() === seq;
    if (this.#filter !== null && inView) this.#matches.shift();
    if (inView && !this.#graphStale) this.#graph.removeFacts(this.#facts.get(slot), seq);
    this.#facts.clear(slot);
    this.#ring.clear(slot);
  }

  #markChanged(): void {
    this.#changed = true;
    if (this.#frameTimer === null) this.#frameTimer = this.#schedule(() => this.#onFrame(), this.#frameMs);
  }

  #onFrame(): void {
    this.#frameTimer = null;
    this.#notify();
  }

  #notify(): void {
    this.#armRateTick();
    for (const listener of [...this.#listeners]) listener();
  }

  /** Keeps entriesPerSec honest while no arrival triggers a frame: re-reads it until it reaches 0. */
  #armRateTick(): void {
    if (this.#rateTimer !== null || this.#rate.countAt(this.#now()) === 0) return;
    this.#rateTimer = this.#schedule(() => {
      this.#rateTimer = null;
      if (this.#rate.perSecond(this.#now()) !== this.#snapshot.entriesPerSec) {
        this.#changed = true;
        this.#notify();
      } else {
        this.#armRateTick();
      }
    }, RATE_TICK_MS);
  }

  /** Present once a body went to the side store (or was dropped at once). */
  #bodiesField(): { bodies?: BodyStats } {
    const bodies = this.#ring.partStats;
    return bodies.heldBytes > 0 || bodies.dropped > 0 ? { bodies } : {};
  }

  #buildSnapshot(version: number): StoreSnapshot {
    return Object.freeze({
      version,
      total: this.#total,
      held: this.#held,
      evicted: this.#evicted,
      shown: this.#shown(),
      entriesPerSec: this.#rate.perSecond(this.#now()),
      drops: this.#drops,
      filter: this.#filter?.query ?? '',
      ...this.#bodiesField(),
      ...(this.#filterReadDropped > 0 ? { filterReadDropped: this.#filterReadDropped } : {}),
      ended: this.#ended,
      ...(this.#firstMs <= this.#lastMs ? { timeSpan: Object.freeze({ firstMs: this.#firstMs, lastMs: this.#lastMs }) } : {}),
      ...(this.#scope !== undefined ? { scope: this.#scope } : {}),
      ...(this.#redactionOff ? { redactionOff: true } : {}),
      ...(this.#notice !== undefined ? { notice: this.#notice } : {}),
      ...(this.#apiOutage !== undefined ? { apiOutage: this.#apiOutage } : {}),
      ...(this.#undissected !== undefined ? { undissected: this.#undissected } : {}),
      ...(this.#protocols !== undefined ? { protocols: this.#protocols } : {}),
    });
  }
}
