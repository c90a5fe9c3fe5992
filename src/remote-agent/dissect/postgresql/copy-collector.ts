/**
 * COPY data of one direction (CopyData messages): lines and bytes counted, the data kept as text up
 * to --max-body. Text and CSV COPY send one row per line
 * (binary COPY's lines mean nothing; its bytes still count); control bytes are escaped.
 */
import type { PostgresqlCopy } from './entry.ts';
import { escapeControls } from './wire-reader.ts';

export class CopyCollector {
  readonly #max: number;
  /** Its own decoder: a character split across two CopyData messages is decoded whole. */
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  #rows = 0;
  #bytes = 0;
  #kept: string[] = [];
  #keptChars = 0;
  #truncated = false;
  #failure: string | undefined;
  /** The last bytes seen (up to 4), to tell the text format's end marker line from a row. */
  #tail: number[] = [];

  constructor(maxBodyBytes: number) {
    this.#max = maxBodyBytes;
  }

  /** One CopyData payload (`bytes`, maybe cut short), `length` bytes on the wire. */
  data(bytes: Uint8Array, length: number): void {
    this.#bytes += length;
    for (const b of bytes) if (b === 0x0a) this.#rows++;
    for (const b of bytes.subarray(Math.max(0, bytes.length - 4))) {
      this.#tail.push(b);
      if (this.#tail.length > 4) this.#tail.shift();
    }
    if (bytes.length < length) this.#truncated = true;
    const room = this.#max - this.#keptChars;
    if (room <= 0) {
      if (length > 0) this.#truncated = true;
      return;
    }
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    if (part.length < bytes.length) this.#truncated = true;
    const text = this.#decoder.decode(part, { stream: true });
    this.#kept.push(text);
    this.#keptChars += part.length;
  }

  fail(message: string): void {
    this.#failure = message;
  }

  finish(): PostgresqlCopy {
    // psql ends COPY FROM STDIN data with the `\.` line of the text format: a marker, not a row.
    const t = this.#tail;
    const marker = t.length >= 3 && t[t.length - 3] === 0x5c && t[t.length - 2] === 0x2e && t[t.length - 1] === 0x0a && (t.length === 3 ? this.#bytes === 3 : t[0] === 0x0a);
    return {
      rows: marker ? this.#rows - 1 : this.#rows,
      bytes: this.#bytes,
      data: escapeControls(this.#kept.join('')),
      truncated: this.#truncated,
      ...(this.#failure === undefined ? {} : { failure: this.#failure }),
    };
  }
}
