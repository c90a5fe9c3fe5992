/**
 * Releases entries in request-start order. Dissectors emit an entry when its response completes,
 * so a slow response leaves earlier-started entries behind later ones. Entries wait here until no
 * unfinished request older than them remains (the watermark), within a bounded buffer: past the
 * bound the oldest is released early and counted as `reorderOverflow`.
 */
import type { Entry } from '../model/entry.ts';
import { descriptorOf } from '../remote-agent/dissect/descriptors.ts';

export interface OrderLimits {
  readonly maxEntries: number;
  /** Approximate bytes of kept bodies held while waiting. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_ORDER_LIMITS: OrderLimits = Object.freeze({ maxEntries: 50_000, maxBodyBytes: 64 * 1024 * 1024 });

/** Sort key: startTime has a fixed-width ISO form with microseconds, so strings compare as times. */
function before(a: Entry, b: Entry): boolean {
  if (a.startTime !== b.startTime) return a.startTime < b.startTime;
  return compareIds(a.id, b.id) < 0;
}

/**
 * Ids are `<connection>-<ordinal>`, a UDP flow's with a letter before its number (`u3-0`): TCP
 * connections first, then flows, each numerically so "10-0" follows "9-0". A total order, so ties
 * in start time come out the same way every run.
 */
const ID = /^(\D*)(\d+)-(\d+)$/;

function compareIds(a: string, b: string): number {
  const x = ID.exec(a);
  const y = ID.exec(b);
  if (x === null || y === null) return x !== null ? -1 : y !== null ? 1 : a < b ? -1 : a > b ? 1 : 0;
  if (x[1] !== y[1]) return x[1]! < y[1]! ? -1 : 1;
  return Number(x[2]) - Number(y[2]) || Number(x[3]) - Number(y[3]);
}

/** What an entry holds in memory, roughly: its kept payload text (its descriptor counts it) and the rest. */
function keptBytes(entry: Entry): number {
  let payload = 0;
  try {
    payload = descriptorOf(entry)?.heldChars?.(entry) ?? 0;
  } catch {
    // fields of other types than the dissector writes: the fixed part only
  }
  return payload + 512;
}

export class TimestampOrderer {
  #heap: Entry[] = [];
  /** keptBytes of the entry at the same place in #heap, so it is worked out once per entry. */
  #sizes: number[] = [];
  #heldBytes = 0;
  #limits: OrderLimits;
  #release: (entry: Entry) => void;
  #overflow = 0;

  constructor(release: (entry: Entry) => void, limits: Partial<OrderLimits> = {}) {
    this.#release = release;
    this.#limits = { ...DEFAULT_ORDER_LIMITS, ...limits };
  }

  get held(): number {
    return this.#heap.length;
  }

  /** Entries released early because the buffer was full. */
  get overflow(): number {
    return this.#overflow;
  }

  push(entry: Entry): void {
    const size = keptBytes(entry);
    this.#heap.push(entry);
    this.#sizes.push(size);
    this.#heldBytes += size;
    this.#siftUp(this.#heap.length - 1);
    while (this.#heap.length > this.#limits.maxEntries || this.#heldBytes > this.#limits.maxBodyBytes) {
      this.#overflow++;
      this.#releaseTop();
    }
  }

  /** Releases every held entry that started before `watermarkUs` (capture time, µs). */
  releaseBefore(watermarkUs: number): void {
    const limitMs = watermarkUs / 1000;
    while (this.#heap.length > 0 && this.#heap[0]!.timestamp < limitMs) this.#releaseTop();
  }

  releaseAll(): void {
    while (this.#heap.length > 0) this.#releaseTop();
  }

  #releaseTop(): void {
    const heap = this.#heap;
    const sizes = this.#sizes;
    const top = heap[0]!;
    this.#heldBytes -= sizes[0]!;
    const last = heap.pop()!;
    const lastSize = sizes.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      sizes[0] = lastSize;
      this.#siftDown(0);
    }
    this.#release(top);
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    const sizes = this.#sizes;
    const e = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = e;
    const n = sizes[i]!;
    sizes[i] = sizes[j]!;
    sizes[j] = n;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
