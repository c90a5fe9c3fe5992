/**
 * Writes lines to a stream with backpressure, in chunks: lines are encoded into a 64 KiB buffer
 * that goes to the stream when it is full, at `end()`, or on the next turn of the event loop
 * (setImmediate), so live output still leaves within one turn. `drained()` returns a promise only
 * when the stream asked us to wait. A closed reader (EPIPE, `| head`) ends output quietly:
 * `closed` turns true and further lines are discarded.
 *
 * Why chunks (issue 17, `read -o json`): one write per line cost a syscall and a string-to-UTF-8
 * copy per entry; `writeJson` also lets the UTF-8 encoder's byte count prove a line pure ASCII, so
 * the terminal-safety check of stringifyJson needs no scan of its own in the common case.
 */
import { Buffer } from 'node:buffer';
import type { Writable } from 'node:stream';
import { terminalSafeJson } from '../../model/terminal-text.ts';

/** Bytes per write to the stream; a longer line is written alone. */
export const CHUNK_BYTES = 64 * 1024;
/**
 * Below this fill a flush sends a copy and keeps the buffer (live output: a line per turn);
 * above it the buffer itself goes and a new one is taken.
 */
const COPY_BELOW_BYTES = 8 * 1024;
const NEWLINE = 0x0a;
/**
 * Spare room the fast path asks for beyond one byte per UTF-16 unit: the newline, and the up to
 * 3 bytes of a character Buffer#write could not fit. With that room, a count of bytes written
 * equal to the text's length means the whole text went in and every unit was one byte (ASCII).
 */
const FAST_PATH_SLACK = 4;

export class LineWriter {
  #out: Writable;
  #waiting: Promise<void> | undefined;
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Bytes of #chunk holding lines not yet handed to the stream. */
  #used = 0;
  #flushScheduled = false;
  closed = false;
  /** Lines writeOrDrop let go because the reader was too far behind. */
  dropped = 0;

  constructor(out: Writable) {
    this.#out = out;
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        this.closed = true;
        return;
      }
      throw err;
    });
  }

  /** One line as given (the newline is added). */
  write(line: string): void {
    if (this.closed) return;
    if (!this.#appendAscii(line, false)) this.#append(line);
  }

  /**
   * One NDJSON line: the bytes of `stringifyJson(value) + "\n"` (JSON.stringify, with DEL, C1 and
   * U+2028/U+2029 escaped for terminals), without stringifyJson's separate scans for pure-ASCII text.
   */
  writeJson(value: object): void {
    if (this.closed) return;
    const json = JSON.stringify(value);
    if (!this.#appendAscii(json, true)) this.#append(terminalSafeJson(json));
  }

  /**
   * For live sources, which cannot be paused: writes the line unless more than `budgetBytes` are
   * already waiting for the reader (in the stream or in this writer's chunk), in which case the
   * line is dropped (counted in `dropped`). Memory stays bounded however slow the reader is.
   */
  writeOrDrop(line: string, budgetBytes: number): boolean {
    if (!this.#hasRoom(budgetBytes)) return false;
    this.write(line);
    return true;
  }

  /** writeJson for live sources: as writeOrDrop, the value is dropped (counted) past the budget. */
  writeJsonOrDrop(value: object, budgetBytes: number): boolean {
    if (!this.#hasRoom(budgetBytes)) return false;
    this.writeJson(value);
    return true;
  }

  /** False (a line counted dropped) when closed or more than `budgetBytes` wait for the reader. */
  #hasRoom(budgetBytes: number): boolean {
    if (this.closed) return false;
    if (this.#out.writableLength + this.#used > budgetBytes) {
      this.dropped++;
      return false;
    }
    return true;
  }

  /** A promise while the stream's buffer is full, else undefined (no await needed). */
  drained(): Promise<void> | undefined {
    return this.#waiting;
  }

  async end(): Promise<void> {
    this.#flush();
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.#out.write('', () => resolve());
    });
  }

  /**
   * The common case in one pass: encodes `text` straight into the chunk and keeps it when the
   * byte count shows it was pure ASCII (and, for JSON, holds no DEL: the one ASCII character a
   * terminal acts on that JSON.stringify leaves raw). False when the slow path must redo it.
   */
  #appendAscii(text: string, json: boolean): boolean {
    if (text.length + FAST_PATH_SLACK > this.#chunk.length - this.#used) return false;
    const written = this.#chunk.write(text, this.#used, 'utf8');
    if (written !== text.length || (json && text.indexOf('\u007f') !== -1)) return false;
    this.#used += written;
    this.#chunk[this.#used++] = NEWLINE;
    this.#scheduleFlush();
    return true;
  }

  /** Any text: measured first, so a line that does not fit goes after a flush, or alone. */
  #append(text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8') + 1;
    if (bytes > this.#chunk.length - this.#used) this.#flush();
    if (bytes > this.#chunk.length) {
      this.#send(Buffer.from(`${text}\n`, 'utf8'));
      return;
    }
    this.#used += this.#chunk.write(text, this.#used, 'utf8');
    this.#chunk[this.#used++] = NEWLINE;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#used === 0) return;
    let data: Buffer;
    if (this.#used < COPY_BELOW_BYTES) {
      data = Buffer.from(this.#chunk.subarray(0, this.#used));
    } else {
      // The stream may keep the buffer until its write completes: it is the stream's now.
      data = this.#chunk.subarray(0, this.#used);
      this.#chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    }
    this.#used = 0;
    if (this.closed) return;
    this.#send(data);
  }

  #send(data: Buffer): void {
    if (this.#out.write(data) || this.#waiting !== undefined) return;
    this.#waiting = new Promise<void>((resolve) => {
      const done = (): void => {
        this.#out.off('drain', done);
        this.#out.off('close', done);
        this.#waiting = undefined;
        resolve();
      };
      this.#out.on('drain', done);
      this.#out.on('close', done);
    });
  }
}
