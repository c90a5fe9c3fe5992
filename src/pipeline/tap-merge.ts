/**
 * Merges the agent streams of every tapped pod into one stream of entries: ids made unique across
 * agents, endpoints named from the cluster, and the second sighting of a call dropped when both its
 * ends are tapped (the client pod's agent and the server pod's agent each dissect it). Keeps the
 * per-pod counters the end-of-tap summary prints.
 */
import type { Entry } from '../model/entry.ts';
import { emptyTallies, sumTallies, talliesFrom, type ProtocolTallies } from '../model/protocol-tally.ts';
import { descriptorOf } from '../remote-agent/dissect/descriptors.ts';
import { emptyUndissected, sumUndissected, undissectedFrom, type UndissectedCounts } from '../model/undissected.ts';
import type { AgentFrame, ReadEntryFrame, StatsFrame } from '../remote-agent/wire/protocol.ts';
import { CallSightings, type Sighting } from './call-sightings.ts';
import type { ClusterNames } from './cluster-names.ts';
import { agentHead, splicedEntryJson } from './entry-splice.ts';

export interface TapSource {
  /** "namespace/pod". */
  readonly key: string;
  readonly namespace: string;
  readonly pod: string;
}

/** killed: its agent was SIGKILLed (out of memory, most likely) and not restarted. */
export type PodTapState = 'starting' | 'capturing' | 'ended' | 'failed' | 'killed';

export interface PodTapStats {
  readonly key: string;
  /** Entries of this pod handed on (duplicates excluded). */
  entries: number;
  /** Entries of this pod dropped because another pod's agent reported the same call first. */
  duplicates: number;
  /** From the agent's stats frames; summed over agent restarts. */
  sent: number;
  /** Entries the agent dissected, before its filter: what a filter was offered. */
  seen: number;
  /** Entries the agent's pushed-down filter did not send. */
  filtered: number;
  dropped: number;
  kernelDrops: number;
  packets: number;
  /** Warning frames received. */
  warnings: number;
  state: PodTapState;
  /** The latest warning, error or end notice ("" when none). */
  lastMessage: string;
  /** Agent runs seen (hello frames): more than 1 when a broken stream was retried. */
  runs?: number;
  /** False once an agent of this pod said it does not redact. */
  redaction?: boolean;
  /** Traffic the agent saw but did not dissect, by guessed protocol (absent from older agents). */
  undissected?: UndissectedCounts;
  /**
   * Per protocol: entries dissected, violations, and exchanges lost (HTTP/2 streams whose headers
   * could not be read), summed over restarts; absent from agents that do not count them.
   */
  protocols?: ProtocolTallies;
  /** Bugs the agent met (exceptions that were not bad input), summed over restarts; absent from older agents. */
  internalErrors?: number;
}

export interface TapMergerOptions {
  /** How long a call stays known for de-duplication (default 10_000 ms). */
  readonly dedupWindowMs?: number;
  /** Bounds the de-duplication memory (default 200_000 calls). */
  readonly maxDedupKeys?: number;
  /** Monotonic clock in ms (default performance.now); injectable for tests. */
  readonly now?: () => number;
  /** Called with the growth of a pod's dropped + kernel drops whenever a stats frame shows some (for the TUI header). */
  readonly onDrops?: (delta: number, source: TapSource) => void;
  /** Called once, for the first agent that says it does not redact. */
  readonly onRedactionOff?: (source: TapSource) => void;
  /**
   * Called once per pod and protocol, the first time the pod's agent counts exchanges of it lost
   * (ProtocolTally.lost), with the count so far: the pod's traffic is there but not shown, and
   * people should be told why once, not on every stats frame.
   */
  readonly onLost?: (source: TapSource, protocol: string, lost: number) => void;
}

/**
 * Called with each entry handed on; `json`, when given, is `stringifyJson(entry)` as it is now, made
 * cheaply from the agent's text (entry-splice.ts): valid until the entry is changed.
 */
export type MergedEntryHandler = (entry: Entry, json?: string) => void;

export const DEFAULT_DEDUP_WINDOW_MS = 10_000;
export const DEFAULT_MAX_DEDUP_KEYS = 200_000;

interface Counters {
  sent: number;
  seen: number;
  filtered: number;
  dropped: number;
  kernelDrops: number;
  packets: number;
  undissected: UndissectedCounts;
  protocols: ProtocolTallies;
  internalErrors: number;
}

