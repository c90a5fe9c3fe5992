/**
 * TLS plaintext from the probes -> the same StreamFactory contract as TCP reassembly, so the same
 * dissectors (HTTP/1, HTTP/2, gRPC, WebSocket...) read it. Per hooked connection (a process's
 * OpenSSL `SSL *` or Go `*tls.Conn`, keyed by pid and connId):
 *
 * - its TCP connection: the event's 4-tuple (seen by the kernel during the call), else the socket
 *   behind the event's fd (/proc: proc-sockets.ts), else what an earlier event of the same connId
 *   said. An OpenSSL event's tuple is the socket its thread used during the call; a Go event's is
 *   the socket behind its fd, read by the probe at call time (a Go thread's last socket can be
 *   another goroutine's). Until one is known its records are held (bounded per connection and in
 *   all); past the bound, or when it never resolves, they are dropped and counted
 *   (`stats.tls.unresolved`).
 * - its roles: a LISTEN socket on the local port makes the hooked process the server; `a` is the
 *   client, `b` the server. A write of the client and a read of the server run a -> b.
 * - holes: `streamOffset` counts every byte of a direction, carried or not, so a lost record or a
 *   skip record (a call beyond the per-call cap) becomes `gap(dir, n)`; a connection starts at the
 *   first offset it is seen at (an `SSL *` is reused by later connections, its counter is not reset).
 * - its end: the probes' close record of its socket (by tuple), idle expiry (capture time), eviction by the cap.
 * - shown once: when both ends of one TCP connection are hooked processes in scope (client and server
 *   in one pod), the end seen first is shown; the other end's records are counted as duplicates.
 *
 * Records are hostile input like packets: nothing here trusts a length, an offset or an address
 * beyond what it costs to count it, and a handler that throws loses only its own connection.
 */
import type { CaptureStats } from '../stats.ts';
import { countThrown, InternalErrors } from '../thrown-errors.ts';
import { guessSourceIsClient } from '../tcp/client-guess.ts';
import { DISCARDING_HANDLER } from '../tcp/connection.ts';
import type { CloseReason, ConnectionInfo, Direction, StreamFactory, StreamHandler } from '../tcp/stream.ts';
import type { TlsDataEvent, TlsEvent, TlsSkipEvent, TlsSocketTuple } from './events.ts';
import type { PlaintextClaims } from './plaintext-claims.ts';
import type { SocketLookup } from './proc-sockets.ts';
import { normaliseTuple, sameTuple, tupleKey } from './socket-tuple.ts';

export interface PlaintextLimits {
  /** Hooked connections tracked (shown, duplicate or unresolved); past it the least recently active goes. */
  readonly maxConnections: number;
  /** Plaintext bytes held per connection while its TCP connection is unknown. */
  readonly maxHeldBytesPerConnection: number;
  /** The same, all connections together. */
  readonly maxHeldBytesTotal: number;
  /** A connection without records for this long (capture time) is closed. */
  readonly idleTimeoutUs: number;
}

export const DEFAULT_PLAINTEXT_LIMITS: PlaintextLimits = Object.freeze({
  maxConnections: 16_384,
  maxHeldBytesPerConnection: 256 * 1024,
  maxHeldBytesTotal: 16 * 1024 * 1024,
  idleTimeoutUs: 120_000_000,
});

/** Entry ids of plaintext connections are `t<n>-<m>`: never one of packet capture's `<n>-<m>`. */
export const PLAINTEXT_LABEL_PREFIX = 't';

type PlaintextRecord = TlsDataEvent | TlsSkipEvent;

/** events() looks for idle connections at most this often (capture time). */
const EXPIRY_CHECK_INTERVAL_US = 1_000_000;

/**
 * A socket's name as its own end sees it (local first): the two ends of one connection differ, so a
 * process that is both (its client talks to its server) has two. Not the pid: a close record is
 * reported by whatever task the kernel ran when the socket closed (after a reset, possibly another
 * process of the pod).
 */
function closeKeyOf(t: TlsSocketTuple): string {
  return `${t.localIp}|${t.localPort}|${t.remoteIp}|${t.remotePort}`;
}

/** The one shown side of a TCP connection: its handler and where each direction stands. */
class ShownConnection {
  readonly key: string;
  readonly info: ConnectionInfo;
  /** The hooked process is the client: its writes run a -> b (direction 0). */
  readonly hookedIsClient: boolean;
  handler: StreamHandler;
  /** Per hooked direction (0 write, 1 read): the next stream offset expected; -1 before the first record. */
  readonly next = [-1, -1];

