/**
 * One TCP connection being reassembled: two half streams and the handler that receives them.
 * The assembler owns lookup, limits and lifetime; this class turns segments into in-order
 * `data`/`gap`/`end` calls and says when the connection is over.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from '../ip/packet.ts';
import type { CaptureStats } from '../stats.ts';
import { countThrown, type InternalErrors } from '../thrown-errors.ts';
import { HalfStream } from './half-stream.ts';
import { seqAdd, seqDiff } from './sequence.ts';

/** The largest window TCP window scaling allows (RFC 7323 §2.3). */
const MAX_AHEAD_BYTES = 2 ** 30;
import type { CloseReason, ConnectionInfo, Direction, StreamHandler } from './stream.ts';

/** Where a connection's bytes go once its handler failed, or when no handler could be opened. */
export const DISCARDING_HANDLER: StreamHandler = Object.freeze({
  data(): void {},
  gap(): void {},
  end(): void {},
  close(): void {},
});

/** State shared by all connections of one assembler (one per capture run, never global). */
export interface ReassemblyShared {
  readonly stats: CaptureStats;
  readonly internalErrors: InternalErrors;
  /** Out-of-order bytes held by all connections, for the global cap. */
  bufferedBytesTotal: number;
  /** Connections holding out-of-order bytes: the global cap picks its victim among these. */
  readonly buffering: Set<TcpConnection>;
}

export class TcpConnection {
  readonly key: string;
  readonly info: ConnectionInfo;
  /** Replaced by DISCARDING_HANDLER once it throws: the connection is dropped. */
  #handler: StreamHandler;
  readonly #shared: ReassemblyShared;
  readonly #halves: readonly [HalfStream, HalfStream] = [new HalfStream(), new HalfStream()];
  /** Out-of-order bytes held by both directions. */
  bufferedBytes = 0;
  lastSeenUs: number;
  closed = false;
  /** Links of the assembler's least-recently-active list. */
  older: TcpConnection | null = null;
  newer: TcpConnection | null = null;

