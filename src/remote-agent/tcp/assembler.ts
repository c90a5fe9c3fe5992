/**
 * TCP reassembly: turns captured segments into per-connection, per-direction in-order byte
 * streams for a StreamFactory, reporting every hole explicitly. Modelled on gopacket's
 * `reassembly` package (caps that flush instead of growing, capture-time timeouts), written anew.
 *
 * Memory is bounded by TcpLimits; time is capture time, so replaying a pcap gives the same
 * calls in the same order every run.
 */
import { TCP_ACK, TCP_RST, TCP_SYN, type TcpSegment } from '../ip/packet.ts';
import type { CaptureStats } from '../stats.ts';
import { guessSourceIsClient } from './client-guess.ts';
import { connectionKey } from './connection-key.ts';
import { DISCARDING_HANDLER, TcpConnection, type ReassemblyShared } from './connection.ts';
import { countThrown, InternalErrors } from '../thrown-errors.ts';
import type { CloseReason, ConnectionInfo, SocketAddress, StreamFactory, StreamHandler } from './stream.ts';

export interface TcpLimits {
  /** Out-of-order bytes held per connection; past it the first hole is declared lost. */
  maxBufferedBytesPerConnection: number;
  /** Out-of-order bytes held across all connections; past it the biggest holder skips a hole. */
  maxBufferedBytesTotal: number;
  /**
   * Out-of-order segments held per connection. Bytes alone do not bound the work: a flood of tiny
   * segments behind a hole makes every sorted insertion cost as much as the list is long.
   */
  maxBufferedSegmentsPerConnection: number;
  /** Live connections; past it the least recently active one is evicted. */
  maxConnections: number;
  /** A connection without segments for longer than this (capture time) is closed. */
  idleTimeoutUs: number;
}

export const DEFAULT_TCP_LIMITS: Readonly<TcpLimits> = Object.freeze({
  maxBufferedBytesPerConnection: 4 * 1024 * 1024,
  maxBufferedBytesTotal: 128 * 1024 * 1024,
  maxBufferedSegmentsPerConnection: 4096,
  maxConnections: 100_000,
  idleTimeoutUs: 120_000_000,
});

/** segment() looks for idle connections at most this often (capture time). */
const EXPIRY_CHECK_INTERVAL_US = 1_000_000;

/** True when the segment travels between the connection's two endpoints, either way. */
function carries(conn: TcpConnection, seg: TcpSegment): boolean {
  const a = conn.info.a;
  const b = conn.info.b;
  return (
    (seg.srcPort === a.port && seg.dstPort === b.port && seg.srcIp === a.ip && seg.dstIp === b.ip) ||
    (seg.srcPort === b.port && seg.dstPort === a.port && seg.srcIp === b.ip && seg.dstIp === a.ip)
  );
}

/** A small integer from two ports, the same whichever comes first (a small integer: no allocation). */
function portsHash(portA: number, portB: number): number {
  const low = portA < portB ? portA : portB;
  const high = portA < portB ? portB : portA;
  return (low * 65_599 + high) & 0x3fff_ffff;
}

export class TcpAssembler {
  readonly #factory: StreamFactory;
  readonly #stats: CaptureStats;
  readonly #limits: TcpLimits;
  readonly #shared: ReassemblyShared;
  readonly #byKey = new Map<string, TcpConnection>();
  /**
   * The same connections by a hash of their two ports, so a segment finds its connection without
   * building its key string (issue 17: one string per packet was 3% of `read -o json`'s
   * allocation). A bucket holds the few connections whose ports hash alike; each is compared whole.
   */
  readonly #byPorts = new Map<number, TcpConnection[]>();
  /**
   * Keys of connections closed by FIN or RST, with the capture time they may be forgotten.
   * Late duplicates and retransmissions of such a connection (every packet appears twice on
   * `-i any` loopback captures) must not open a bogus mid-connection stream; only a SYN may reuse
   * the 4-tuple. Insertion order is closing order, which makes expiry a walk from the front.
   */
  readonly #closedUntil = new Map<string, number>();
  /** Least recently active connection first; intrusive list so touching allocates nothing. */
  #oldest: TcpConnection | null = null;
  #newest: TcpConnection | null = null;
  /** The connection of the previous segment: bulk transfers hit it without building a key. */
  #last: TcpConnection | null = null;
  #nextIndex = 0;
  #nextExpiryCheckUs = Number.NEGATIVE_INFINITY;

