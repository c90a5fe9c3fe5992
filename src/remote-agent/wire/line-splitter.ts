/**
 * Splits a byte stream into UTF-8 lines with a bound on line length, so a peer that never sends a
 * newline cannot grow the agent's memory: an over-long line is skipped up to its end and reported.
 */
export interface LineEvents {
  line(text: string): void;
  /** A line longer than the limit was dropped (its length so far, in bytes). */
  overlong(bytes: number): void;
}

export class LineSplitter {
  readonly #maxBytes: number;
  readonly #events: LineEvents;
  #parts: Uint8Array[] = [];
  #size = 0;
  #skipping = false;
  readonly #decoder = new TextDecoder();

  constructor(maxBytes: number, events: LineEvents) {
    this.#maxBytes = maxBytes;
    this.#events = events;
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      this.#take(chunk.subarray(start, end));
      if (nl === -1) return;
      this.#finishLine();
      start = nl + 1;
    }
  }

  /** End of input: a last line without a newline still counts. */
  end(): void {
    if (this.#size > 0 || this.#skipping) this.#finishLine();
  }

  #take(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (!this.#skipping && this.#size + piece.length > this.#maxBytes) {
      this.#skipping = true;
      this.#parts = [];
    }
    this.#size += piece.length;
    if (!this.#skipping) this.#parts.push(piece.slice());
  }

  #finishLine(): void {
    if (this.#skipping) {
      this.#events.overlong(this.#size);
    } else {
      const bytes = this.#parts.length === 1 ? this.#parts[0] : concat(this.#parts, this.#size);
      const text = this.#decoder.decode(bytes).replace(/\r$/, '');
      if (text.trim() !== '') this.#events.line(text);
    }
    this.#parts = [];
    this.#size = 0;
    this.#skipping = false;
  }
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