  /**
   * `open` gets the connection's info, which maps stream offsets to this connection's sequence
   * numbers, and returns the handler of its bytes.
   */
  constructor(key: string, info: Omit<ConnectionInfo, 'sequenceAt'>, open: (info: ConnectionInfo) => StreamHandler, shared: ReassemblyShared) {
    this.key = key;
    this.info = Object.freeze({ ...info, sequenceAt: (dir: Direction, offset: number) => this.#sequenceAt(dir, offset) });
    this.#shared = shared;
    this.lastSeenUs = info.firstSeenUs;
    this.#handler = open(this.info);
  }

  #sequenceAt(dir: Direction, offset: number): number | undefined {
    const half = this.#halves[dir];
    return half.started ? seqAdd(half.originSeq, offset) : undefined;
  }

  directionOf(srcIp: string, srcPort: number): Direction {
    const a = this.info.a;
    return srcPort === a.port && srcIp === a.ip ? 0 : 1;
  }

  /**
   * True when a SYN belongs to a new connection reusing this 4-tuple rather than to the
   * handshake of this one (a retransmitted SYN, or a SYN captured after its SYN-ACK).
   */
  isNewIncarnation(seg: TcpSegment): boolean {
    const dir = this.directionOf(seg.srcIp, seg.srcPort);
    const half = this.#halves[dir];
    const peer = this.#halves[dir ^ 1];
    if (half.synSeen) return half.isn !== seg.seq;
    // This side already sent data without a handshake: the SYN starts something new.
    if (half.started) return true;
    // The peer's bytes belong to a stream whose handshake we never saw.
    return peer.started && !peer.synSeen;
  }

  /**
   * Applies one segment. Returns the reason to close the connection now (both FINs or a RST),
   * else null.
   */
  receive(seg: TcpSegment): CloseReason | null {
    const flags = seg.flags;
    const tsUs = seg.tsUs;
    if (tsUs > this.lastSeenUs) this.lastSeenUs = tsUs;
    // A reset ends both directions at once; whatever it carries is not stream data.
    if ((flags & TCP_RST) !== 0) return 'rst';
    const dir = this.directionOf(seg.srcIp, seg.srcPort);
    const half = this.#halves[dir];
    if (tsUs > half.lastTsUs) half.lastTsUs = tsUs;
    let seq = seg.seq;
    if ((flags & TCP_SYN) !== 0) {
      if (!half.synSeen) {
        half.synSeen = true;
        half.isn = seq;
        if (!half.started) half.start(seqAdd(seq, 1));
      }
      // The SYN occupies one sequence number; data (TCP Fast Open) follows it.
      seq = seqAdd(seq, 1);
    }
    const payload = seg.payload;
    const fin = (flags & TCP_FIN) !== 0;
    if (!half.ended) {
      // Mid-connection capture: a direction starts at the first segment seen for it.
      if (!half.started && (payload.length > 0 || fin)) half.start(seq);
      if (half.started) {
        if (payload.length > 0) this.#accept(dir, half, seq, payload, tsUs);
        if (fin && !half.finSeen) {
          half.finSeen = true;
          half.finSeq = seqAdd(seq, payload.length);
          this.#discardBeyondFin(half);
          this.#checkEnd(dir, half, tsUs);
        }
        this.#resolveAckedHoles(dir, half, tsUs);
      }
    }
    if ((flags & TCP_ACK) !== 0) {
      const peerDir: Direction = dir === 0 ? 1 : 0;
      const peer = this.#halves[peerDir];
      if (peer.started && !peer.ended) {
        peer.noteAck(seg.ack);
        this.#resolveAckedHoles(peerDir, peer, tsUs);
      }
    }
    // Both sides said goodbye: nothing but retransmissions can follow.
    if (this.#halves[0].finSeen && this.#halves[1].finSeen) return 'fin';
    return null;
  }

  /**
   * Declares the first hole of the direction holding more buffered bytes lost and delivers what
   * follows it. Used by the memory caps; returns false when nothing is buffered.
   */
  /** Out-of-order segments held in both directions. */
  get bufferedSegments(): number {
    return this.#halves[0].pending.length + this.#halves[1].pending.length;
  }

  skipOneHole(tsUs: number): boolean {
    const [h0, h1] = this.#halves;
    const dir: Direction = h1.pendingBytes > h0.pendingBytes ? 1 : 0;
    const half = this.#halves[dir];
    if (half.pending.length === 0) return false;
    this.#skipTo(dir, half, half.pending[0].seq, tsUs);
    return true;
  }

  /**
   * Flushes everything still buffered (declaring the holes), then calls the handler's `close`.
   * Idempotent: the handler sees `close` exactly once and nothing after it.
   */
  close(reason: CloseReason, tsUs: number): void {
    if (this.closed) return;
    for (const dir of [0, 1] as const) this.#flush(dir, this.#halves[dir]);
    this.closed = true;
    this.#closeHandler(reason, tsUs);
  }

  /**
   * The handler threw: count it (bad input or a bug), let it emit what it still can, and send the
   * rest of this connection nowhere. Reassembly itself goes on, so the connection stays tracked.
   */
  #handlerFailed(err: unknown, call: string, tsUs: number): void {
    countThrown(err, this.#shared.stats, this.#shared.internalErrors, `stream handler ${call}`);
    this.#closeHandler('dropped', tsUs);
  }

  /** The handler's one `close`; nothing reaches it afterwards. */
  #closeHandler(reason: CloseReason, tsUs: number): void {
    const handler = this.#handler;
    this.#handler = DISCARDING_HANDLER;
    try {
      handler.close(reason, tsUs);
    } catch (err) {
      countThrown(err, this.#shared.stats, this.#shared.internalErrors, 'stream handler close');
    }
  }

  /** Payload of a started, not ended direction: deliver what is in order, buffer the rest. */
  #accept(dir: Direction, half: HalfStream, seq: number, payload: Uint8Array, tsUs: number): void {
    let len = payload.length;
    if (half.finSeen) {
      // Bytes past the FIN cannot be stream data.
      const room = seqDiff(half.finSeq, seq);
      if (room <= 0) return;
      if (room < len) {
        payload = payload.subarray(0, room);
        len = room;
      }
    }
    let off = seqDiff(half.nextSeq, seq);
    if (off >= len) return; // retransmission or duplicate: already delivered
    if (off < -MAX_AHEAD_BYTES) {
      // Farther ahead than any TCP window can reach (RFC 7323 §2.3: 2^30): a corrupt sequence
      // number. Buffering it would leave a hole no ACK or flush could ever make sense of.
      this.#shared.stats.outOfWindowSegments++;
      return;
    }
    if (off < 0) {
      this.#hold(half.buffer(seq, payload, tsUs));
      return;
    }
    const pending = half.pending;
    if (pending.length === 0) {
      // Hot path: in order, nothing buffered; hand the caller's view straight through.
      half.nextSeq = seqAdd(seq, len);
      this.#data(dir, off === 0 ? payload : payload.subarray(off), tsUs);
      this.#checkEnd(dir, half, tsUs);
      return;
    }
    // In order, but buffered bytes may overlap this segment: those were seen first and win.
    while (off < len) {
      const toPending = pending.length > 0 ? seqDiff(pending[0].seq, half.nextSeq) : len;
      if (toPending <= 0) {
        this.#drain(dir, half, tsUs);
        off = seqDiff(half.nextSeq, seq);
        continue;
      }
      const stop = Math.min(len, off + toPending);
      half.nextSeq = seqAdd(half.nextSeq, stop - off);
      this.#data(dir, payload.subarray(off, stop), tsUs);
      off = stop;
    }
    this.#drain(dir, half, tsUs);
    this.#checkEnd(dir, half, tsUs);
  }

  /**
   * Delivers buffered segments that have become contiguous with `nextSeq`: at `tsUs` when a late
   * segment filled the hole (their bytes follow it), at their own capture time after a loss (the
   * hole is resolved only when the peer's ACK says so, maybe much later, and a dissector that pairs
   * by time, HTTP/1 after a gap, must see when they were sent).
   */
  #drain(dir: Direction, half: HalfStream, tsUs: number, afterLoss = false): void {
    const pending = half.pending;
    let used = 0;
    while (used < pending.length) {
      const p = pending[used];
      const alreadyDelivered = seqDiff(half.nextSeq, p.seq);
      if (alreadyDelivered < 0) break;
      used++;
      if (alreadyDelivered < p.bytes.length) {
        half.nextSeq = seqAdd(p.seq, p.bytes.length);
        this.#data(dir, alreadyDelivered === 0 ? p.bytes : p.bytes.subarray(alreadyDelivered), afterLoss ? Math.min(p.tsUs, tsUs) : tsUs);
      }
    }
    if (used > 0) this.#release(half.dropFront(used));
  }