const zero = (): Counters => ({ sent: 0, seen: 0, filtered: 0, dropped: 0, kernelDrops: 0, packets: 0, undissected: emptyUndissected(), protocols: emptyTallies(), internalErrors: 0 });

interface SourceState {
  readonly source: TapSource;
  readonly stats: PodTapStats;
  /** Counters of the agent runs before the current one (stats frames are cumulative per run). */
  readonly before: Counters;
  /** The current run's latest stats frame. */
  current: Counters;
  runs: number;
  /** Protocols whose lost exchanges were reported (onLost). */
  readonly lostTold: Set<string>;
}

/**
 * The same call as seen from either end: the client address, where the request lies in the
 * connection, and what its protocol names the call by (HTTP: the request line). Where it lies is the TCP sequence number of its first byte
 * (the entry frame's `requestSeq`), which both ends see alike. The pair ordinal (the entry id's
 * second number) is only a fallback for frames without one: it counts from where each agent
 * joined the connection, so two agents that joined a keep-alive connection at different requests
 * number the same call differently (and different calls alike).
 *
 * What else differs between the two views, and why the key holds: the server's agent sees the
 * pod address where the client's sees a Service's clusterIP (DNAT), so the server side is not in
 * the key; retransmissions repeat the same sequence numbers and are delivered once; a capture that
 * joins mid-request skips to the next request, whose number both agree on; clocks of different
 * nodes may disagree, so no timestamp is in the key (the window runs on this process's clock).
 * Source NAT between the pods (rare inside a cluster) changes the client address one agent sees:
 * then both copies are kept rather than a risk of merging different calls.
 */
export function dedupKey(entry: Entry, requestSeq?: number): string {
  const at = isSequenceNumber(requestSeq) ? `s${requestSeq}` : `#${pairOrdinal(entry)}`;
  // join, not a template: it makes one flat string, where a template makes a tree of a string per
  // part that the de-duplication memory would hold for the whole window (503 -> 233 bytes a call
  // remembered, with the id below; issue 17 soak: 80k calls at 8k entries/s).
  return [entry.src.ip, entry.src.port, at, callKey(entry)].join('|');
}

/**
 * A number that is the same whenever dedupKey is (CallSightings finds calls by it and compares
 * keys only on a match): where the call lies in its connection, and the client port.
 */
function dedupHash(entry: Entry, requestSeq?: number): number {
  const at = isSequenceNumber(requestSeq) ? requestSeq : Number.parseInt(pairOrdinal(entry), 10) || 0;
  const port = typeof entry.src.port === 'number' ? entry.src.port : 0;
  return (at ^ (port << 16) ^ port) | 0;
}

/** The entry id's second number (see dedupKey), as text. */
function pairOrdinal(entry: Entry): string {
  return entry.id.slice(entry.id.lastIndexOf('-') + 1);
}

/**
 * What names the call beyond where it lies: its protocol and the protocol's own key (HTTP: method
 * and a bounded URL; src/remote-agent/dissect/<protocol>/descriptor.ts). An entry without a
 * descriptor (agents of this build send none) is named by its protocol alone: the client address
 * and stream position still tell its calls apart.
 */
function callKey(entry: Entry): string {
  const descriptor = descriptorOf(entry);
  try {
    if (descriptor !== undefined) return `${descriptor.name}|${descriptor.dedupKey(entry)}`;
  } catch {
    // fields of other types than the dissector writes: as an entry without a descriptor
  }
  return `?${String(entry.protocol.name)}`;
}

