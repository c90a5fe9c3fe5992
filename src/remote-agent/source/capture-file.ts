/**
 * Streaming reader for capture files (pcap and pcapng, told apart by their first 4 bytes).
 *
 * A push parser with constant memory: records that lie wholly inside a pushed chunk are handled in
 * place (frames are views into the chunk), and only the bytes of a record that straddles two
 * chunks are copied, into one reusable buffer no larger than the largest record. The file is never
 * accumulated.
 */
import { SharkError } from '../../model/errors.ts';
import type { CaptureStats } from '../stats.ts';
import type { CaptureSink } from './frame.ts';
import { PcapReader, pcapMagic } from './pcap.ts';
import { PcapngReader, isPcapngMagic } from './pcapng.ts';
import type { RecordFormat } from './record-format.ts';

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureEnd {
  /** The file ended inside a record (or with a partial record header). */
  readonly truncated: boolean;
  /** Bytes of that unfinished record. */
  readonly trailingBytes: number;
}

const MAGIC_BYTES = 4;

export class CaptureFileParser {
  readonly #sink: CaptureSink;
  readonly #stats: CaptureStats;
  #format: CaptureFormat | null = null;
  #reader: RecordFormat | null = null;
  /** Bytes of the record that straddles chunks. */
  #pending = new Uint8Array(64);
  #pendingLen = 0;
  /** Length of the pending record once its header was seen; -1 while only part of the header is. */
  #pendingRecordLen = -1;
  #failure: SharkError | null = null;

  constructor(sink: CaptureSink, stats: CaptureStats) {
    this.#sink = sink;
    this.#stats = stats;
  }

  get format(): CaptureFormat | null {
    return this.#format;
  }

  push(chunk: Uint8Array): void {
    if (this.#failure !== null) throw this.#failure;
    try {
      this.#push(asPlainBytes(chunk));
    } catch (err) {
      // After a format error the stream position is meaningless: every later call repeats it.
      if (err instanceof SharkError) this.#failure = err;
      throw err;
    }
  }

  end(): CaptureEnd {
    if (this.#failure !== null) throw this.#failure;
    const reader = this.#reader;
    if (reader === null) {
      throw new SharkError(
        'CAPTURE_NOT_A_CAPTURE',
        this.#pendingLen === 0 ? 'empty input: not a capture file' : `only ${this.#pendingLen} bytes: not a capture file`,
        { bytes: this.#pendingLen },
      );
    }
    if (!reader.started) {
      throw new SharkError('CAPTURE_NOT_A_CAPTURE', `the ${this.#format} file header is cut short`, {
        bytes: this.#pendingLen,
      });
    }
    return { truncated: this.#pendingLen > 0, trailingBytes: this.#pendingLen };
  }

  #push(chunk: Uint8Array): void {
    let off = 0;
    if (this.#reader === null) {
      const take = Math.min(MAGIC_BYTES - this.#pendingLen, chunk.length);
      this.#append(chunk, 0, take);
      off = take;
      if (this.#pendingLen < MAGIC_BYTES) return;
      this.#reader = this.#detect(this.#pending);
    }
    if (this.#pendingLen > 0) {
      off = this.#completePending(chunk, off);
      if (off < 0) return;
    }

    const reader = this.#reader;
    const n = chunk.length;
    // Fast path: whole records inside this chunk, no copies.
    while (n - off >= reader.headerBytes) {
      const len = reader.recordLength(chunk, off);
      if (len > n - off) {
        this.#pendingRecordLen = len;
        break;
      }
      reader.record(chunk, off, len);
      off += len;
    }
    if (off < n) this.#append(chunk, off, n);
  }

  /**
   * Feeds `chunk[off..]` into the pending record; returns where the chunk continues after that
   * record was handled, or -1 when the whole chunk went into a still unfinished record.
   */
  #completePending(chunk: Uint8Array, off: number): number {
    const reader = this.#reader as RecordFormat;
    if (this.#pendingRecordLen < 0) {
      const need = reader.headerBytes;
      const take = Math.min(need - this.#pendingLen, chunk.length - off);
      this.#append(chunk, off, off + take);
      off += take;
      if (this.#pendingLen < need) return -1;
      this.#pendingRecordLen = reader.recordLength(this.#pending, 0);
    }
    const recordLen = this.#pendingRecordLen;
    const take = Math.min(recordLen - this.#pendingLen, chunk.length - off);
    this.#append(chunk, off, off + take);
    off += take;
    if (this.#pendingLen < recordLen) return -1;
    this.#pendingLen = 0;
    this.#pendingRecordLen = -1;
    reader.record(this.#pending, 0, recordLen);
    return off;
  }

  #append(chunk: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const needed = this.#pendingLen + n;
    if (needed > this.#pending.length) {
      const grown = new Uint8Array(Math.max(needed, this.#pending.length * 2));
      grown.set(this.#pending.subarray(0, this.#pendingLen));
      this.#pending = grown;
    }
    this.#pending.set(chunk.subarray(start, end), this.#pendingLen);
    this.#pendingLen = needed;
  }

  #detect(b: Uint8Array): RecordFormat {
    const magic = pcapMagic(b, 0);
    if (magic !== null) {
      this.#format = 'pcap';
      return new PcapReader(this.#sink, this.#stats, magic);
    }
    if (isPcapngMagic(b, 0)) {
      this.#format = 'pcapng';
      return new PcapngReader(this.#sink, this.#stats);
    }
    const hex = Array.from(b.subarray(0, MAGIC_BYTES), (x) => x.toString(16).padStart(2, '0')).join('');
    throw new SharkError('CAPTURE_NOT_A_CAPTURE', `not a pcap or pcapng file (starts with 0x${hex})`, { magic: hex });
  }
}

/** Reads a whole capture from a stream of chunks (a file stream, stdin). */
export async function readCaptureStream(
  input: AsyncIterable<Uint8Array>,
  sink: CaptureSink,
  stats: CaptureStats,
): Promise<{ truncated: boolean; format: CaptureFormat }> {
  const parser = new CaptureFileParser(sink, stats);
  for await (const chunk of input) parser.push(chunk);
  const { truncated } = parser.end();
  return { truncated, format: parser.format as CaptureFormat };
}

/**
 * Frames are handed out as plain Uint8Array views, never Buffer views: later stages copy what they
 * keep with `.slice()`, which copies on a Uint8Array but only makes another view on a Buffer, and a
 * view would pin the whole input chunk (megabytes) for as long as one segment is held.
 */
function asPlainBytes(chunk: Uint8Array): Uint8Array {
  return Buffer.isBuffer(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : chunk;
}
