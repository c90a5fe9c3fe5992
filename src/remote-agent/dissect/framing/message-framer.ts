/**
 * Cuts one direction of a connection into the messages of a length-prefixed protocol (PostgreSQL,
 * MySQL, Kafka, AMQP, MongoDB, DNS over TCP): the protocol says how long a message is from its
 * first bytes, this holds bytes until a message is whole and hands it over.
 *
 * Bounded whatever the peer claims: a message longer than `maxKeepBytes` is not held whole; its
 * first `maxKeepBytes` are delivered (marked truncated, with the length the header gave) and the
 * rest is skipped as it arrives. A capture gap inside a message whose length is known keeps the
 * framer in step (the message is delivered as damaged, the gap's bytes counted); a gap that runs
 * past the end of the message, or comes between messages, loses the framing: the direction is then
 * ignored unless the protocol can find a message start again (`resync`).
 */

/** What the protocol reads from the first bytes of a message. */
export type FrameLength =
  /** The whole message, header included, is this many bytes. */
  | number
  /** The bytes given are too few to tell (the framer asks again with more). */
  | 'more'
  /** These bytes cannot start a message of the protocol: the framing is lost here. */
  | 'bad';

export interface FramerSpec {
  /**
   * The length of the message starting at `head[0]`; `head` holds every byte held so far, or at
   * least the first 64. May keep state (PostgreSQL's first message has no type byte).
   */
  frameLength(head: Uint8Array): FrameLength;
  /** Bytes of one message held and delivered at most; the rest of a longer message is skipped. */
  readonly maxKeepBytes: number;
  /**
   * After the framing was lost: the offset in `window` (bytes that arrived since) where a message
   * plausibly starts, or -1 to keep looking in later bytes. Absent: a lost direction stays lost.
   */
  resync?(window: Uint8Array): number;
}

export interface FramedMessage {
  /** The message's first bytes, header included: all of them unless `truncated`. A fresh copy. */
  readonly bytes: Uint8Array;
  /** Its length on the wire, header included. */
  readonly length: number;
  /** Only the first `maxKeepBytes` were kept. */
  readonly truncated: boolean;
  /** Bytes of it the capture lost (gaps inside it); 0 normally. */
  readonly lostBytes: number;
  /** Capture time (µs) of its first and last byte. */
  readonly startUs: number;
  readonly endUs: number;
}

export type FramerState = 'framing' | 'lost';

/** Bytes held while a message's length is still unknown ('more') before the framing is given up. */
const RESYNC_WINDOW_BYTES = 64 * 1024;
/** Bytes given to frameLength when more are held. */
const HEAD_BYTES = 64;

export class MessageFramer {
  readonly #spec: FramerSpec;
  readonly #deliver: (message: FramedMessage) => void;
  readonly #onLost: () => void;
  /** Bytes held: the start of the current message (or, while lost, the resync window). */
  #chunks: Uint8Array[] = [];
  #held = 0;
  #state: FramerState = 'framing';
  /** The message being collected, once its length is known. */
  #current: { length: number; kept: number; seen: number; lost: number; startUs: number } | null = null;
  #startUs = 0;

  /**
   * `deliver` gets each message in order; `onLost` is told once each time the framing is lost (a
   * header the protocol refuses, or a gap between messages), for the protocol to count it.
   */
  constructor(spec: FramerSpec, deliver: (message: FramedMessage) => void, onLost: () => void = () => {}) {
    this.#spec = spec;
    this.#deliver = deliver;
    this.#onLost = onLost;
  }

  get state(): FramerState {
    return this.#state;
  }

  /** Bytes held now (bounded by maxKeepBytes, or the resync window while lost). */
  get held(): number {
    return this.#held;
  }