  constructor(key: string, info: ConnectionInfo, hookedIsClient: boolean, handler: StreamHandler) {
    this.key = key;
    this.info = info;
    this.hookedIsClient = hookedIsClient;
    this.handler = handler;
  }
}

/** One hooked connection object (pid, connId). */
interface Hooked {
  readonly id: string;
  readonly pid: number;
  tuple: TlsSocketTuple | null;
  /** The fd of its latest record (-1 unknown). */
  fd: number;
  /** Its directed tuple once resolved (closeKeyOf): how close records find it. */
  closeKey: string | null;
  /** The shown connection, when this end is the one shown. */
  shown: ShownConnection | null;
  /** The other end of its TCP connection is shown: this one's records are duplicates. */
  duplicate: boolean;
  held: PlaintextRecord[];
  heldBytes: number;
  lastSeenUs: number;
}

export class PlaintextStreams {
  readonly #factory: StreamFactory;
  readonly #stats: CaptureStats;
  readonly #sockets: SocketLookup;
  readonly #claims: PlaintextClaims | null;
  readonly #limits: PlaintextLimits;
  readonly #internalErrors: InternalErrors;
  /** By `${pid}:${connId}`, least recently active first (re-inserted on every record). */
  readonly #hooked = new Map<string, Hooked>();
  /** Shown connections by tupleKey: the first end seen owns it. */
  readonly #shown = new Map<string, ShownConnection>();
  /** Resolved hooked connections by closeKeyOf, for close records. */
  readonly #byClose = new Map<string, Hooked>();
  #heldBytesTotal = 0;
  #nextIndex = 0;
  #nowUs = 0;
  #nextExpiryUs = 0;

  constructor(
    factory: StreamFactory,
    stats: CaptureStats,
    sockets: SocketLookup,
    options: { readonly claims?: PlaintextClaims; readonly limits?: Partial<PlaintextLimits>; readonly internalErrors?: InternalErrors } = {},
  ) {
    this.#factory = factory;
    this.#stats = stats;
    this.#sockets = sockets;
    this.#claims = options.claims ?? null;
    this.#limits = { ...DEFAULT_PLAINTEXT_LIMITS, ...options.limits };
    this.#internalErrors = options.internalErrors ?? new InternalErrors(stats);
  }

  get liveConnections(): number {
    return this.#shown.size;
  }

  get trackedConnections(): number {
    return this.#hooked.size;
  }

  get heldBytes(): number {
    return this.#heldBytesTotal;
  }

