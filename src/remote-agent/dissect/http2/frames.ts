/**
 * Push reader for the frames of one direction of an HTTP/2 connection (RFC 9113 §4.1): a 9-byte
 * header (24-bit length, type, flags, 31-bit stream id), then the payload. Chunks may split
 * anywhere, one byte at a time included.
 *
 * Captured bytes are hostile and bodies large: a DATA payload is never buffered, it goes to the
 * sink in the pieces it arrived in, its padding (RFC 9113 §6.1) removed here; any other payload is
 * handed over whole (a view of the chunk when it lies in one, else one copy), up to
 * `maxPayloadBytes`, past which it is skipped and reported as null (what the connection makes of a
 * header block it cannot read). Lengths only make the reader count bytes as they go by.
 *
 * Joining a connection midway, or after bytes were lost, the reader hunts: it keeps a bounded
 * window and looks for a chain of plausible frame headers (see `frameChainAt`), the same test the
 * dissector's sniff makes, and continues from the first frame of that chain.
 */

/** Frame types of RFC 9113 §6. */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  /** SETTINGS and PING. */
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const FRAME_HEADER_BYTES = 9;
/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2): a sender may be allowed more. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
/** The largest length a frame header can state (24 bits; SETTINGS_MAX_FRAME_SIZE may allow up to it). */
export const MAX_FRAME_LENGTH = 0xffffff;

/** Flags each frame type defines; a plausible header (hunting, sniffing) sets no other. */
const DEFINED_FLAGS: readonly number[] = [
  Flag.END_STREAM | Flag.PADDED, // DATA
  Flag.END_STREAM | Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY, // HEADERS
  0, // PRIORITY
  0, // RST_STREAM
  Flag.ACK, // SETTINGS
  Flag.END_HEADERS | Flag.PADDED, // PUSH_PROMISE
  Flag.ACK, // PING
  0, // GOAWAY
  0, // WINDOW_UPDATE
  Flag.END_HEADERS, // CONTINUATION
];

/**
 * Whether the 9 bytes at `at` look like a frame header a real peer sends: a type RFC 9113 defines,
 * only its defined flags, the reserved bit clear, the stream id and length its type requires, and
 * a length within `maxLength`. Text (HTTP/1, most protocols) never passes: its "type" byte would be
 * a control character and its "length" megabytes. Returns the payload length, or -1.
 */
export function plausibleFrameHeader(b: Uint8Array, at: number, maxLength: number): number {
  const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
  const type = b[at + 3]!;
  const flags = b[at + 4]!;
  if (length > maxLength || type > FrameType.CONTINUATION || b[at + 5]! & 0x80) return -1;
  if ((flags & ~DEFINED_FLAGS[type]!) !== 0) return -1;
  const stream = (b[at + 5]! << 24) | (b[at + 6]! << 16) | (b[at + 7]! << 8) | b[at + 8]!;
  switch (type) {
    case FrameType.SETTINGS:
      return stream === 0 && length % 6 === 0 && (flags === 0 || length === 0) ? length : -1;
    case FrameType.PING:
      return stream === 0 && length === 8 ? length : -1;
    case FrameType.GOAWAY:
      return stream === 0 && length >= 8 ? length : -1;
    case FrameType.WINDOW_UPDATE:
      return length === 4 ? length : -1;
    case FrameType.PRIORITY:
      return stream !== 0 && length === 5 ? length : -1;
    case FrameType.RST_STREAM:
      return stream !== 0 && length === 4 ? length : -1;
    case FrameType.PUSH_PROMISE:
      return stream !== 0 && length >= 4 ? length : -1;
    default: // DATA, HEADERS, CONTINUATION
      return stream !== 0 ? length : -1;
  }
}

/**
 * Whether a chain of `need` plausible frame headers, each where the previous frame ends, starts at
 * `at`: 'match', 'no', or 'more' when the bytes end before the chain is confirmed.
 */
export function frameChainAt(b: Uint8Array, at: number, end: number, need: number, maxLength = DEFAULT_MAX_FRAME_SIZE): 'match' | 'no' | 'more' {
  let pos = at;
  for (let n = 0; n < need; n++) {
    if (pos + FRAME_HEADER_BYTES > end) return cutHeaderCanStart(b, pos, end, maxLength) ? 'more' : 'no';
    const len = plausibleFrameHeader(b, pos, maxLength);
    if (len < 0) return 'no';
    pos += FRAME_HEADER_BYTES + len;
  }
  return 'match';
}

