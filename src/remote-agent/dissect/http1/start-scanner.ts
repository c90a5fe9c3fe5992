/**
 * Finds where the next message starts in one direction: right here at a message boundary
 * (strict: anything else is garbage, RFC 9112 §2.2 blank lines aside), or after an LF while
 * resynchronising (after a gap, an error, or a capture that began mid-connection). A candidate
 * start line cut by the chunk end is carried (copied) to the next chunk.
 */
import { checkMessageStart, findStartLine, findStatusLine, knownMethodAt, type StartKind } from './start-line.ts';

export type AcceptedKinds = 'any' | StartKind;

export interface StartFound {
  /** The chunk, or the carried bytes joined with it. */
  readonly bytes: Uint8Array;
  readonly offset: number;
  /**
   * Where the start line begins relative to the chunk given to scan(): `offset` itself, or less
   * when `bytes` begins with carried bytes (negative when the start line began in an earlier chunk).
   */
  readonly chunkOffset: number;
  /** Capture time of the start line's first byte. */
  readonly startUs: number;
}

const LF = 0x0a;
const CR = 0x0d;

export class MessageStartScanner {
  readonly #onGarbage: (reason: string) => void;
  #accept: AcceptedKinds = 'any';
  /** A message must begin right here (false while resynchronising). */
  #strict: boolean;
  /** Resynchronising: is the next byte at the start of a line? */
  #atLineStart = true;
  /** Nothing has been looked at yet: the stream start is a likely boundary even without a SYN. */
  #streamStart = true;
  #carry: Uint8Array | null = null;
  #carryUs = 0;
  /** Added to an offset in the bytes being scanned to make it relative to scan()'s chunk. */
  #toChunk = 0;

  constructor(atBoundary: boolean, onGarbage: (reason: string) => void) {
    this.#strict = atBoundary;
    this.#onGarbage = onGarbage;
  }

  setAccepted(kinds: AcceptedKinds): void {
    this.#accept = kinds;
  }

  /** Look for the next start line after an LF (or right here when `atLineStart`). */
  resync(atLineStart: boolean): void {
    this.#strict = false;
    this.#streamStart = false;
    this.#atLineStart = atLineStart;
    this.#carry = null;
  }

  /** The stream ended: a carried partial start line at a boundary is a truncated message. */
  end(): void {
    if (this.#carry !== null && this.#strict) this.#onGarbage('connection ended inside a start line');
    this.#carry = null;
  }

  /** Capture time of a carried partial start line; Infinity when none. */
  pendingStartUs(): number {
    return this.#carry === null ? Infinity : this.#carryUs;
  }

  /** Returns the next start line, or null when the bytes are used up (a partial one is carried). */
  scan(bytes: Uint8Array, pos: number, nowUs: number): StartFound | null {
    if (this.#carry === null) {
      this.#toChunk = 0;
      return this.#scan(bytes, pos, nowUs, nowUs);
    }
    const joined = Buffer.concat([this.#carry, bytes.subarray(pos)]);
    this.#toChunk = pos - this.#carry.length;
    this.#carry = null;
    return this.#scan(joined, 0, this.#carryUs, nowUs);
  }

  #accepts(kind: StartKind): boolean {
    return this.#accept === 'any' || this.#accept === kind;
  }

  /** `firstUs`: capture time of bytes[pos]; `nowUs`: of the current chunk. */
  #scan(bytes: Uint8Array, pos: number, firstUs: number, nowUs: number): StartFound | null {
    const len = bytes.length;
    if (this.#strict) {
      while (pos < len && (bytes[pos] === CR || bytes[pos] === LF)) pos++;
      if (pos === len) return null;
      const r = checkMessageStart(bytes, pos, len);
      if (r === 'more') return this.#keepCarry(bytes, pos, firstUs, nowUs);
      if (r !== 'no' && this.#accepts(r)) return this.#found(bytes, pos, firstUs, nowUs);
      this.#onGarbage('garbage where a message should start');
      this.resync(false);
    }
    if (this.#streamStart) {
      // Lenient request lines are allowed here too, but nothing else counts as an error.
      this.#streamStart = false;
      const r = checkMessageStart(bytes, pos, len);
      if (r === 'more') {
        this.#streamStart = true;
        return this.#keepCarry(bytes, pos, firstUs, nowUs);
      }
      if (r !== 'no' && this.#accepts(r)) {
        // The capture may have joined inside a request line, or right after a body's last bytes.
        const at = r === 'request' ? knownMethodAt(bytes, pos, len) : pos;
        if (at >= 0) return this.#found(bytes, at, firstUs, nowUs);
      }
      // Not known to be a line start either: look after the next LF.
      this.#atLineStart = false;
    }
    if (this.#accept === 'response') return this.#scanResponses(bytes, pos, firstUs, nowUs);
    for (;;) {
      const found = findStartLine(bytes, pos, len, this.#atLineStart, (k) => this.#accepts(k));
      if (found === null || found.offset === len) {
        this.#atLineStart = found !== null;
        return null;
      }
      if (found.result === 'more') return this.#keepCarry(bytes, found.offset, firstUs, nowUs);
      const at = found.result === 'request' ? knownMethodAt(bytes, found.offset, len) : found.offset;
      if (at >= 0) return this.#found(bytes, at, firstUs, nowUs);
      // A request line with a method nobody registered, found while resynchronising: more likely
      // a body line than a request. Go on after it.
      pos = found.offset;
      this.#atLineStart = false;
    }
  }

  /** Resynchronising a direction that carries responses: the next status line, wherever it begins. */
  #scanResponses(bytes: Uint8Array, pos: number, firstUs: number, nowUs: number): StartFound | null {
    const found = findStatusLine(bytes, pos, bytes.length);
    if (found === null) return null;
    if (found.result === 'more') return this.#keepCarry(bytes, found.offset, firstUs, nowUs);
    return this.#found(bytes, found.offset, firstUs, nowUs);
  }

  #keepCarry(bytes: Uint8Array, pos: number, firstUs: number, nowUs: number): null {
    // A candidate begins a line, so the joined bytes are checked from their first byte.
    this.#atLineStart = true;
    this.#carry = bytes.slice(pos);
    this.#carryUs = pos === 0 ? firstUs : nowUs;
    return null;
  }

  #found(bytes: Uint8Array, offset: number, firstUs: number, nowUs: number): StartFound {
    this.#streamStart = false;
    this.#strict = true; // once this message ends, the next one must follow right away
    // At offset 0 the first byte may be a carried one (earlier chunk); later ones are this chunk's.
    return { bytes, offset, chunkOffset: offset + this.#toChunk, startUs: offset === 0 ? firstUs : nowUs };
  }
}
