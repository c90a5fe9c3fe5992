/**
 * Joins the frames of one direction into messages (RFC 6455 §5.4): a data message is its first
 * frame (text or binary) and the continuation frames up to FIN; control frames (ping, pong, close)
 * may come between those fragments and are messages of their own. Payloads are kept within
 * `--max-body` (sizes count everything), inflated when permessage-deflate compressed them, and
 * turned into text (UTF-8, else base64).
 */
import { ProtocolViolation } from '../../thrown-errors.ts';
import type { BodyLimits } from '../body/body-collector.ts';
import { bodyText } from '../body/body-text.ts';
import type { WebSocketMessage, WebSocketOpcode, WebSocketPayload } from './entry.ts';
import { Opcode, RSV1, WEBSOCKET_DISSECTOR_ID, type FrameHead, type FrameSink } from './frame-parser.ts';
import type { MessageInflater } from './permessage-deflate.ts';

/** A message and where it lies in the stream, handed to the connection. */
export interface AssembledMessage {
  readonly message: WebSocketMessage;
  /** Capture time of its first frame's first byte. */
  readonly startUs: number;
  /** Stream offset of its first frame's first byte. */
  readonly startOffset: number;
  /** Bytes of its frames on the wire (headers and payloads). */
  readonly wireBytes: number;
  /** Why it is incomplete or not decoded ("" when whole). */
  readonly problem: string;
}

/** A message on its way: its frames so far and the payload bytes kept. */
class Building {
  readonly opcode: number;
  readonly compressed: boolean;
  readonly masked: boolean;
  readonly startUs: number;
  readonly startOffset: number;
  frames = 0;
  wireBytes = 0;
  payloadLength = 0;
  readonly parts: Uint8Array[] = [];
  kept = 0;
  /** Some payload was not kept (cap reached or lost). */
  cut = false;
  /** Some payload was lost in the capture. */
  lost = 0;

  constructor(head: FrameHead, compressed: boolean) {
    this.opcode = head.opcode;
    this.compressed = compressed;
    this.masked = head.masked;
    this.startUs = head.tsUs;
    this.startOffset = head.offset;
  }
}

/** Control payloads are at most 125 bytes (the frame parser checks): always kept whole. */
const CONTROL_KEEP = 125;

export class MessageAssembler implements FrameSink {
  readonly #limits: BodyLimits;
  readonly #inflater: MessageInflater | null;
  readonly #onMessage: (m: AssembledMessage) => void;
  /** The data message in progress (its continuation frames may still come). */
  #data: Building | null = null;
  /** The control frame whose payload is being read (between fragments of #data, maybe). */
  #control: Building | null = null;
  /** Where the current frame's payload goes. */
  #current: Building | null = null;
  #currentFin = false;

  /** `inflater`: set when permessage-deflate was negotiated for this direction. */
  constructor(limits: BodyLimits, inflater: MessageInflater | null, onMessage: (m: AssembledMessage) => void) {
    this.#limits = limits;
    this.#inflater = inflater;
    this.#onMessage = onMessage;
  }