  data(bytes: Uint8Array, tsUs: number): void {
    let rest = bytes;
    while (rest.length > 0) {
      if (this.#state === 'lost') {
        rest = this.#searchStart(rest, tsUs);
        continue;
      }
      const cur = this.#current;
      if (cur !== null && cur.kept >= this.#spec.maxKeepBytes) {
        // Past what is kept of a long message: skip to its end.
        const n = Math.min(rest.length, cur.length - cur.seen);
        cur.seen += n;
        rest = rest.subarray(n);
        if (cur.seen === cur.length) this.#finish(tsUs);
        continue;
      }
      if (this.#held === 0 && cur === null) this.#startUs = tsUs;
      rest = this.#take(rest, tsUs);
    }
  }

  /**
   * `lostBytes` the capture never saw. Inside a message of known length that has room for them,
   * the framer stays in step; otherwise the framing is lost.
   */
  gap(lostBytes: number, tsUs: number): void {
    const cur = this.#current;
    if (this.#state === 'framing' && cur !== null && cur.seen + lostBytes <= cur.length) {
      // The kept prefix ends where the hole starts: what follows it is skipped, not shifted.
      cur.kept = Math.min(cur.kept, this.#spec.maxKeepBytes);
      if (cur.seen < cur.length) this.#freezeKept();
      cur.seen += lostBytes;
      cur.lost += lostBytes;
      if (cur.seen === cur.length) this.#finish(tsUs);
      return;
    }
    if (this.#state === 'framing' && cur === null && this.#held === 0 && lostBytes === 0) return;
    this.#lose();
  }

  /** What is held is dropped (the connection ends). */
  reset(): void {
    this.#chunks = [];
    this.#held = 0;
    this.#current = null;
  }

  /** Takes bytes toward the current message while it is being kept; returns what is left. */
  #take(bytes: Uint8Array, tsUs: number): Uint8Array {
    let cur = this.#current;
    if (cur === null) {
      // The length is not known yet: hold what came and ask.
      this.#hold(bytes);
      const head = this.#head();
      const length = this.#spec.frameLength(head);
      if (length === 'more') {
        if (this.#held > RESYNC_WINDOW_BYTES) this.#lose();
        return new Uint8Array(0);
      }
      if (length === 'bad' || !Number.isSafeInteger(length) || length <= 0) {
        // A protocol that can find a start again looks for one in the bytes after the refused header.
        const after = this.#spec.resync === undefined ? new Uint8Array(0) : copyOf(this.#joined().subarray(1));
        this.#lose();
        return after;
      }
      cur = { length, kept: 0, seen: 0, lost: 0, startUs: this.#startUs };
      this.#current = cur;
      // Everything held counts toward this message; what goes past its end belongs to the next.
      const all = this.#joined();
      this.#chunks = [];
      this.#held = 0;
      cur.kept = 0;
      return this.#feedCurrent(all, tsUs);
    }
    return this.#feedCurrent(bytes, tsUs);
  }

  /** Bytes for the current (length known) message; returns the bytes past its end. */
  #feedCurrent(bytes: Uint8Array, tsUs: number): Uint8Array {
    const cur = this.#current!;
    const want = cur.length - cur.seen;
    const mine = bytes.subarray(0, Math.min(want, bytes.length));
    const keepRoom = this.#spec.maxKeepBytes - cur.kept;
    if (keepRoom > 0) {
      const kept = mine.subarray(0, Math.min(keepRoom, mine.length));
      this.#chunks.push(copyOf(kept));
      this.#held += kept.length;
      cur.kept += kept.length;
    }
    cur.seen += mine.length;
    if (cur.seen === cur.length) this.#finish(tsUs);
    return bytes.subarray(mine.length);
  }

  /** After a gap inside the message: nothing more is kept of it. */
  #freezeKept(): void {
    const cur = this.#current!;
    cur.kept = this.#spec.maxKeepBytes;
  }

  #finish(tsUs: number): void {
    const cur = this.#current!;
    const bytes = this.#joined();
    this.#chunks = [];
    this.#held = 0;
    this.#current = null;
    this.#startUs = tsUs;
    this.#deliver({
      bytes,
      length: cur.length,
      truncated: bytes.length < cur.length,
      lostBytes: cur.lost,
      startUs: cur.startUs,
      endUs: tsUs,
    });
  }

  #lose(): void {
    this.#state = 'lost';
    this.#chunks = [];
    this.#held = 0;
    this.#current = null;
    this.#onLost();
  }

  /** While lost: looks for a message start in the bytes since; returns the bytes from it (framing again). */
  #searchStart(bytes: Uint8Array, tsUs: number): Uint8Array {
    const resync = this.#spec.resync;
    if (resync === undefined) return new Uint8Array(0);
    this.#hold(bytes);
    const window = this.#joined();
    const at = resync(window);
    if (at < 0 || at >= window.length) {
      // Keep a short tail: a start may straddle the next segment.
      const tail = copyOf(window.subarray(Math.max(0, window.length - HEAD_BYTES)));
      this.#chunks = tail.length > 0 ? [tail] : [];
      this.#held = tail.length;
      return new Uint8Array(0);
    }
    this.#state = 'framing';
    this.#chunks = [];
    this.#held = 0;
    this.#startUs = tsUs;
    return copyOf(window.subarray(at));
  }

  #hold(bytes: Uint8Array): void {
    this.#chunks.push(copyOf(bytes));
    this.#held += bytes.length;
  }

  #joined(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const all = Buffer.concat(this.#chunks, this.#held);
    this.#chunks = [all];
    return new Uint8Array(all.buffer, all.byteOffset, all.length);
  }

  #head(): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= HEAD_BYTES || this.#chunks.length === 1) return first;
    return this.#joined();
  }
}

/**
 * A copy of `bytes` in memory of its own. Not `bytes.slice()`: on a Buffer (what file reads and
 * capture rings hand over) slice is a view, and the caller may reuse that memory after data().
 */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
