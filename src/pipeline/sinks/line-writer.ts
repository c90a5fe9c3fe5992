/**
 * Writes lines to a stream with backpressure: `write` buffers into the stream, `drained()` returns a
 * promise only when the stream asked us to wait. A closed reader (EPIPE, `| head`) ends output
 * quietly: `closed` turns true and further lines are discarded.
 */
import type { Writable } from 'node:stream';

export class LineWriter {
  #out: Writable;
  #waiting: Promise<void> | undefined;
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

  write(line: string): void {
    if (this.closed) return;
    if (!this.#out.write(line + '\n') && this.#waiting === undefined) {
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

  /**
   * For live sources, which cannot be paused: writes the line unless more than `budgetChars` are
   * already waiting for the reader, in which case the line is dropped (counted in `dropped`).
   * Memory stays bounded however slow the reader is.
   */
  writeOrDrop(line: string, budgetChars: number): boolean {
    if (this.closed) return false;
    if (this.#out.writableLength > budgetChars) {
      this.dropped++;
      return false;
    }
    this.write(line);
    return true;
  }

  /** A promise while the stream's buffer is full, else undefined (no await needed). */
  drained(): Promise<void> | undefined {
    return this.#waiting;
  }

  async end(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.#out.write('', () => resolve());
    });
  }
}
