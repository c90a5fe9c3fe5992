/**
 * MySQL packets of one direction: 3-byte length and sequence id cut by the shared MessageFramer;
 * a payload of 0xFFFFFF bytes continues in the next packet, and the joiner hands over the whole
 * logical packet (its first bytes, bounded).
 */
import type { SniffResult } from '../dissector.ts';
import { MessageFramer, type FrameLength, type FramedMessage, type FramerSpec } from '../framing/message-framer.ts';

/** Payload length that says "continued in the next packet". */
export const CONTINUED = 0xffffff;

export interface MysqlPacket {
  /** The sequence id of its first packet. */
  readonly seq: number;
  /** The payload's first bytes (all of them unless `truncated`). */
  readonly payload: Uint8Array;
  /** The whole payload's length, continuations included. */
  readonly length: number;
  readonly truncated: boolean;
  /** The capture lost bytes of it. */
  readonly damaged: boolean;
  /** Bytes on the wire, headers included. */
  readonly wireBytes: number;
  readonly startUs: number;
  readonly endUs: number;
  /** Stream offset of its first byte (bytes of the direction delivered or lost before it); undefined when not known. */
  readonly offset: number | undefined;
}

export function packetLength(head: Uint8Array): number | 'more' {
  if (head.length < 4) return 'more';
  return 4 + (head[0]! | (head[1]! << 8) | (head[2]! << 16));
}

export class PacketJoiner {
  readonly #framer: MessageFramer;
  readonly #keep: number;
  readonly #deliver: (p: MysqlPacket) => void;
  #parts: Uint8Array[] = [];
  #kept = 0;
  #length = 0;
  #wire = 0;
  #seq = 0;
  #truncated = false;
  #damaged = false;
  #startUs = 0;
  #joining = false;

  /**
   * `keepBytes`: payload bytes of one logical packet kept at most. `trusted()`: whether a header
   * may be taken as it comes; when not (joined midway, or after the framing was lost), a packet
   * starts only where `plausible` says one does, so a length read from the middle of a message
   * cannot swallow the stream.
   */
  constructor(
    keepBytes: number,
    check: { readonly trusted: () => boolean; readonly plausible: (head: Uint8Array) => SniffResult; readonly resync: (window: Uint8Array) => number },
    deliver: (p: MysqlPacket) => void,
    onLost: () => void,
  ) {
    this.#keep = keepBytes;
    this.#deliver = deliver;
    const frameLength = (head: Uint8Array): FrameLength => {
      if (!this.#verified && !check.trusted()) {
        const verdict = check.plausible(head);
        if (verdict !== 'match') return verdict === 'more' ? 'more' : 'bad';
      }
      return packetLength(head);
    };
    const resync = (window: Uint8Array): number => {
      const at = check.resync(window);
      // The window ends with the bytes just fed: the offset of a start found in it is known again.
      if (at >= 0 && at < window.length) this.#nextOffset = this.#fed - (window.length - at);
      return at;
    };
    const spec: FramerSpec = { frameLength, maxKeepBytes: 4 + keepBytes, resync };
    this.#framer = new MessageFramer(spec, (m) => this.#frame(m), () => {
      this.#reset();
      this.#verified = false;
      this.#nextOffset = undefined;
      onLost();
    });
  }

  /** Bytes of the direction given so far (data and gaps). */
  #fed = 0;
  /** Stream offset where the next packet starts, while the framing is in step. */
  #nextOffset: number | undefined = 0;
  /** Offset of the logical packet being joined. */
  #offset: number | undefined = undefined;

  /** A packet was delivered since the start or the last loss of framing. */
  #verified = false;

  get held(): number {
    return this.#framer.held + this.#kept;
  }

  get lost(): boolean {
    return this.#framer.state === 'lost';
  }

  data(bytes: Uint8Array, tsUs: number): void {
    this.#fed += bytes.length;
    this.#framer.data(bytes, tsUs);
  }

  gap(lost: number, tsUs: number): void {
    this.#fed += lost;
    this.#framer.gap(lost, tsUs);
  }

  #reset(): void {
    this.#parts = [];
    this.#kept = 0;
    this.#length = 0;
    this.#wire = 0;
    this.#truncated = false;
    this.#damaged = false;
    this.#joining = false;
  }

  #frame(m: FramedMessage): void {
    const b = m.bytes;
    const len = b[0]! | (b[1]! << 8) | (b[2]! << 16);
    if (!this.#joining) {
      this.#seq = b[3]!;
      this.#startUs = m.startUs;
      this.#offset = this.#nextOffset;
    }
    if (this.#nextOffset !== undefined) this.#nextOffset += m.length;
    const payload = b.subarray(4);
    const room = this.#keep - this.#kept;
    if (room > 0 && payload.length > 0) {
      const part = payload.length <= room ? payload : payload.subarray(0, room);
      this.#parts.push(part);
      this.#kept += part.length;
    }
    if (m.truncated || payload.length > room) this.#truncated = true;
    if (m.lostBytes > 0) this.#damaged = true;
    this.#length += len;
    this.#wire += m.length;
    if (len === CONTINUED) {
      this.#joining = true;
      return;
    }
    const joined = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#kept);
    const packet: MysqlPacket = {
      seq: this.#seq,
      payload: joined,
      length: this.#length,
      truncated: this.#truncated || joined.length < this.#length,
      damaged: this.#damaged,
      wireBytes: this.#wire,
      startUs: this.#startUs,
      endUs: m.endUs,
      offset: this.#offset,
    };
    this.#reset();
    this.#verified = true;
    this.#deliver(packet);
  }
}
