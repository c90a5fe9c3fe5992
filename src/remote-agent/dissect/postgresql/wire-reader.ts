/**
 * Reads the fields of one PostgreSQL message body: big-endian integers, NUL-terminated strings,
 * length-prefixed byte strings. Never throws: a read past the end marks the reader `short` and
 * returns an empty value, so a truncated or hostile message yields what it holds and a flag.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: false });

export class WireReader {
  readonly #bytes: Uint8Array;
  #at: number;
  /** A read ran past the end of the bytes. */
  short = false;

  constructor(bytes: Uint8Array, at = 0) {
    this.#bytes = bytes;
    this.#at = at;
  }

  get remaining(): number {
    return Math.max(0, this.#bytes.length - this.#at);
  }

  byte(): number {
    if (this.#at >= this.#bytes.length) return this.#fail(0);
    return this.#bytes[this.#at++]!;
  }

  int16(): number {
    if (this.#at + 2 > this.#bytes.length) return this.#fail(0);
    const b = this.#bytes;
    const v = (b[this.#at]! << 8) | b[this.#at + 1]!;
    this.#at += 2;
    return v >= 0x8000 ? v - 0x10000 : v;
  }

  int32(): number {
    if (this.#at + 4 > this.#bytes.length) return this.#fail(0);
    const b = this.#bytes;
    const v = ((b[this.#at]! << 24) | (b[this.#at + 1]! << 16) | (b[this.#at + 2]! << 8) | b[this.#at + 3]!) | 0;
    this.#at += 4;
    return v;
  }

  /** A NUL-terminated string (text as UTF-8, at most `maxChars` kept); "" and short when no NUL. */
  cstring(maxChars = Infinity): string {
    const end = this.#bytes.indexOf(0, this.#at);
    if (end < 0) {
      // A cut message: what is there is the start of the string.
      const text = readText(this.#bytes.subarray(this.#at), maxChars);
      this.#at = this.#bytes.length;
      this.short = true;
      return text;
    }
    const text = readText(this.#bytes.subarray(this.#at, end), maxChars);
    this.#at = end + 1;
    return text;
  }

  /** `n` bytes (fewer, and short, when the message ends first). A view, not a copy. */
  bytes(n: number): Uint8Array {
    const end = Math.min(this.#bytes.length, this.#at + Math.max(0, n));
    const out = this.#bytes.subarray(this.#at, end);
    if (end - this.#at < n) this.short = true;
    this.#at = end;
    return out;
  }

  #fail(v: number): number {
    this.short = true;
    this.#at = this.#bytes.length;
    return v;
  }
}

/** Wire text as a string: UTF-8 (bad bytes replaced), control characters but tab and newlines escaped. */
export function readText(bytes: Uint8Array, maxChars = Infinity): string {
  const cut = bytes.length > maxChars * 4 ? bytes.subarray(0, maxChars * 4) : bytes;
  let text = UTF8.decode(cut);
  if (text.length > maxChars) text = text.slice(0, maxChars);
  return escapeControls(text);
}

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters (not tab, CR, LF) and line separators written as `\xNN`/`\uNNNN`: wire text never drives the terminal. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => (c.charCodeAt(0) > 0xff ? `\\u${c.charCodeAt(0).toString(16)}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