/** Whether the first bytes of a header cut at `end` may still be a plausible header (so a short prefix of text is a 'no' at once). */
function cutHeaderCanStart(b: Uint8Array, at: number, end: number, maxLength: number): boolean {
  if (at < end && maxLength < 0x10000 && b[at] !== 0) return false;
  if (at + 3 < end && b[at + 3]! > FrameType.CONTINUATION) return false;
  return true;
}

/** Frames a chain must have when it starts at the first byte seen, and anywhere else. */
export const CHAIN_AT_START = 2;
export const CHAIN_MIDWAY = 3;

/**
 * Where a frame chain starts in `b[from, end)` (CHAIN_AT_START frames at offset 0 when
 * `zeroIsStart`, i.e. offset 0 is where the search began, CHAIN_MIDWAY elsewhere): `found` is its offset, or -1 when the bytes end before the earliest candidate is
 * decided (`undecided` is that candidate, or `end` when none is left: no offset before it can start one).
 */
export function findFrameChain(b: Uint8Array, end: number, from = 0, zeroIsStart = true): { found: number; undecided: number } {
  for (let at = from; at < end; at++) {
    // A plausible header starts with 0 (lengths up to 16,384): skip to the next zero byte.
    if (b[at] !== 0) {
      const zero = b.indexOf(0, at);
      if (zero < 0 || zero >= end) return { found: -1, undecided: end };
      at = zero;
    }
    const r = frameChainAt(b, at, end, at === 0 && zeroIsStart ? CHAIN_AT_START : CHAIN_MIDWAY);
    if (r === 'match') return { found: at, undecided: end };
    if (r === 'more') return { found: -1, undecided: at };
  }
  return { found: -1, undecided: end };
}

/** One frame's header: the reader reuses one object; valid until the next frame starts. */
export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  streamId: number;
  /** Stream offset of the frame's first byte (bytes delivered and lost before it, in this direction). */
  offset: number;
  /** Capture time of the chunk the frame's first byte came in. */
  tsUs: number;
  /** DATA: padding bytes after the data (the pad length field itself not counted). */
  padLength: number;
}

export interface FrameSink {
  /** The direction began with the client connection preface (it is the client's). */
  preface(): void;
  /** A whole non-DATA frame; `payload` is null when it was longer than the reader keeps. Views are valid during the call only. */
  frame(h: FrameHeader, payload: Uint8Array | null): void;
  /** A DATA frame starts (its padding, if any, is removed from what follows). */
  dataStart(h: FrameHeader): void;
  /** Data bytes of the current DATA frame, in order; the view is valid during the call only. */
  data(h: FrameHeader, bytes: Uint8Array): void;
  /** `n` data bytes of the current DATA frame were lost in the capture (the frame goes on). */
  dataLost(h: FrameHeader, n: number): void;
  /** The current DATA frame is over (`END_STREAM` is in `h.flags`). */
  dataEnd(h: FrameHeader): void;
  /** The frame boundary is lost (`lost` bytes missing, a frame maybe cut); the reader hunts for the next frame. */
  syncLost(lostBytes: number): void;
  /** The reader found frames again after hunting: `skipped` bytes since the loss (the lost ones included) were no frames. */
  resynced(skipped: number): void;
  /** A frame violated RFC 9113 in a way the reader could step over (bad padding). */
  violation(reason: string): void;
}

const State = {
  /** The first bytes may be the client preface. */
  PREFACE: 0,
  HEADER: 1,
  /** DATA: the pad length byte. */
  DATA_PAD_LENGTH: 2,
  DATA: 3,
  DATA_PADDING: 4,
  /** A non-DATA payload being collected. */
  PAYLOAD: 5,
  /** A non-DATA payload too long to keep, counted by. */
  SKIP: 6,
  /** Looking for frames after joining midway or losing bytes. */
  HUNT: 7,
} as const;
type State = (typeof State)[keyof typeof State];

export interface FrameReaderOptions {
  /** True when the first byte is at a frame boundary or the preface (connection start, hand-off). */
  readonly atBoundary: boolean;
  /** Non-DATA payloads longer than this are skipped (reported null). */
  readonly maxPayloadBytes: number;
  /** Stream offset of the first byte pushed (where a hand-off starts). */
  readonly startOffset?: number;
}