  /**
   * The peer acknowledged bytes we never captured: they are lost to us, so stop waiting and
   * continue with what is buffered after the hole. Only when something is buffered (or a FIN
   * is known) behind it: a bare hole at the tail may still be a segment reordered in the capture.
   */
  #resolveAckedHoles(dir: Direction, half: HalfStream, tsUs: number): void {
    while (half.ackKnown && !half.ended && seqDiff(half.ackedTo, half.nextSeq) > 0) {
      let holeEnd: number;
      if (half.pending.length > 0) holeEnd = half.pending[0].seq;
      else if (half.finSeen) holeEnd = half.finSeq;
      else return;
      if (seqDiff(holeEnd, half.ackedTo) > 0) holeEnd = half.ackedTo;
      if (seqDiff(holeEnd, half.nextSeq) <= 0) return;
      this.#skipTo(dir, half, holeEnd, tsUs);
    }
  }

  /** Declares the bytes up to `target` lost, then delivers whatever is buffered after them. */
  #skipTo(dir: Direction, half: HalfStream, target: number, tsUs: number): void {
    const lost = seqDiff(target, half.nextSeq);
    if (lost <= 0) return;
    const stats = this.#shared.stats;
    stats.gaps++;
    stats.gapBytes += lost;
    half.nextSeq = target;
    try {
      this.#handler.gap(dir, lost, tsUs);
    } catch (err) {
      this.#handlerFailed(err, 'gap', tsUs);
    }
    this.#drain(dir, half, tsUs, true);
    this.#checkEnd(dir, half, tsUs);
  }

  /** Connection over: deliver everything buffered, skipping holes, up to the FIN if known. */
  #flush(dir: Direction, half: HalfStream): void {
    // Flushed bytes were all captured by the direction's last segment: date them by it, not
    // by the (possibly much later) moment of an idle expiry.
    const tsUs = half.lastTsUs;
    while (!half.ended && half.pending.length > 0) this.#skipTo(dir, half, half.pending[0].seq, tsUs);
    if (half.finSeen && !half.ended) this.#skipTo(dir, half, half.finSeq, tsUs);
    if (half.pending.length > 0) this.#dropAll(half);
  }

  #checkEnd(dir: Direction, half: HalfStream, tsUs: number): void {
    if (!half.finSeen || half.ended || seqDiff(half.nextSeq, half.finSeq) < 0) return;
    half.ended = true;
    if (half.pending.length > 0) this.#dropAll(half);
    try {
      this.#handler.end(dir, tsUs);
    } catch (err) {
      this.#handlerFailed(err, 'end', tsUs);
    }
  }

  /** A FIN arrived after bytes were buffered beyond its position: those bytes are bogus. */
  #discardBeyondFin(half: HalfStream): void {
    const pending = half.pending;
    let keep = pending.length;
    while (keep > 0 && seqDiff(pending[keep - 1].seq, half.finSeq) >= 0) keep--;
    if (keep === pending.length) return;
    const dropped = pending.length - keep;
    let bytes = 0;
    for (let i = keep; i < pending.length; i++) bytes += pending[i].bytes.length;
    pending.splice(keep, dropped);
    half.pendingBytes -= bytes;
    this.#shared.stats.droppedBytes += bytes;
    this.#release(bytes);
  }

  #dropAll(half: HalfStream): void {
    const freed = half.dropFront(half.pending.length);
    this.#shared.stats.droppedBytes += freed;
    this.#release(freed);
  }

  #data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    try {
      this.#handler.data(dir, bytes, tsUs);
    } catch (err) {
      this.#handlerFailed(err, 'data', tsUs);
    }
  }

  #hold(bytes: number): void {
    if (bytes === 0) return;
    const shared = this.#shared;
    if (this.bufferedBytes === 0) shared.buffering.add(this);
    this.bufferedBytes += bytes;
    shared.bufferedBytesTotal += bytes;
  }

  #release(bytes: number): void {
    if (bytes === 0) return;
    const shared = this.#shared;
    this.bufferedBytes -= bytes;
    shared.bufferedBytesTotal -= bytes;
    if (this.bufferedBytes === 0) shared.buffering.delete(this);
  }
}