  /** A batch of probe records, in ring order. Never throws: a bug is counted in stats.internalErrors. */
  events(batch: readonly TlsEvent[]): void {
    for (const e of batch) {
      try {
        if (e.kind === 'close') this.#close(e.tuple, e.tsUs);
        else this.#record(e);
      } catch (err) {
        this.#internalErrors.record(err, 'tls plaintext streams');
      }
    }
    // Idle connections are looked for as capture time passes, at most once a second of it.
    if (this.#nowUs >= this.#nextExpiryUs) {
      this.#nextExpiryUs = this.#nowUs + EXPIRY_CHECK_INTERVAL_US;
      this.expireIdle(this.#nowUs);
    }
  }

  /** Closes (reason 'idle') hooked connections without a record for longer than the idle timeout. */
  expireIdle(nowUs: number): void {
    if (nowUs > this.#nowUs) this.#nowUs = nowUs;
    const timeout = this.#limits.idleTimeoutUs;
    // Activity order: the first one still active ends the walk.
    for (const h of this.#hooked.values()) {
      if (nowUs - h.lastSeenUs <= timeout) break;
      this.#forget(h, 'idle', nowUs);
    }
    this.#claims?.expire(nowUs);
  }

  /** End of capture: every connection is closed. */
  closeAll(tsUs: number): void {
    for (const h of [...this.#hooked.values()]) this.#forget(h, 'end-of-capture', tsUs);
  }

  #record(e: PlaintextRecord): void {
    if (e.tsUs > this.#nowUs) this.#nowUs = e.tsUs;
    const id = `${e.pid}:${e.connId}`;
    let h = this.#hooked.get(id);
    const tuple = this.#tupleOf(e, h);
    if (h !== undefined && tuple !== null && h.tuple !== null && !sameTuple(tuple, h.tuple)) {
      // The connection object now serves another TCP connection (a freed SSL * reused): the old one is over.
      this.#forget(h, 'fin', e.tsUs);
      h = undefined;
    }
    if (h === undefined) {
      if (this.#hooked.size >= this.#limits.maxConnections) this.#forget(this.#hooked.values().next().value!, 'evicted', e.tsUs);
      h = { id, pid: e.pid, tuple: null, fd: -1, closeKey: null, shown: null, duplicate: false, held: [], heldBytes: 0, lastSeenUs: e.tsUs };
    } else {
      this.#hooked.delete(id);
    }
    this.#hooked.set(id, h);
    h.lastSeenUs = e.tsUs;
    if (e.fd >= 0) h.fd = e.fd;
    if (h.tuple === null) {
      if (tuple === null) return this.#hold(h, e);
      this.#resolve(h, tuple, e.tsUs);
      const held = h.held;
      if (held.length > 0) {
        h.held = [];
        this.#release(h);
        for (const r of held) this.#deliver(h, r);
      }
    }
    this.#deliver(h, e);
  }

  /** The event's socket: its own tuple, else the one behind its fd; null when neither is known. */
  #tupleOf(e: PlaintextRecord, h: Hooked | undefined): TlsSocketTuple | null {
    if (e.tuple !== null) return normaliseTuple(e.tuple);
    if (e.fd < 0) return null;
    // A Go record's tuple is its fd's socket, read by the probe at call time: none means the probe
    // could not read it. /proc is asked now, when the record is handled; by then the fd may belong
    // to a later connection (a closed one's number is reused at once), so the same connection
    // object on the same fd keeps the socket it already has.
    const known = h?.tuple ?? null;
    if (known !== null && h!.fd === e.fd) return known;
    return this.#sockets.tupleOfFd(e.pid, e.fd);
  }

  #hold(h: Hooked, e: PlaintextRecord): void {
    const size = e.kind === 'data' ? e.bytes.length : 0;
    // Past either bound the oldest held records go first: the newest are the likeliest to resolve.
    while (h.held.length > 0 && (h.heldBytes + size > this.#limits.maxHeldBytesPerConnection || this.#heldBytesTotal + size > this.#limits.maxHeldBytesTotal)) {
      const dropped = h.held.shift()!;
      this.#stats.tls.unresolved++;
      this.#unhold(h, dropped);
    }
    if (size > this.#limits.maxHeldBytesPerConnection || this.#heldBytesTotal + size > this.#limits.maxHeldBytesTotal) {
      this.#stats.tls.unresolved++;
      return;
    }
    h.held.push(e);
    h.heldBytes += size;
    this.#heldBytesTotal += size;
  }

  #unhold(h: Hooked, r: PlaintextRecord): void {
    const size = r.kind === 'data' ? r.bytes.length : 0;
    h.heldBytes -= size;
    this.#heldBytesTotal -= size;
  }

  #release(h: Hooked): void {
    this.#heldBytesTotal -= h.heldBytes;
    h.heldBytes = 0;
  }

  /** The hooked connection's TCP connection is known: shown (first end seen) or a duplicate. */
  #resolve(h: Hooked, tuple: TlsSocketTuple, tsUs: number): void {
    h.tuple = tuple;
    const key = tupleKey(tuple);
    h.closeKey = closeKeyOf(tuple);
    const other = this.#byClose.get(h.closeKey);
    if (other !== undefined && other !== h) this.#forget(other, 'fin', tsUs);
    this.#byClose.set(h.closeKey, h);
    if (this.#shown.has(key)) {
      h.duplicate = true;
      return;
    }
    this.#claims?.claim(key);
    const hookedIsClient = this.#hookedIsClient(h.pid, tuple);
    const local = { ip: tuple.localIp, port: tuple.localPort };
    const remote = { ip: tuple.remoteIp, port: tuple.remotePort };
    const info: ConnectionInfo = Object.freeze({
      index: this.#nextIndex++,
      labelPrefix: PLAINTEXT_LABEL_PREFIX,
      a: hookedIsClient.client ? local : remote,
      b: hookedIsClient.client ? remote : local,
      aIsClientKnown: hookedIsClient.known,
      firstSeenUs: tsUs,
    });
    this.#stats.tls.connections++;
    let handler: StreamHandler;
    try {
      handler = this.#factory.open(info);
    } catch (err) {
      this.#internalErrors.record(err, 'tls plaintext stream open');
      handler = DISCARDING_HANDLER;
    }
    const shown = new ShownConnection(key, info, hookedIsClient.client, handler);
    this.#shown.set(key, shown);
    h.shown = shown;
  }

  /**
   * A LISTEN socket on the local port makes the hooked process the server (known); /proc read and
   * no listener there: the client (known). Unreadable: the port heuristic of reassembly, not known.
   */
  #hookedIsClient(pid: number, t: TlsSocketTuple): { client: boolean; known: boolean } {
    const listening = this.#sockets.isListening(pid, t.localIp, t.localPort);
    if (listening !== null) return { client: !listening, known: true };
    return { client: guessSourceIsClient(t.localPort, t.remotePort), known: false };
  }