/** Bytes the hunt keeps at most; a window that holds no chain slides on. */
export const HUNT_WINDOW_BYTES = 64 * 1024;

export class FrameReader {
  readonly #sink: FrameSink;
  readonly #maxPayload: number;
  #state: State;
  readonly #h: FrameHeader = { length: 0, type: 0, flags: 0, streamId: 0, offset: 0, tsUs: 0, padLength: 0 };
  readonly #hdr = new Uint8Array(FRAME_HEADER_BYTES);
  #hdrLen = 0;
  /** Preface bytes matched so far (state PREFACE). */
  #prefaceLen = 0;
  /** Payload bytes of the current frame (or of its data/padding part) still to come. */
  #remaining = 0;
  /** A non-DATA payload split across chunks. */
  #payload: Uint8Array | null = null;
  #payloadLen = 0;
  /** The hunt's window. */
  #hunt: Uint8Array | null = null;
  #huntLen = 0;
  /** Bytes dropped while hunting (reported at resync). */
  #huntSkipped = 0;
  /**
   * The window dropped bytes from its front: its first byte is no longer where the hunt began, so
   * a chain there needs CHAIN_MIDWAY frames like anywhere else. Without this, where the reader
   * resyncs would depend on how TCP cut the segments (found by test/robustness/fuzz-http2.test.ts).
   */
  #huntWindowSlid = false;
  #offset: number;

  constructor(sink: FrameSink, options: FrameReaderOptions) {
    this.#sink = sink;
    this.#maxPayload = options.maxPayloadBytes;
    this.#offset = options.startOffset ?? 0;
    this.#state = State.PREFACE;
    if (!options.atBoundary) this.#huntFromStart = true;
  }

  /** Not at a boundary: a mismatch of the preface sends the reader hunting rather than reading frames. */
  #huntFromStart = false;
  /** The direction's first frame is checked for plausibility (an HTTP/1 request to an HTTP/2-only server is not frames). */
  #firstFrame = true;

