/**
 * Writes agent frames as NDJSON to stdout without ever blocking capture. Node queues writes to a
 * pipe in memory when the reader is slow; this writer bounds that queue: past `budgetBytes` queued,
 * entry frames are dropped and counted (capture goes on), small frames (stats, notices) still go
 * out until a hard cap, so the consumer learns what was lost once it reads again.
 */
import type { Writable } from 'node:stream';
import type { Entry } from '../../model/entry.ts';
import { stringifyJson } from '../../model/terminal-text.ts';
import type { AgentFrame } from '../wire/protocol.ts';

/** Small frames may exceed the entry budget by this much before they too are skipped. */
const SMALL_FRAME_HEADROOM = 1024 * 1024;
/**
 * Lines are joined and handed to the stream in batches: one write per entry cost a third of the
 * agent's busy time at 10k entries/s (string conversion and a syscall each). A batch goes out at
 * the end of the current event-loop turn, or earlier once it holds this many characters.
 */
const BATCH_CHARS = 64 * 1024;

export interface FrameWriterEvents {
  /** The reader went away (EPIPE or another write error): nothing more can be delivered. */
  closed(error: Error): void;
}

export class FrameWriter {
  readonly #out: Writable;
  #budgetBytes: number;
  readonly #events: FrameWriterEvents;
  readonly #now: () => number;
  #closed = false;
  #sent = 0;
  #dropped = 0;
  /** Characters handed to the stream in all (Writable counts string chunks in characters). */
  #handedChars = 0;
  #batch: string[] = [];
  #batchChars = 0;
  #flushScheduled = false;
  #takenChars = 0;
  #lastProgressMs: number;

  constructor(out: Writable, budgetBytes: number, events: FrameWriterEvents, now: () => number = Date.now) {
    this.#out = out;
    this.#budgetBytes = budgetBytes;
    this.#events = events;
    this.#now = now;
    this.#lastProgressMs = now();
    out.on('error', (err: Error) => this.#close(err));
    out.on('close', () => this.#close(new Error('stdout closed')));
  }

  /** Entry frames written (handed to the stream). */
  get sent(): number {
    return this.#sent;
  }

  /** Entry frames dropped because the queue was over budget. */
  get dropped(): number {
    return this.#dropped;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes handed to stdout that the reader has not taken yet. */
  get queuedBytes(): number {
    return this.#out.writableLength + this.#batchChars;
  }

  /** Lowered under memory pressure, restored after. */
  set budgetBytes(bytes: number) {
    this.#budgetBytes = bytes;
  }

  get budgetBytes(): number {
    return this.#budgetBytes;
  }

  /**
   * Milliseconds the reader has taken nothing while output was waiting; 0 when it keeps up.
   * Progress is what left the queue since the last call, so call it periodically.
   */
  stalledForMs(): number {
    this.#flushBatch();
    const now = this.#now();
    const taken = this.#handedChars - this.#out.writableLength;
    if (this.#out.writableLength === 0 || taken > this.#takenChars) {
      this.#takenChars = taken;
      this.#lastProgressMs = now;
      return 0;
    }
    return now - this.#lastProgressMs;
  }

  /**
   * Queues an entry frame (with the request's TCP sequence number when known: see EntryFrame), or
   * drops and counts it when the reader is too far behind.
   */
  entry(entry: Entry, requestSeq?: number): boolean {
    if (this.#closed || this.queuedBytes >= this.#budgetBytes) {
      this.#dropped++;
      return false;
    }
    // Terminal-safe JSON (DEL and C1 escaped too): run by hand, the agent writes to a terminal.
    const seq = requestSeq === undefined ? '' : `,"requestSeq":${requestSeq}`;
    this.#write(`{"type":"entry","entry":${stringifyJson(entry)}${seq}}\n`);
    this.#sent++;
    return true;
  }

  /** Counts an entry dropped before it reached the writer (memory pressure). */
  countDropped(): void {
    this.#dropped++;
  }

  /** Stats, notices, hello, bye: written unless even the headroom above the budget is used up. */
  frame(frame: AgentFrame): boolean {
    if (this.#closed || this.queuedBytes >= this.#budgetBytes + SMALL_FRAME_HEADROOM) return false;
    this.#write(`${stringifyJson(frame)}\n`);
    return true;
  }

  /** Resolves once everything queued has been taken by the reader, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean> {
    this.#flushBatch();
    if (this.#closed) return Promise.resolve(false);
    if (this.#out.writableLength === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.#out.off('drain', onDrain);
        resolve(ok);
      };
      const onDrain = (): void => {
        if (this.#out.writableLength === 0) done(true);
      };
      const timer = setTimeout(() => done(this.#out.writableLength === 0), timeoutMs);
      this.#out.on('drain', onDrain);
    });
  }

  #write(line: string): void {
    this.#batch.push(line);
    this.#batchChars += line.length;
    if (this.#batchChars >= BATCH_CHARS) this.#flushBatch();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flushBatch());
    }
  }

  #flushBatch(): void {
    this.#flushScheduled = false;
    if (this.#batch.length === 0) return;
    const chunk = this.#batch.length === 1 ? this.#batch[0] : this.#batch.join('');
    this.#batch = [];
    this.#batchChars = 0;
    if (this.#closed) return;
    try {
      this.#handedChars += chunk.length;
      this.#out.write(chunk);
    } catch (err) {
      this.#close(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #close(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.closed(err);
  }
}