  /** `internalErrors`: where bugs are reported (default: only counted in stats.internalErrors). */
  constructor(factory: StreamFactory, stats: CaptureStats, limits?: Partial<TcpLimits>, internalErrors: InternalErrors = new InternalErrors(stats)) {
    this.#factory = factory;
    this.#stats = stats;
    this.#limits = { ...DEFAULT_TCP_LIMITS, ...limits };
    this.#shared = { stats, internalErrors, bufferedBytesTotal: 0, buffering: new Set() };
  }

  get liveConnections(): number {
    return this.#byKey.size;
  }

  get bufferedBytes(): number {
    return this.#shared.bufferedBytesTotal;
  }

  /**
   * Feeds one captured segment. Never throws: malformed input is counted in stats.malformed (by the
   * checks in #segment); an exception here is a bug, counted in stats.internalErrors.
   */
  segment(seg: TcpSegment): void {
    try {
      this.#segment(seg);
    } catch (err) {
      this.#shared.internalErrors.record(err, 'tcp reassembly');
    }
  }

  /** Closes (reason 'idle') connections without a segment for longer than idleTimeoutUs. */
  expireIdle(nowUs: number): void {
    const idleTimeoutUs = this.#limits.idleTimeoutUs;
    // The list is in activity order, so the first connection still active ends the walk.
    while (this.#oldest !== null && nowUs - this.#oldest.lastSeenUs > idleTimeoutUs) {
      this.#close(this.#oldest, 'idle', nowUs);
    }
    for (const [key, untilUs] of this.#closedUntil) {
      if (untilUs > nowUs) break;
      this.#closedUntil.delete(key);
    }
  }

  /** End of capture: flushes buffered data (declaring holes) and closes every connection. */
  closeAll(tsUs: number): void {
    while (this.#oldest !== null) this.#close(this.#oldest, 'end-of-capture', tsUs);
    this.#closedUntil.clear();
  }

  #segment(seg: TcpSegment): void {
    if (!isWellFormed(seg)) {
      this.#stats.malformed++;
      return;
    }
    const tsUs = seg.tsUs;
    if (tsUs >= this.#nextExpiryCheckUs) {
      this.#nextExpiryCheckUs = tsUs + EXPIRY_CHECK_INTERVAL_US;
      this.expireIdle(tsUs);
    }
    const flags = seg.flags;
    const syn = (flags & TCP_SYN) !== 0;
    let conn = this.#find(seg);
    if (conn !== null && syn && conn.isNewIncarnation(seg)) {
      // The 4-tuple is reused (new ISN) while we still held the old connection.
      this.#close(conn, 'evicted', tsUs);
      conn = null;
    }
    if (conn === null) {
      // A stray ACK/FIN/RST of a connection we never saw or already closed: normal, not counted.
      if ((seg.payload.length === 0 && !syn) || (flags & TCP_RST) !== 0) return;
      const key = connectionKey(seg.srcIp, seg.srcPort, seg.dstIp, seg.dstPort);
      if (this.#closedUntil.has(key)) {
        if (!syn) return;
        this.#closedUntil.delete(key);
      }
      conn = this.#open(key, seg);
    }
    this.#touch(conn);
    const reason = conn.receive(seg);
    if (reason !== null) {
      this.#close(conn, reason, tsUs);
      return;
    }
    this.#enforceBufferCaps(conn, tsUs);
  }

