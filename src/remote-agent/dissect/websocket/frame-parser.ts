/**
 * Push parser for the frames of one direction of a WebSocket connection (RFC 6455 §5.2): header
 * (FIN, RSV1-3, opcode, MASK, 7/16/64-bit payload length, masking key), then the payload,
 * de-masked. Chunks may split anywhere, one byte at a time included. Only frame-level rules are
 * checked here; what frames make a message is message-assembler.ts's job.
 *
 * Captured bytes are hostile: a length field only makes the parser count bytes as they go by (no
 * allocation follows from it), and only the payload prefix the sink asks for is de-masked and
 * handed over.
 */
import { ProtocolViolation } from '../../thrown-errors.ts';

/** The dissector id carried by this folder's ProtocolViolations. */
export const WEBSOCKET_DISSECTOR_ID = 'websocket';

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** RSV1: "compressed" under permessage-deflate (RFC 7692 §6). */
export const RSV1 = 0x4;

/**
 * Longest payload length accepted: 2^53 - 1, the largest byte count a JavaScript number holds
 * exactly. RFC 6455 allows up to 2^63 - 1, but no capture carries a frame that size; a larger
 * field is far more likely garbage than data, and counting it down would swallow the connection.
 */
export const MAX_FRAME_PAYLOAD = Number.MAX_SAFE_INTEGER;

/** Control frames carry at most 125 payload bytes (RFC 6455 §5.5). */
const MAX_CONTROL_PAYLOAD = 125;

export interface FrameHead {
  readonly fin: boolean;
  /** RSV1..RSV3 as a 3-bit number (RSV1 = 4). */
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** Payload length as the header states it. */
  readonly length: number;
  /** Bytes of the header (2 to 14). */
  readonly headerBytes: number;
  /** Stream offset of the frame's first byte (bytes delivered and lost before it). */
  readonly offset: number;
  /** Capture time of the chunk the frame's first byte came in. */
  readonly tsUs: number;
}

export interface FrameSink {
  /** A frame header was read; its payload (maybe empty) follows. May throw ProtocolViolation. */
  frame(head: FrameHead): void;
  /** How many more payload bytes of the current frame the sink wants to see (the rest is counted). */
  room(): number;
  /**
   * `count` payload bytes of the current frame went by; `kept` holds the de-masked first of them
   * (at most `room()`). The view is only valid during the call.
   */
  payload(kept: Uint8Array, count: number): void;
  /** The current frame's payload is complete. */
  frameEnd(): void;
}

const State = { HEADER: 0, PAYLOAD: 1, DEAD: 2 } as const;
type State = (typeof State)[keyof typeof State];

export class FrameParser {
  readonly #sink: FrameSink;
  #state: State = State.HEADER;
  /** Header bytes so far (at most 14) and how many the header needs (known after byte 2). */
  readonly #hdr = new Uint8Array(14);
  #hdrLen = 0;
  #hdrNeed = 2;
  #frameOffset = 0;
  #frameTsUs = 0;
  /** Payload bytes of the current frame still to come. */
  #remaining = 0;
  #mask: Uint8Array | null = null;
  /** Payload bytes of the current frame seen so far: the position in the masking key. */
  #maskPos = 0;
  /** Stream offset of the next byte. */
  #offset: number;

  /** `startOffset`: the stream offset of the first byte pushed (where the hand-off started). */
  constructor(sink: FrameSink, startOffset = 0) {
    this.#sink = sink;
    this.#offset = startOffset;
  }

  /** Stream offset of the next byte. */
  get offset(): number {
    return this.#offset;
  }

  /** True between frames: a gap here loses whole frames only if it is followed by garbage. */
  get atFrameStart(): boolean {
    return this.#state === State.HEADER && this.#hdrLen === 0;
  }

  /** Payload bytes of the current frame not yet seen (0 outside a payload). */
  get payloadRemaining(): number {
    return this.#state === State.PAYLOAD ? this.#remaining : 0;
  }

  get dead(): boolean {
    return this.#state === State.DEAD;
  }

  /** Stops parsing for good (resynchronisation is impossible after a hole in the framing). */
  kill(): void {
    this.#state = State.DEAD;
  }