  /**
   * The direction starts with something that is no frame (the header at `at` of `b` is implausible):
   * a violation, and the reader hunts from that header's first byte.
   */
  #notFrames(b: Uint8Array, at: number): void {
    this.#sink.violation('the bytes at the start of the direction are not HTTP/2 frames');
    this.#offset -= FRAME_HEADER_BYTES;
    this.#state = State.HUNT;
    this.#huntSkipped = 0;
    this.#huntWindowSlid = false;
    this.#hunt ??= new Uint8Array(HUNT_WINDOW_BYTES);
    this.#hunt.set(b.subarray(at, at + FRAME_HEADER_BYTES), 0);
    this.#huntLen = FRAME_HEADER_BYTES;
  }

  /** Stream offset of the next byte. */
  get offset(): number {
    return this.#offset;
  }

  /** True while the reader looks for frames (joined midway, or after a loss). */
  get hunting(): boolean {
    return this.#state === State.HUNT;
  }

  push(bytes: Uint8Array, tsUs: number): void {
    let pos = 0;
    const len = bytes.length;
    while (pos < len) {
      switch (this.#state) {
        case State.HEADER:
          pos = this.#header(bytes, pos, tsUs);
          break;
        case State.DATA:
          pos = this.#data(bytes, pos);
          break;
        case State.PAYLOAD:
          pos = this.#collect(bytes, pos);
          break;
        case State.DATA_PAD_LENGTH:
          pos = this.#padLength(bytes, pos);
          break;
        case State.DATA_PADDING:
        case State.SKIP:
          pos = this.#skip(bytes, pos);
          break;
        case State.PREFACE:
          pos = this.#preface(bytes, pos, tsUs);
          break;
        default:
          this.#huntPush(bytes.subarray(pos), tsUs);
          return;
      }
    }
  }

  /**
   * `lost` bytes of this direction will never arrive. Inside a DATA payload the framing survives
   * (the frame goes on, the loss reported); anywhere else the next frame boundary is unknown.
   */
  gap(lost: number): void {
    const s = this.#state;
    if ((s === State.DATA || s === State.DATA_PADDING) && lost <= this.#remaining) {
      this.#offset += lost;
      this.#remaining -= lost;
      if (s === State.DATA) this.#sink.dataLost(this.#h, lost);
      if (this.#remaining === 0) this.#afterData();
      return;
    }
    if (s === State.SKIP && lost <= this.#remaining) {
      this.#offset += lost;
      this.#remaining -= lost;
      if (this.#remaining === 0) this.#endPayload(null);
      return;
    }
    if (s === State.HUNT) this.#dropHuntWindow();
    this.#offset += lost;
    this.#payload = null;
    this.#hdrLen = 0;
    this.#startHunt();
    this.#huntSkipped += lost;
    this.#sink.syncLost(lost);
  }

  #startHunt(): void {
    if (this.#state !== State.HUNT) {
      this.#state = State.HUNT;
      this.#huntLen = 0;
      this.#huntSkipped = 0;
      this.#huntWindowSlid = false;
    }
  }

  #preface(b: Uint8Array, pos: number, tsUs: number): number {
    const len = b.length;
    while (pos < len && this.#prefaceLen < PREFACE.length) {
      if (b[pos] !== PREFACE[this.#prefaceLen]) {
        // Not the preface: the bytes matched so far were frame bytes after all; read them again.
        const seen = PREFACE.subarray(0, this.#prefaceLen);
        this.#offset -= this.#prefaceLen;
        this.#prefaceLen = PREFACE.length;
        this.#state = this.#huntFromStart ? State.HUNT : State.HEADER;
        if (seen.length > 0) this.push(seen, tsUs);
        return pos;
      }
      this.#prefaceLen++;
      this.#offset++;
      pos++;
    }
    if (this.#prefaceLen === PREFACE.length) {
      this.#state = State.HEADER;
      this.#sink.preface();
    }
    return pos;
  }

  #header(b: Uint8Array, pos: number, tsUs: number): number {
    const h = this.#h;
    if (this.#hdrLen === 0) {
      h.offset = this.#offset;
      h.tsUs = tsUs;
      if (b.length - pos >= FRAME_HEADER_BYTES) {
        // Fast path: the whole header in this chunk.
        this.#offset += FRAME_HEADER_BYTES;
        this.#startFrame(b, pos);
        return pos + FRAME_HEADER_BYTES;
      }
    }
    const take = Math.min(FRAME_HEADER_BYTES - this.#hdrLen, b.length - pos);
    this.#hdr.set(b.subarray(pos, pos + take), this.#hdrLen);
    this.#hdrLen += take;
    this.#offset += take;
    if (this.#hdrLen === FRAME_HEADER_BYTES) {
      this.#hdrLen = 0;
      this.#startFrame(this.#hdr, 0);
    }
    return pos + take;
  }

  #startFrame(b: Uint8Array, at: number): void {
    if (this.#firstFrame) {
      this.#firstFrame = false;
      if (plausibleFrameHeader(b, at, MAX_FRAME_LENGTH) < 0) return this.#notFrames(b, at);
    }
    const h = this.#h;
    h.length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    h.type = b[at + 3]!;
    h.flags = b[at + 4]!;
    h.streamId = ((b[at + 5]! & 0x7f) << 24) | (b[at + 6]! << 16) | (b[at + 7]! << 8) | b[at + 8]!;
    h.padLength = 0;
    this.#remaining = h.length;
    if (h.type === FrameType.DATA) {
      if ((h.flags & Flag.PADDED) !== 0) {
        if (h.length === 0) {
          this.#sink.violation('padded DATA frame without a pad length');
          this.#sink.dataStart(h);
          return this.#afterData();
        }
        this.#state = State.DATA_PAD_LENGTH;
        return;
      }
      this.#sink.dataStart(h);
      if (h.length === 0) return this.#afterData();
      this.#state = State.DATA;
      return;
    }
    if (h.length === 0) {
      this.#sink.frame(h, EMPTY);
      return;
    }
    this.#state = h.length > this.#maxPayload ? State.SKIP : State.PAYLOAD;
    this.#payload = null;
    this.#payloadLen = 0;
  }

  #padLength(b: Uint8Array, pos: number): number {
    const h = this.#h;
    let pad = b[pos]!;
    this.#offset++;
    const rest = h.length - 1;
    if (pad > rest) {
      // RFC 9113 §6.1: padding as long as the payload is a PROTOCOL_ERROR; all of it is taken as padding.
      this.#sink.violation(`DATA pad length ${pad} exceeds the frame's ${rest} bytes`);
      pad = rest;
    }
    h.padLength = pad;
    this.#remaining = rest - pad;
    this.#sink.dataStart(h);
    if (this.#remaining > 0) this.#state = State.DATA;
    else this.#afterData();
    return pos + 1;
  }

  #data(b: Uint8Array, pos: number): number {
    const n = Math.min(this.#remaining, b.length - pos);
    this.#remaining -= n;
    this.#offset += n;
    this.#sink.data(this.#h, b.subarray(pos, pos + n));
    if (this.#remaining === 0) this.#afterData();
    return pos + n;
  }

  /** The data part of a DATA frame is over: its padding follows, or the next frame. */
  #afterData(): void {
    const h = this.#h;
    if (this.#state !== State.DATA_PADDING && h.padLength > 0) {
      this.#state = State.DATA_PADDING;
      this.#remaining = h.padLength;
      return;
    }
    this.#state = State.HEADER;
    this.#sink.dataEnd(h);
  }

  #skip(b: Uint8Array, pos: number): number {
    const n = Math.min(this.#remaining, b.length - pos);
    this.#remaining -= n;
    this.#offset += n;
    if (this.#remaining === 0) {
      if (this.#state === State.DATA_PADDING) this.#afterData();
      else this.#endPayload(null);
    }
    return pos + n;
  }

  #collect(b: Uint8Array, pos: number): number {
    const h = this.#h;
    const avail = b.length - pos;
    if (this.#payload === null && avail >= h.length) {
      // The whole payload in this chunk: hand over a view, no copy.
      const end = pos + h.length;
      this.#offset += h.length;
      this.#remaining = 0;
      this.#endPayload(b.subarray(pos, end));
      return end;
    }
    this.#payload ??= new Uint8Array(h.length);
    const n = Math.min(this.#remaining, avail);
    this.#payload.set(b.subarray(pos, pos + n), this.#payloadLen);
    this.#payloadLen += n;
    this.#remaining -= n;
    this.#offset += n;
    if (this.#remaining === 0) {
      const payload = this.#payload;
      this.#payload = null;
      this.#endPayload(payload);
    }
    return pos + n;
  }

  #endPayload(payload: Uint8Array | null): void {
    this.#state = State.HEADER;
    this.#sink.frame(this.#h, payload);
  }

  /**
   * Hunting: bytes join a bounded window, searched for a frame chain. Found, the bytes before it
   * are dropped and the rest is read as frames; not found, the window keeps only its last bytes
   * (a chain may start there).
   */
  #huntPush(bytes: Uint8Array, tsUs: number): void {
    let input = bytes;
    while (input.length > 0) {
      if (this.#hunt === null) this.#hunt = new Uint8Array(HUNT_WINDOW_BYTES);
      const take = Math.min(input.length, HUNT_WINDOW_BYTES - this.#huntLen);
      this.#hunt.set(input.subarray(0, take), this.#huntLen);
      this.#huntLen += take;
      input = input.subarray(take);
      const w = this.#hunt;
      const { found, undecided } = findFrameChain(w, this.#huntLen, 0, !this.#huntWindowSlid);
      if (found >= 0) {
        const rest = w.slice(found, this.#huntLen);
        this.#huntSkipped += found;
        this.#offset += found;
        const skipped = this.#huntSkipped;
        this.#hunt = null;
        this.#huntLen = 0;
        this.#huntSkipped = 0;
        this.#huntWindowSlid = false;
        this.#state = State.HEADER;
        this.#sink.resynced(skipped);
        this.push(rest, tsUs);
        if (input.length > 0) this.push(input, tsUs);
        return;
      }
      // Bytes before the earliest undecided candidate can start no chain: drop them. A full window
      // (a candidate whose chain is longer than it, impossible for plausible frames) drops its first byte.
      const drop = undecided > 0 ? undecided : this.#huntLen === HUNT_WINDOW_BYTES ? 1 : 0;
      if (drop > 0) {
        w.copyWithin(0, drop, this.#huntLen);
        this.#huntLen -= drop;
        this.#huntSkipped += drop;
        this.#offset += drop;
        this.#huntWindowSlid = true;
      }
    }
  }

  /** Bytes lost while hunting: the window before the hole is no use any more. */
  #dropHuntWindow(): void {
    this.#huntSkipped += this.#huntLen;
    this.#offset += this.#huntLen;
    this.#huntLen = 0;
    // The bytes after the hole begin a window of their own, as after a loss while reading frames.
    this.#huntWindowSlid = false;
  }
}

const EMPTY = new Uint8Array(0);
