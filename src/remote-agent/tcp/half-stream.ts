/**
 * Reassembly state of one direction of a TCP connection: where the in-order stream stands and
 * the out-of-order bytes held until the hole before them fills. Pure bookkeeping: delivering
 * bytes to a handler is the connection's job.
 */
import { seqAdd, seqDiff } from './sequence.ts';

/** Bytes that arrived ahead of a hole, copied out of the (reused) capture buffer. */
export interface PendingSegment {
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly tsUs: number;
}

export class HalfStream {
  /** False until the first SYN or data segment of this direction fixes `nextSeq`. */
  started = false;
  /** Sequence number of the next byte to deliver in order. */
  nextSeq = 0;
  /** Sequence number of the stream's first byte (offset 0 of what is delivered or lost). */
  originSeq = 0;
  synSeen = false;
  /** Initial sequence number (the SYN's), to tell a retransmitted SYN from a reused port. */
  isn = 0;
  finSeen = false;
  /** Sequence position of the FIN: the stream ends once `nextSeq` reaches it. */
  finSeq = 0;
  /** The FIN was reached in order (or the stream was flushed up to it). */
  ended = false;
  /** Highest sequence number the peer acknowledged: bytes before it were received, seen or not. */
  ackKnown = false;
  ackedTo = 0;
  /** Capture time of the last segment of this direction: timestamps data flushed later. */
  lastTsUs = 0;
  /** Sorted by sequence, non-overlapping, all strictly after `nextSeq`. */
  readonly pending: PendingSegment[] = [];
  pendingBytes = 0;

  start(seq: number): void {
    this.started = true;
    this.nextSeq = seq;
    this.originSeq = seq;
    // Acks seen before the direction had a position cannot be compared with it.
    this.ackKnown = false;
  }

  noteAck(ack: number): void {
    if (!this.ackKnown || seqDiff(ack, this.ackedTo) > 0) {
      this.ackKnown = true;
      this.ackedTo = ack;
    }
  }

  /**
   * Buffers the parts of `payload` (starting at `seq`, after `nextSeq`) not buffered yet: the
   * first copy seen wins. Copies, because the payload is a view into a reused buffer.
   * Returns the number of bytes added.
   */
  buffer(seq: number, payload: Uint8Array, tsUs: number): number {
    const pending = this.pending;
    const base = this.nextSeq;
    const start = seqDiff(seq, base);
    const end = start + payload.length;
    const last = pending.length > 0 ? pending[pending.length - 1] : undefined;
    // Common case behind a hole: segments keep arriving in order after the last buffered one.
    if (last === undefined || seqDiff(last.seq, base) + last.bytes.length <= start) {
      pending.push({ seq, bytes: payload.slice(), tsUs });
      this.pendingBytes += payload.length;
      return payload.length;
    }
    let cursor = start;
    let added = 0;
    let i = 0;
    while (i < pending.length && cursor < end) {
      const p = pending[i];
      const pStart = seqDiff(p.seq, base);
      const pEnd = pStart + p.bytes.length;
      if (pEnd <= cursor) {
        i++;
        continue;
      }
      if (pStart >= end) break;
      if (pStart > cursor) {
        pending.splice(i, 0, piece(base, seq, start, cursor, pStart, payload, tsUs));
        added += pStart - cursor;
        i++;
      }
      cursor = pEnd;
      i++;
    }
    if (cursor < end) {
      pending.splice(i, 0, piece(base, seq, start, cursor, end, payload, tsUs));
      added += end - cursor;
    }
    this.pendingBytes += added;
    return added;
  }

  /** Forgets the first `count` pending segments; returns the bytes they held. */
  dropFront(count: number): number {
    let freed = 0;
    for (let i = 0; i < count; i++) freed += this.pending[i].bytes.length;
    this.pending.splice(0, count);
    this.pendingBytes -= freed;
    return freed;
  }
}

/** A copy of `payload[from - start, to - start)`, where offsets are relative to `base`. */
function piece(
  base: number,
  seq: number,
  start: number,
  from: number,
  to: number,
  payload: Uint8Array,
  tsUs: number,
): PendingSegment {
  const pieceSeq = from === start ? seq : seqAdd(base, from);
  return { seq: pieceSeq, bytes: payload.slice(from - start, to - start), tsUs };
}
