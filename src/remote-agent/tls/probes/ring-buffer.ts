/**
 * The consumer side of a BPF_MAP_TYPE_RINGBUF map, mapped into our memory (kernel/bpf/ringbuf.c):
 *
 *  - offset 0 of the map fd, one page, read-write: consumer_pos, which we advance;
 *  - offset one page, read-only: one page holding producer_pos, then the data pages mapped twice in
 *    a row, so a record that wraps around the end reads as one contiguous range.
 *
 * A record is an 8-byte header (u32 length with the BUSY bit while the producer writes it and the
 * DISCARD bit when it gave it up; u32 page offset for the kernel) and the sample, padded to 8 bytes.
 * Positions only grow; a position's place in the ring is position mod size. The fd is pollable
 * (readable while consumer_pos != producer_pos), so a libuv poll handle drives us from the event
 * loop: no thread, no timer.
 *
 * Positions are read and written with Atomics, which orders them against the plain reads of the
 * sample (x86_64 would keep them in order anyway: live/libc.ts assumes that machine).
 */
import { MAP_FAILED, type Libc, type PollHandle } from '../../live/libc.ts';
import { BpfCallError } from './bpf-syscalls.ts';

/** x86_64's page size (the only machine the agent's FFI supports). */
export const PAGE_SIZE = 4096;
const HEADER_BYTES = 8;
const BUSY_BIT = 0x8000_0000;
const DISCARD_BIT = 0x4000_0000;
const LENGTH_MASK = 0x3fff_ffff;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

export class RingBufferReader {
  readonly #libc: Libc;
  readonly #size: number;
  readonly #consumerAddress: bigint;
  readonly #dataAddress: bigint;
  readonly #dataLength: number;
  readonly #consumerBuffer: ArrayBuffer;
  readonly #dataBuffer: ArrayBuffer;
  readonly #consumerPos: BigUint64Array;
  readonly #producerPos: BigUint64Array;
  readonly #words: Uint32Array;
  /** The whole data mapping, handed to read()'s callback with each sample's offset. */
  readonly #view: DataView;
  #poll: PollHandle | null = null;
  #closed = false;

  private constructor(libc: Libc, size: number, consumerAddress: bigint, dataAddress: bigint) {
    this.#libc = libc;
    this.#size = size;
    this.#consumerAddress = consumerAddress;
    this.#dataAddress = dataAddress;
    this.#dataLength = PAGE_SIZE + 2 * size;
    this.#consumerBuffer = libc.view(consumerAddress, PAGE_SIZE);
    this.#dataBuffer = libc.view(dataAddress, this.#dataLength);
    this.#consumerPos = new BigUint64Array(this.#consumerBuffer, 0, 1);
    this.#producerPos = new BigUint64Array(this.#dataBuffer, 0, 1);
    this.#words = new Uint32Array(this.#dataBuffer);
    this.#view = new DataView(this.#dataBuffer);
  }

  /** Maps the ring of map `fd`, whose max_entries (its data size) is `size` bytes: a power of two, at least a page. */
  static open(libc: Libc, fd: number, size: number): RingBufferReader {
    if (size < PAGE_SIZE || (size & (size - 1)) !== 0) throw new RangeError(`ring size ${size} is not a power of two of at least ${PAGE_SIZE} bytes`);
    const consumer = libc.mmap(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (consumer === MAP_FAILED || consumer === 0n) throw mmapError(libc, 'the consumer page');
    const data = libc.mmap(PAGE_SIZE + 2 * size, PROT_READ, MAP_SHARED, fd, PAGE_SIZE);
    if (data === MAP_FAILED || data === 0n) {
      const err = mmapError(libc, `the ${size}-byte data area`);
      libc.munmap(consumer, PAGE_SIZE);
      throw err;
    }
    return new RingBufferReader(libc, size, consumer, data);
  }

  /** Bytes committed by the producer and not yet consumed (also counts records still being written). */
  pending(): number {
    if (this.#closed) return 0;
    return Number(Atomics.load(this.#producerPos, 0) - Atomics.load(this.#consumerPos, 0));
  }

  /**
   * Hands at most `maxRecords` committed samples, in ring order, to `onSample` (`length` bytes at
   * `offset` of a view of ring memory, valid only during the call: copy what you keep), skips
   * discarded ones, and frees their space. Stops early at a record the producer is still writing.
   * Returns the samples handed over.
   */
  read(maxRecords: number, onSample: (view: DataView, offset: number, length: number) => void): number {
    if (this.#closed) return 0;
    const start = Atomics.load(this.#consumerPos, 0);
    // Positions stay far below 2^53 (that many bytes would take years at any rate): plain numbers.
    let consumer = Number(start);
    let producer = Number(Atomics.load(this.#producerPos, 0));
    let handed = 0;
    try {
      while (handed < maxRecords) {
        if (consumer >= producer) {
          producer = Number(Atomics.load(this.#producerPos, 0));
          if (consumer >= producer) break;
        }
        const headerOffset = PAGE_SIZE + (consumer % this.#size);
        const header = Atomics.load(this.#words, headerOffset >>> 2) >>> 0;
        if ((header & BUSY_BIT) !== 0) break;
        const length = header & LENGTH_MASK;
        if (length + HEADER_BYTES > this.#size) throw new Error(`ring record of ${length} bytes in a ${this.#size}-byte ring at position ${consumer}`);
        consumer += (length + HEADER_BYTES + 7) & ~7;
        if ((header & DISCARD_BIT) !== 0) continue;
        handed += 1;
        onSample(this.#view, headerOffset + HEADER_BYTES, length);
      }
    } finally {
      // Released even when onSample throws: the records before the throw are done with.
      if (consumer !== Number(start)) Atomics.store(this.#consumerPos, 0, BigInt(consumer));
    }
    return handed;
  }

  /** Calls `onReadable` from the event loop while the ring holds data (level-triggered: unread data calls again). */
  startPolling(fd: number, onReadable: () => void): void {
    if (this.#closed || this.#poll !== null) return;
    this.#poll = this.#libc.poll(fd, onReadable);
  }

  /** Stops calling back (the mapping stays until close()). */
  stopPolling(): void {
    this.#poll?.close();
    this.#poll = null;
  }

  /** Stops polling and unmaps; the map fd is its owner's to close. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopPolling();
    for (const buffer of [this.#consumerBuffer, this.#dataBuffer]) {
      try {
        buffer.transfer(0); // stale views then read as empty instead of touching unmapped memory
      } catch {
        /* not detachable: nobody may use the views after close anyway */
      }
    }
    this.#libc.munmap(this.#consumerAddress, PAGE_SIZE);
    this.#libc.munmap(this.#dataAddress, this.#dataLength);
  }
}

function mmapError(libc: Libc, what: string): BpfCallError {
  const errno = libc.errno();
  return new BpfCallError(`mapping ${what} of the BPF ring buffer`, errno, libc.strerror(errno));
}