  #deliver(h: Hooked, r: PlaintextRecord): void {
    if (h.duplicate) {
      this.#stats.tls.duplicates++;
      return;
    }
    const shown = h.shown;
    if (shown === null) return;
    const side = r.direction === 'write' ? 0 : 1;
    const dir: Direction = (r.direction === 'write') === shown.hookedIsClient ? 0 : 1;
    const at = r.streamOffset;
    const length = r.kind === 'data' ? r.bytes.length : r.lostBytes;
    if (!Number.isSafeInteger(at) || at < 0 || !Number.isSafeInteger(length) || length < 0) return;
    let next = shown.next[side]!;
    if (next < 0) next = at; // a direction starts where it is first seen
    const end = at + length;
    if (end <= next) return; // already delivered (or declared lost)
    if (at > next) this.#gap(shown, dir, at - next, r.tsUs);
    if (r.kind === 'data') {
      const from = Math.max(next, at) - at;
      const bytes = from === 0 ? r.bytes : r.bytes.subarray(from);
      this.#call(shown, 'data', () => shown.handler.data(dir, bytes, r.tsUs), r.tsUs);
    } else {
      this.#gap(shown, dir, end - Math.max(next, at), r.tsUs);
    }
    shown.next[side] = end;
  }

  /** A hole in the plaintext: counted with reassembly's holes, then told to the dissector. */
  #gap(shown: ShownConnection, dir: Direction, lostBytes: number, tsUs: number): void {
    this.#stats.gaps++;
    this.#stats.gapBytes += lostBytes;
    this.#call(shown, 'gap', () => shown.handler.gap(dir, lostBytes, tsUs), tsUs);
  }

  /** A handler call; one that throws loses its connection (counted as reassembly counts it). */
  #call(shown: ShownConnection, what: string, call: () => void, tsUs: number): void {
    if (shown.handler === DISCARDING_HANDLER) return;
    try {
      call();
    } catch (err) {
      countThrown(err, this.#stats, this.#internalErrors, `tls stream handler ${what}`);
      this.#closeHandler(shown, 'dropped', tsUs);
    }
  }

  #closeHandler(shown: ShownConnection, reason: CloseReason, tsUs: number): void {
    const handler = shown.handler;
    shown.handler = DISCARDING_HANDLER;
    try {
      handler.close(reason, tsUs);
    } catch (err) {
      countThrown(err, this.#stats, this.#internalErrors, 'tls stream handler close');
    }
  }

  /** A socket of an in-scope process closed: that end of its connection is over. */
  #close(rawTuple: TlsSocketTuple, tsUs: number): void {
    if (tsUs > this.#nowUs) this.#nowUs = tsUs;
    const h = this.#byClose.get(closeKeyOf(normaliseTuple(rawTuple)));
    if (h !== undefined) this.#forget(h, 'fin', tsUs);
  }

  /** Drops a hooked connection; its shown connection (if this end is the one shown) is closed. */
  #forget(h: Hooked, reason: CloseReason, tsUs: number): void {
    if (this.#hooked.get(h.id) === h) this.#hooked.delete(h.id);
    if (h.closeKey !== null && this.#byClose.get(h.closeKey) === h) this.#byClose.delete(h.closeKey);
    if (h.held.length > 0) {
      this.#stats.tls.unresolved += h.held.length;
      this.#release(h);
      h.held = [];
    }
    const shown = h.shown;
    if (shown === null) return;
    h.shown = null;
    if (this.#shown.get(shown.key) === shown) this.#shown.delete(shown.key);
    this.#claims?.release(shown.key, tsUs);
    this.#closeHandler(shown, reason, tsUs);
  }
}