/** Frames come from pods: a field that is not a 32-bit sequence number is as good as absent. */
function isSequenceNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export class TapMerger {
  readonly #names: ClusterNames;
  readonly #onEntry: MergedEntryHandler;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #onDrops: TapMergerOptions['onDrops'];
  readonly #onRedactionOff: TapMergerOptions['onRedactionOff'];
  readonly #onLost: TapMergerOptions['onLost'];

  readonly #sources = new Map<string, SourceState>();
  readonly #seen: CallSightings;
  /** Ids of dropped duplicates -> the id their call was handed on under (for links between entries). */
  readonly #aliases = new Map<string, string>();
  #duplicates = 0;
  #redactionOff = false;

  constructor(names: ClusterNames, onEntry: MergedEntryHandler, options: TapMergerOptions = {}) {
    this.#names = names;
    this.#onEntry = onEntry;
    this.#windowMs = options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS;
    this.#maxKeys = Math.max(1, Math.floor(options.maxDedupKeys ?? DEFAULT_MAX_DEDUP_KEYS));
    this.#seen = new CallSightings(this.#windowMs, this.#maxKeys);
    this.#now = options.now ?? (() => performance.now());
    this.#onDrops = options.onDrops;
    this.#onRedactionOff = options.onRedactionOff;
    this.#onLost = options.onLost;
  }

  /** Entries dropped as duplicates, all pods together. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** True once any agent said it does not redact. */
  get redactionOff(): boolean {
    return this.#redactionOff;
  }

  /** Calls remembered for de-duplication right now (bounded by maxDedupKeys). */
  get dedupKeys(): number {
    return this.#seen.size;
  }

  /** Lists a pod before its agent speaks (state "starting", with what is being done). */
  started(source: TapSource, message = ''): void {
    const state = this.#state(source);
    state.stats.state = 'starting';
    state.stats.lastMessage = message;
  }

  /** One agent frame (already parsed with parseAgentLine) from one pod. */
  frame(source: TapSource, frame: AgentFrame): void {
    const state = this.#state(source);
    const stats = state.stats;
    switch (frame.type) {
      case 'entry':
        this.#entry(state, frame.entry, frame.requestSeq, (frame as ReadEntryFrame).entryJson);
        return;
      case 'stats':
        this.#stats(state, frame);
        return;
      case 'hello':
        state.runs += 1;
        stats.runs = state.runs;
        if (state.runs > 1) {
          add(state.before, state.current);
          state.current = zero();
          stats.lastMessage = `agent restarted (run ${state.runs})`;
        }
        stats.state = 'capturing';
        if (frame.redaction?.enabled === false) {
          stats.redaction = false;
          if (!this.#redactionOff) {
            this.#redactionOff = true;
            this.#onRedactionOff?.(source);
          }
        } else if (stats.redaction === undefined) {
          stats.redaction = true;
        }
        return;
      case 'warning':
        stats.warnings += 1;
        stats.lastMessage = frame.message;
        return;
      case 'error':
        stats.state = 'failed';
        stats.lastMessage = frame.message;
        return;
      case 'bye':
        if (stats.state !== 'failed') stats.state = frame.reason === 'error' ? 'failed' : 'ended';
        return;
      case 'filter':
        return;
    }
  }

  /** A stream ended (pod deleted, exec broke, agent killed): marks the pod ended/failed/killed with the message. */
  ended(source: TapSource, state: 'ended' | 'failed' | 'killed', message: string): void {
    const stats = this.#state(source).stats;
    // An agent's own error explains a failure better than the broken stream that follows it.
    if (stats.state === 'failed' && state === 'ended') {
      if (stats.lastMessage === '') stats.lastMessage = message;
      return;
    }
    stats.state = state;
    if (message !== '') stats.lastMessage = message;
  }

  /** Per-pod counters, in the order pods were first seen (copies). */
  stats(): readonly PodTapStats[] {
    return [...this.#sources.values()].map((s) => ({ ...s.stats }));
  }

  #state(source: TapSource): SourceState {
    let state = this.#sources.get(source.key);
    if (state === undefined) {
      const stats: PodTapStats = {
        key: source.key,
        entries: 0,
        duplicates: 0,
        sent: 0,
        seen: 0,
        filtered: 0,
        dropped: 0,
        kernelDrops: 0,
        packets: 0,
        warnings: 0,
        state: 'starting',
        lastMessage: '',
      };
      state = { source, stats, before: zero(), current: zero(), runs: 0, lostTold: new Set() };
      this.#sources.set(source.key, state);
    }
    return state;
  }

  #entry(state: SourceState, entry: Entry, requestSeq: number | undefined, agentJson: string | undefined): void {
    const { source, stats } = state;
    if (stats.state === 'starting') stats.state = 'capturing';
    // Agent ids restart at 0 in every agent (and every run of one): prefix the pod, and the run after a restart.
    const run = state.runs > 1 ? `r${state.runs}.` : '';
    const prefix = `${source.namespace}/${source.pod}/${run}`;
    // Flat (see dedupKey): the de-duplication memory holds it for the window.
    const id = [prefix, entry.id].join('');
    const kept = this.#keptSighting(dedupKey(entry, requestSeq), dedupHash(entry, requestSeq), source.key, id);
    if (kept !== null) {
      // The other end's sighting was handed on: links to this one must lead there instead.
      this.#alias(id, kept.id);
      stats.duplicates += 1;
      this.#duplicates += 1;
      return;
    }
    const relinkIds = descriptorOf(entry)?.relinkIds;
    // Only the id and the endpoints change below, unless ids of other entries are relinked.
    const head = agentJson === undefined || relinkIds !== undefined ? null : agentHead(agentJson, entry);
    entry.id = id;
    // Ids an entry holds of other entries of its capture (a WebSocket message's upgrade) get the
    // same prefix, or the id the other end's sighting of that entry was handed on under.
    relinkIds?.(entry, (other) => this.#aliases.get(`${prefix}${other}`) ?? `${prefix}${other}`);
    this.#names.nameEntry(entry);
    stats.entries += 1;
    const json = head === null ? null : splicedEntryJson(agentJson!, head, entry);
    if (json === null) this.#onEntry(entry);
    else this.#onEntry(entry, json);
  }

  #stats(state: SourceState, frame: StatsFrame): void {
    const { stats } = state;
    const dropsBefore = stats.dropped + stats.kernelDrops;
    // Frames come from pods: a counter that is not a whole number counts as 0.
    const n = (v: unknown): number => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : 0);
    const undissected = undissectedFrom(frame.undissected);
    const protocols = talliesFrom(frame.protocols);
    state.current = {
      sent: n(frame.sent),
      seen: n(frame.entries),
      filtered: n(frame.filtered),
      dropped: n(frame.dropped),
      kernelDrops: n(frame.kernelDrops),
      packets: n(frame.packets),
      undissected: undissected ?? emptyUndissected(),
      protocols: protocols ?? emptyTallies(),
      internalErrors: n(frame.internalErrors),
    };
    stats.sent = state.before.sent + state.current.sent;
    stats.seen = state.before.seen + state.current.seen;
    stats.filtered = state.before.filtered + state.current.filtered;
    stats.dropped = state.before.dropped + state.current.dropped;
    stats.kernelDrops = state.before.kernelDrops + state.current.kernelDrops;
    stats.packets = state.before.packets + state.current.packets;
    if (undissected !== undefined || stats.undissected !== undefined) {
      stats.undissected = sumUndissected(state.before.undissected, state.current.undissected);
    }
    if (protocols !== undefined || stats.protocols !== undefined) {
      stats.protocols = sumTallies(state.before.protocols, state.current.protocols);
      this.#tellLost(state, stats.protocols);
    }
    if (frame.internalErrors !== undefined || stats.internalErrors !== undefined) {
      stats.internalErrors = state.before.internalErrors + state.current.internalErrors;
    }
    if (stats.state === 'starting') stats.state = 'capturing';
    const delta = stats.dropped + stats.kernelDrops - dropsBefore;
    if (delta > 0) this.#onDrops?.(delta, state.source);
  }

  /** The first lost exchanges of each protocol of a pod, once. */
  #tellLost(state: SourceState, tallies: ProtocolTallies): void {
    for (const [name, tally] of Object.entries(tallies)) {
      if ((tally.lost ?? 0) === 0 || state.lostTold.has(name)) continue;
      state.lostTold.add(name);
      this.#onLost?.(state.source, name, tally.lost!);
    }
  }

  /** The kept sighting of the same call from another pod, or null when this one is to be kept (as `id`). */
  #keptSighting(key: string, hash: number, source: string, id: string): Sighting | null {
    const now = this.#now();
    const seen = this.#seen.find(key, hash, now);
    if (seen !== undefined) return seen.source !== source ? seen : null;
    // New (or expired): remember it as the newest sighting.
    this.#seen.remember(key, hash, { source, at: now, id });
    return null;
  }

  /** `dropped` (a duplicate's id) now means `kept`; bounded like the dedup memory, oldest out first. */
  #alias(dropped: string, kept: string): void {
    this.#aliases.set(dropped, kept);
    if (this.#aliases.size > this.#maxKeys) this.#aliases.delete(this.#aliases.keys().next().value!);
  }
}

function add(into: Counters, more: Counters): void {
  into.sent += more.sent;
  into.seen += more.seen;
  into.filtered += more.filtered;
  into.dropped += more.dropped;
  into.kernelDrops += more.kernelDrops;
  into.packets += more.packets;
  into.undissected = sumUndissected(into.undissected, more.undissected);
  into.protocols = sumTallies(into.protocols, more.protocols);
  into.internalErrors += more.internalErrors;
}
