/**
 * Transfer-Encoding: chunked (RFC 9112 §7.1) as an explicit-state push decoder: chunk-size lines
 * (extensions skipped), chunk data handed out as views, the CRLF after each chunk, and the
 * trailer section (counted, not kept). Chunks may split anywhere.
 */

const Phase = { SIZE: 0, DATA: 1, DATA_END: 2, TRAILERS: 3, DONE: 4, FAILED: 5 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const LF = 0x0a;
const CR = 0x0d;
const MAX_SIZE_LINE = 4096;
/** 13 hex digits stay below 2^53: more is an overflow attempt, not a real chunk. */
const MAX_SIZE_DIGITS = 13;

export class ChunkedBodyDecoder {
  readonly #maxTrailerBytes: number;
  #phase: Phase = Phase.SIZE;
  #size = 0;
  #digits = 0;
  /** Whitespace followed the digits: only whitespace, ';' or the line end may come. */
  #digitsDone = false;
  #inExtension = false;
  #lineLen = 0;
  #lineFirst = 0;
  #remaining = 0;
  #trailerBytes = 0;
  #error: string | null = null;

  constructor(maxTrailerBytes: number) {
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  get done(): boolean {
    return this.#phase === Phase.DONE;
  }

  /** Why the framing broke; null while it is fine. */
  get error(): string | null {
    return this.#error;
  }

  /**
   * Consumes framing and data from `bytes[pos..]`, handing chunk data to `onData`. Returns the new
   * position; stops early at the end of the message or at a framing error.
   */
  push(bytes: Uint8Array, pos: number, onData: (view: Uint8Array) => void): number {
    const len = bytes.length;
    while (pos < len) {
      switch (this.#phase) {
        case Phase.SIZE:
          pos = this.#sizeLine(bytes, pos);
          break;
        case Phase.DATA: {
          const take = Math.min(this.#remaining, len - pos);
          onData(bytes.subarray(pos, pos + take));
          this.#remaining -= take;
          pos += take;
          if (this.#remaining === 0) {
            this.#phase = Phase.DATA_END;
            this.#lineLen = 0;
          }
          break;
        }
        case Phase.DATA_END:
          pos = this.#dataEnd(bytes, pos);
          break;
        case Phase.TRAILERS:
          pos = this.#trailers(bytes, pos);
          break;
        default:
          return pos; // DONE or FAILED
      }
    }
    return pos;
  }

  #fail(reason: string, pos: number): number {
    this.#phase = Phase.FAILED;
    this.#error = reason;
    return pos;
  }

  #sizeLine(bytes: Uint8Array, pos: number): number {
    const len = bytes.length;
    while (pos < len) {
      const b = bytes[pos++];
      if (++this.#lineLen > MAX_SIZE_LINE) return this.#fail('chunk-size line too long', pos);
      if (b === LF) {
        if (this.#digits === 0) return this.#fail('missing chunk size', pos);
        this.#lineLen = 0;
        if (this.#size === 0) this.#phase = Phase.TRAILERS;
        else {
          this.#phase = Phase.DATA;
          this.#remaining = this.#size;
        }
        this.#size = 0;
        this.#digits = 0;
        this.#digitsDone = false;
        this.#inExtension = false;
        return pos;
      }
      if (this.#inExtension || b === CR) continue;
      const h = hexValue(b);
      if (h >= 0 && !this.#digitsDone) {
        if (++this.#digits > MAX_SIZE_DIGITS) return this.#fail('chunk size overflows', pos);
        this.#size = this.#size * 16 + h;
      } else if (b === 0x3b /* ; */) {
        this.#inExtension = true;
      } else if (b === 0x20 || b === 0x09) {
        if (this.#digits > 0) this.#digitsDone = true; // BWS before a chunk-ext
      } else {
        return this.#fail('bad chunk size', pos);
      }
    }
    return pos;
  }

  /** The CRLF (or lone LF) after chunk data. */
  #dataEnd(bytes: Uint8Array, pos: number): number {
    const b = bytes[pos++];
    if (b === LF) {
      this.#phase = Phase.SIZE;
      this.#lineLen = 0;
    } else if (b !== CR || ++this.#lineLen > 1) {
      return this.#fail('chunk data not followed by CRLF', pos);
    }
    return pos;
  }

  /** Field lines until a blank line. */
  #trailers(bytes: Uint8Array, pos: number): number {
    const len = bytes.length;
    const from = pos;
    let lineStart = pos;
    let lf = bytes.indexOf(LF, pos);
    while (lf >= 0) {
      const lineLen = this.#lineLen + (lf - lineStart);
      const first = this.#lineLen > 0 ? this.#lineFirst : bytes[lineStart];
      this.#lineLen = 0;
      if (lineLen === 0 || (lineLen === 1 && first === CR)) {
        this.#phase = Phase.DONE;
        return lf + 1;
      }
      lineStart = lf + 1;
      lf = bytes.indexOf(LF, lineStart);
    }
    if (lineStart < len) {
      if (this.#lineLen === 0) this.#lineFirst = bytes[lineStart];
      this.#lineLen += len - lineStart;
    }
    this.#trailerBytes += len - from;
    if (this.#trailerBytes > this.#maxTrailerBytes) return this.#fail('trailer section too large', len);
    return len;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
