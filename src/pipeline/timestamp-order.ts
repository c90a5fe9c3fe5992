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

/** Released slots at the front of the queue are dropped in one go once there are this many (and half). */
const COMPACT_AFTER = 1024;

/**
 * Held entries in one array sorted by `before`, the next to release at #head. Why not a heap
 * (issue 17: the heap was 5% of `read -o json` on small-packet captures): entries come out of the
 * dissectors almost in start order (a response finishing before an earlier-started one's), so a
 * new entry belongs at or near the end. It is placed by a gallop back from the end and a binary
 * search within the last step: a few comparisons where a heap made about two per level on every
 * push and release. Releasing is O(1). An entry far out of order costs a splice (a memmove of at
 * most `maxEntries` pointers), so the work per entry stays bounded.
 */
export class TimestampOrderer {
  /** Held entries, sorted, from #head on; slots before #head are released (undefined). */
  #queue: (Entry | undefined)[] = [];
  /** keptBytes of the entry at the same place in #queue, so it is worked out once per entry. */
  #sizes: number[] = [];
  #head = 0;
  #heldBytes = 0;
  #limits: OrderLimits;
  #release: (entry: Entry) => void;
  #overflow = 0;

  constructor(release: (entry: Entry) => void, limits: Partial<OrderLimits> = {}) {
    this.#release = release;
    this.#limits = { ...DEFAULT_ORDER_LIMITS, ...limits };
  }

  get held(): number {
    return this.#queue.length - this.#head;
  }

  /** Entries released early because the buffer was full. */
  get overflow(): number {
    return this.#overflow;
  }

  push(entry: Entry): void {
    const size = keptBytes(entry);
    const at = this.#placeOf(entry);
    if (at === this.#queue.length) {
      this.#queue.push(entry);
      this.#sizes.push(size);
    } else {
      this.#queue.splice(at, 0, entry);
      this.#sizes.splice(at, 0, size);
    }
    this.#heldBytes += size;
    while (this.held > this.#limits.maxEntries || this.#heldBytes > this.#limits.maxBodyBytes) {
      this.#overflow++;
      this.#releaseTop();
    }
  }

  /**
   * Releases every held entry that certainly started before `watermarkUs` (capture time, µs).
   * An entry's `timestamp` is its start in whole milliseconds (rounded down), so an entry of
   * millisecond T is released only once the watermark reaches T + 1 ms: one stamped in the same
   * millisecond as a request still pending may have started after it, and a pending request of
   * .822232 must come out before an entry of .822917 (both 822 ms).
   */
  releaseBefore(watermarkUs: number): void {
    const limitMs = Math.floor(watermarkUs / 1000);
    while (this.#head < this.#queue.length && Math.floor(this.#queue[this.#head]!.timestamp) < limitMs) this.#releaseTop();
  }

  releaseAll(): void {
    while (this.#head < this.#queue.length) this.#releaseTop();
  }

  /**
   * Where `entry` goes: after every held entry not after it (entries never compare equal: ids
   * differ). Galloping back from the end (1, 2, 4, ... places) finds the step it lies in, then a
   * binary search finds its place there.
   */
  #placeOf(entry: Entry): number {
    const queue = this.#queue;
    const head = this.#head;
    let hi = queue.length;
    if (hi === head || !before(entry, queue[hi - 1]!)) return hi;
    // queue[hi - 1] is after entry; find lo with queue[lo - 1] not after it (or lo = head).
    let step = 1;
    let lo: number;
    for (;;) {
      const probe = hi - 1 - step;
      if (probe < head) {
        lo = head;
        break;
      }
      if (!before(entry, queue[probe]!)) {
        lo = probe + 1;
        break;
      }
      hi = probe + 1;
      step *= 2;
    }
    hi -= 1;
    // The place is in [lo, hi]: queue[hi] is after entry, queue[lo - 1] (if any) is not.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(entry, queue[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #releaseTop(): void {
    const queue = this.#queue;
    const top = queue[this.#head]!;
    this.#heldBytes -= this.#sizes[this.#head]!;
    queue[this.#head] = undefined;
    this.#head++;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#sizes.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= queue.length) {
      queue.splice(0, this.#head);
      this.#sizes.splice(0, this.#head);
      this.#head = 0;
    }
    this.#release(top);
  }
}