  /** Capture time of the oldest message not yet handed on; Infinity when none. */
  oldestPendingUs(): number {
    return Math.min(this.#data?.startUs ?? Infinity, this.#control?.startUs ?? Infinity);
  }

  frame(head: FrameHead): void {
    const compressedBit = (head.rsv & RSV1) !== 0;
    let target: Building;
    if (head.opcode >= 0x8) {
      if (compressedBit) throw violation('RSV1 set on a control frame');
      target = new Building(head, false);
      this.#control = target;
    } else if (head.opcode === Opcode.CONTINUATION) {
      if (this.#data === null) throw violation('continuation frame without a message to continue');
      if (compressedBit) throw violation('RSV1 set on a continuation frame');
      target = this.#data;
    } else {
      if (this.#data !== null) throw violation('new data frame inside a fragmented message');
      if (compressedBit && this.#inflater === null) throw violation('RSV1 set but permessage-deflate was not negotiated');
      target = new Building(head, compressedBit);
      this.#data = target;
    }
    target.frames++;
    target.wireBytes += head.headerBytes + head.length;
    target.payloadLength += head.length;
    this.#current = target;
    this.#currentFin = head.fin;
  }

  room(): number {
    const b = this.#current;
    if (b === null || b.cut) return 0;
    return this.#capOf(b) - b.kept;
  }

  payload(kept: Uint8Array, count: number): void {
    const b = this.#current!;
    if (kept.length > 0) {
      b.parts.push(kept);
      b.kept += kept.length;
    }
    if (kept.length < count) b.cut = true;
  }

  /** `n` payload bytes of the current frame were lost in the capture (the frame goes on). */
  lose(n: number): void {
    const b = this.#current;
    if (b === null) return;
    b.lost += n;
    b.cut = true;
  }

  frameEnd(): void {
    const b = this.#current!;
    this.#current = null;
    if (b === this.#control) {
      this.#control = null;
      this.#finish(b, '');
    } else if (this.#currentFin) {
      this.#data = null;
      this.#finish(b, '');
    }
  }

  /** The direction ended (FIN, close, lost framing): a message in progress is handed on as it is. */
  end(why: string): void {
    const control = this.#control;
    const data = this.#data;
    this.#control = null;
    this.#data = null;
    this.#current = null;
    if (control !== null) this.#finish(control, why);
    if (data !== null) this.#finish(data, why);
  }

  #capOf(b: Building): number {
    if (b.opcode >= 0x8) return CONTROL_KEEP;
    // Compressed: keep more of the input, so the kept text can come out of a whole inflate.
    return b.compressed ? this.#limits.maxEncodedBytes : this.#limits.maxKeepBytes;
  }

  #finish(b: Building, why: string): void {
    const raw = b.parts.length === 1 ? b.parts[0] : Buffer.concat(b.parts, b.kept);
    const problems: string[] = [];
    if (why !== '') problems.push(why);
    if (b.lost > 0) problems.push(`${b.lost} payload bytes lost in capture`);
    const opcode = opcodeName(b.opcode);
    const message: WebSocketMessage = {
      opcode,
      frames: b.frames,
      payloadLength: b.payloadLength,
      compressed: b.compressed,
      masked: b.masked,
      payload: { size: 0, mimeType: '', text: '' },
    };
    if (opcode === 'close') {
      const close = closeOf(raw);
      message.closeCode = close.code;
      message.closeReason = close.reason;
      message.payload = this.#payloadOf(Buffer.from(close.reason, 'utf8'), close.reasonBytes, false, 'text/plain; charset=utf-8');
      if (close.problem !== '') problems.push(close.problem);
    } else if (b.compressed) {
      message.payload = this.#inflated(b, raw, problems, opcode);
    } else {
      message.payload = this.#payloadOf(raw, b.payloadLength, b.cut, mimeOf(opcode));
    }
    this.#onMessage({ message, startUs: b.startUs, startOffset: b.startOffset, wireBytes: b.wireBytes, problem: problems.join('; ') });
  }

  #inflated(b: Building, raw: Uint8Array, problems: string[], opcode: WebSocketOpcode): WebSocketPayload {
    const r = this.#inflater!.inflate(raw, !b.cut, this.#limits.maxDecodedBytes, this.#limits.maxKeepBytes);
    if (!r.ok) {
      // Not inflatable: the compressed bytes are shown as they are, so nothing is hidden.
      problems.push(r.reason);
      return this.#payloadOf(raw, b.payloadLength, b.cut, 'application/octet-stream');
    }
    if (r.overflow) problems.push(`permessage-deflate: inflates to more than ${this.#limits.maxDecodedBytes} bytes; size is a lower bound`);
    // Cut input: only the inflated prefix is known, and its size is what is reported (as HTTP does).
    const size = r.overflow ? this.#limits.maxDecodedBytes : r.bytes.length;
    return this.#payloadOf(r.bytes, size, !r.complete, mimeOf(opcode));
  }

  #payloadOf(bytes: Uint8Array, size: number, cut: boolean, mimeType: string): WebSocketPayload {
    const keep = this.#limits.maxKeepBytes;
    const truncated = cut || bytes.length > keep;
    const t = bodyText(bytes.length > keep ? bytes.subarray(0, keep) : bytes, truncated);
    const payload: WebSocketPayload = { size, mimeType, text: t.text };
    if (t.encoding !== undefined) payload.encoding = t.encoding;
    if (truncated) payload.truncated = true;
    return payload;
  }
}

function opcodeName(op: number): WebSocketOpcode {
  switch (op) {
    case Opcode.TEXT:
      return 'text';
    case Opcode.BINARY:
      return 'binary';
    case Opcode.CLOSE:
      return 'close';
    case Opcode.PING:
      return 'ping';
    default:
      return 'pong';
  }
}

function mimeOf(opcode: WebSocketOpcode): string {
  return opcode === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}

/** Close payload (RFC 6455 §5.5.1): nothing, or a 2-byte status code and a UTF-8 reason. */
function closeOf(raw: Uint8Array): { code: number; reason: string; reasonBytes: number; problem: string } {
  if (raw.length === 0) return { code: 0, reason: '', reasonBytes: 0, problem: '' };
  if (raw.length === 1) return { code: 0, reason: '', reasonBytes: 0, problem: 'close frame with a 1-byte payload (no room for a status code)' };
  const code = (raw[0] << 8) | raw[1];
  const reasonBytes = Buffer.from(raw.buffer, raw.byteOffset + 2, raw.length - 2);
  return { code, reason: reasonBytes.toString('utf8'), reasonBytes: reasonBytes.length, problem: '' };
}

function violation(what: string): ProtocolViolation {
  return new ProtocolViolation(WEBSOCKET_DISSECTOR_ID, `websocket message: ${what}`);
}