  #find(seg: TcpSegment): TcpConnection | null {
    const last = this.#last;
    if (last !== null && !last.closed && carries(last, seg)) return last;
    const bucket = this.#byPorts.get(portsHash(seg.srcPort, seg.dstPort));
    if (bucket === undefined) return null;
    for (const conn of bucket) {
      if (carries(conn, seg)) {
        this.#last = conn;
        return conn;
      }
    }
    return null;
  }

  #open(key: string, seg: TcpSegment): TcpConnection {
    const maxConnections = Math.max(1, this.#limits.maxConnections);
    while (this.#byKey.size >= maxConnections && this.#oldest !== null) {
      this.#close(this.#oldest, 'evicted', seg.tsUs);
    }
    const src: SocketAddress = Object.freeze({ ip: seg.srcIp, port: seg.srcPort });
    const dst: SocketAddress = Object.freeze({ ip: seg.dstIp, port: seg.dstPort });
    let srcIsClient: boolean;
    let known: boolean;
    if ((seg.flags & TCP_SYN) !== 0) {
      // A SYN's sender is the client; a SYN-ACK's receiver is (its SYN was just not captured).
      srcIsClient = (seg.flags & TCP_ACK) === 0;
      known = true;
    } else {
      srcIsClient = guessSourceIsClient(seg.srcPort, seg.dstPort);
      known = false;
    }
    const info = {
      index: this.#nextIndex++,
      a: srcIsClient ? src : dst,
      b: srcIsClient ? dst : src,
      aIsClientKnown: known,
      firstSeenUs: seg.tsUs,
    };
    const open = (full: ConnectionInfo): StreamHandler => {
      try {
        return this.#factory.open(full);
      } catch (err) {
        countThrown(err, this.#stats, this.#shared.internalErrors, 'stream factory open');
        return DISCARDING_HANDLER;
      }
    };
    const conn = new TcpConnection(key, info, open, this.#shared);
    this.#byKey.set(key, conn);
    const hash = portsHash(seg.srcPort, seg.dstPort);
    const bucket = this.#byPorts.get(hash);
    if (bucket === undefined) this.#byPorts.set(hash, [conn]);
    else bucket.push(conn);
    this.#stats.connections++;
    this.#linkNewest(conn);
    this.#last = conn;
    return conn;
  }

  #close(conn: TcpConnection, reason: CloseReason, tsUs: number): void {
    this.#byKey.delete(conn.key);
    const hash = portsHash(conn.info.a.port, conn.info.b.port);
    const bucket = this.#byPorts.get(hash);
    if (bucket !== undefined) {
      const at = bucket.indexOf(conn);
      if (at >= 0) bucket.splice(at, 1);
      if (bucket.length === 0) this.#byPorts.delete(hash);
    }
    this.#unlink(conn);
    if (this.#last === conn) this.#last = null;
    if (reason === 'idle' || reason === 'evicted') this.#stats.expiredConnections++;
    if (reason === 'fin' || reason === 'rst') this.#rememberClosed(conn.key, tsUs);
    conn.close(reason, tsUs);
  }

  #rememberClosed(key: string, tsUs: number): void {
    this.#closedUntil.delete(key); // re-insert at the back: insertion order is expiry order
    this.#closedUntil.set(key, tsUs + this.#limits.idleTimeoutUs);
    const max = Math.max(1, this.#limits.maxConnections);
    if (this.#closedUntil.size > max) {
      const oldest = this.#closedUntil.keys().next();
      if (oldest.done !== true) this.#closedUntil.delete(oldest.value);
    }
  }

  #enforceBufferCaps(conn: TcpConnection, tsUs: number): void {
    const perConnection = this.#limits.maxBufferedBytesPerConnection;
    // Each pass declares one hole lost and delivers what followed it.
    const maxSegments = this.#limits.maxBufferedSegmentsPerConnection;
    while (conn.bufferedBytes > perConnection || conn.bufferedSegments > maxSegments) {
      if (!conn.skipOneHole(tsUs)) break;
    }
    const shared = this.#shared;
    const total = this.#limits.maxBufferedBytesTotal;
    while (shared.bufferedBytesTotal > total) {
      let biggest: TcpConnection | null = null;
      for (const c of shared.buffering) {
        if (biggest === null || c.bufferedBytes > biggest.bufferedBytes) biggest = c;
      }
      if (biggest === null || !biggest.skipOneHole(tsUs)) break;
    }
  }

  /** Marks the connection most recently active. */
  #touch(conn: TcpConnection): void {
    if (this.#newest === conn) return;
    this.#unlink(conn);
    this.#linkNewest(conn);
  }

  #linkNewest(conn: TcpConnection): void {
    conn.older = this.#newest;
    conn.newer = null;
    if (this.#newest !== null) this.#newest.newer = conn;
    else this.#oldest = conn;
    this.#newest = conn;
  }

  #unlink(conn: TcpConnection): void {
    if (conn.older !== null) conn.older.newer = conn.newer;
    else if (this.#oldest === conn) this.#oldest = conn.newer;
    if (conn.newer !== null) conn.newer.older = conn.older;
    else if (this.#newest === conn) this.#newest = conn.older;
    conn.older = null;
    conn.newer = null;
  }
}

/** Cheap sanity checks, so garbage numbers cannot poison sequence arithmetic or keys. */
function isWellFormed(seg: TcpSegment): boolean {
  return (
    seg.seq >>> 0 === seg.seq &&
    seg.ack >>> 0 === seg.ack &&
    (seg.srcPort & 0xffff) === seg.srcPort &&
    (seg.dstPort & 0xffff) === seg.dstPort &&
    Number.isFinite(seg.tsUs) &&
    seg.payload instanceof Uint8Array
  );
}