  push(bytes: Uint8Array, tsUs: number): void {
    let pos = 0;
    const len = bytes.length;
    while (pos < len) {
      if (this.#state === State.HEADER) pos = this.#header(bytes, pos, tsUs);
      else if (this.#state === State.PAYLOAD) pos = this.#payload(bytes, pos);
      else {
        this.#offset += len - pos;
        return;
      }
    }
  }

  /**
   * `lost` payload bytes of the current frame will never arrive: counted, the frame goes on.
   * Only valid while `lost <= payloadRemaining` (the caller checks; beyond, framing is lost).
   */
  skipPayload(lost: number): void {
    this.#offset += lost;
    this.#remaining -= lost;
    this.#maskPos += lost;
    if (this.#remaining === 0) this.#endPayload();
  }

  /** Bytes lost where no framing survives: the offset still counts them. */
  lose(lost: number): void {
    this.#offset += lost;
  }

  #header(bytes: Uint8Array, pos: number, tsUs: number): number {
    if (this.#hdrLen === 0) {
      this.#frameOffset = this.#offset;
      this.#frameTsUs = tsUs;
    }
    while (pos < bytes.length && this.#hdrLen < this.#hdrNeed) {
      this.#hdr[this.#hdrLen++] = bytes[pos++];
      this.#offset++;
      if (this.#hdrLen === 2) this.#hdrNeed = headerSize(this.#hdr[1]);
    }
    if (this.#hdrLen < this.#hdrNeed) return pos;
    this.#startFrame();
    return pos;
  }

  #startFrame(): void {
    const h = this.#hdr;
    const opcode = h[0] & 0x0f;
    const fin = (h[0] & 0x80) !== 0;
    const rsv = (h[0] >> 4) & 0x07;
    const masked = (h[1] & 0x80) !== 0;
    const len7 = h[1] & 0x7f;
    let length = len7;
    let at = 2;
    if (len7 === 126) {
      length = (h[2] << 8) | h[3];
      at = 4;
    } else if (len7 === 127) {
      const high = ((h[2] << 24) | (h[3] << 16) | (h[4] << 8) | h[5]) >>> 0;
      const low = ((h[6] << 24) | (h[7] << 16) | (h[8] << 8) | h[9]) >>> 0;
      // The most significant bit must be 0 (§5.2); past 2^53 the count would not be exact.
      if (high > 0x1fffff) throw violation(`64-bit payload length beyond ${MAX_FRAME_PAYLOAD} bytes`);
      length = high * 0x1_0000_0000 + low;
      at = 10;
    }
    if (!isKnownOpcode(opcode)) throw violation(`reserved opcode 0x${opcode.toString(16)}`);
    if (opcode >= 0x8) {
      if (!fin) throw violation('fragmented control frame');
      if (length > MAX_CONTROL_PAYLOAD) throw violation(`control frame with ${length} payload bytes (at most 125)`);
    }
    // RSV2 and RSV3 have no meaning without an extension that defines them; none we decode does.
    if ((rsv & 0x3) !== 0) throw violation(`reserved bits RSV2/RSV3 set (0x${rsv.toString(16)})`);
    this.#mask = masked ? h.slice(at, at + 4) : null;
    this.#maskPos = 0;
    this.#remaining = length;
    const head: FrameHead = {
      fin,
      rsv,
      opcode,
      masked,
      length,
      headerBytes: this.#hdrNeed,
      offset: this.#frameOffset,
      tsUs: this.#frameTsUs,
    };
    this.#hdrLen = 0;
    this.#hdrNeed = 2;
    this.#state = State.PAYLOAD;
    this.#sink.frame(head);
    if (length === 0) this.#endPayload();
  }

  #payload(bytes: Uint8Array, pos: number): number {
    const count = Math.min(this.#remaining, bytes.length - pos);
    const wanted = Math.min(count, Math.max(0, this.#sink.room()));
    let kept: Uint8Array = EMPTY;
    if (wanted > 0) {
      // A copy (the caller's view is reused, and a Buffer's slice() would not copy).
      kept = new Uint8Array(wanted);
      kept.set(bytes.subarray(pos, pos + wanted));
      const mask = this.#mask;
      if (mask !== null) {
        const m = this.#maskPos;
        for (let i = 0; i < kept.length; i++) kept[i] ^= mask[(m + i) & 3];
      }
    }
    this.#maskPos += count;
    this.#remaining -= count;
    this.#offset += count;
    this.#sink.payload(kept, count);
    if (this.#remaining === 0) this.#endPayload();
    return pos + count;
  }

  #endPayload(): void {
    this.#state = State.HEADER;
    this.#mask = null;
    this.#sink.frameEnd();
  }
}

const EMPTY = new Uint8Array(0);

/** Header size from its second byte: 2, plus the extended length, plus the masking key. */
function headerSize(second: number): number {
  const len7 = second & 0x7f;
  const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  return 2 + ext + ((second & 0x80) !== 0 ? 4 : 0);
}

function isKnownOpcode(op: number): boolean {
  return op <= 0x2 || (op >= 0x8 && op <= 0xa);
}

function violation(what: string): ProtocolViolation {
  return new ProtocolViolation(WEBSOCKET_DISSECTOR_ID, `websocket frame: ${what}`);
}
