/**
 * The tap's de-duplication memory: which pod's agent reported a call first, and under which id,
 * for a window of time and at most so many calls (tap-merge.ts says what a call's key is).
 *
 * Why not one Map from key to sighting, oldest first by insertion order: at 30k entries/s the map
 * holds hundreds of thousands of keys, and a key is a string built per entry (client address,
 * stream position, request line) that the Map must flatten and hash on every lookup and insert, a
 * fifth of the CLI's time per entry. Here calls are found by a number the caller derives from the
 * same fields (the request's TCP sequence number, mostly unique on its own), and the key string is
 * compared only when that number is already known, which is rare (the other end's copy, or two
 * calls whose numbers collide). Expiry and the size bound take the oldest from a FIFO queue, each
 * step O(1). Frames come from pods: calls made to share a number (a hostile agent) cost at most
 * MAX_SHARING key comparisons each, as the oldest of them is forgotten early (at worst a copy of
 * such a call is shown twice).
 */

/** Calls remembered under one number at most. */
export const MAX_SHARING = 8;

export interface Sighting {
  /** The pod ("namespace/pod") whose agent reported the call first. */
  readonly source: string;
  /** When, on the merger's clock (ms). */
  readonly at: number;
  /** The id the kept sighting was handed on under. */
  readonly id: string;
}

interface Slot extends Sighting {
  readonly key: string;
  readonly hash: number;
  /** The next slot of the same hash (collisions). */
  next: Slot | undefined;
  /** False once forgotten (expired, evicted or replaced); its queue place is then skipped. */
  live: boolean;
}

export class CallSightings {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #byHash = new Map<number, Slot>();
  /** Every slot remembered, oldest first; forgotten ones stay until they reach the front. */
  #queue: Array<Slot | undefined> = [];
  #head = 0;
  #size = 0;

  constructor(windowMs: number, maxKeys: number) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  /** Calls remembered now. */
  get size(): number {
    return this.#size;
  }

  /**
   * The sighting of `key` still within the window at `now`, or undefined; forgets what the window
   * has left behind first. `hash` must be the same number whenever `key` is the same string.
   */
  find(key: string, hash: number, now: number): Sighting | undefined {
    this.#expire(now);
    const slot = this.#slot(key, hash);
    return slot !== undefined && now - slot.at < this.#windowMs ? slot : undefined;
  }

  /** Remembers `key` as seen at `sighting.at` (replacing an older sighting of it), within the bounds. */
  remember(key: string, hash: number, sighting: Sighting): void {
    this.#expire(sighting.at);
    const old = this.#slot(key, hash);
    if (old !== undefined) this.#forget(old);
    let sharing = 0;
    let oldest: Slot | undefined;
    for (let s = this.#byHash.get(hash); s !== undefined; s = s.next) {
      sharing++;
      oldest = s;
    }
    if (sharing >= MAX_SHARING && oldest !== undefined) this.#forget(oldest);
    const slot: Slot = { source: sighting.source, at: sighting.at, id: sighting.id, key, hash, next: this.#byHash.get(hash), live: true };
    this.#byHash.set(hash, slot);
    this.#queue.push(slot);
    this.#size++;
    while (this.#size > this.#maxKeys) this.#forget(this.#takeOldest()!);
    this.#compact();
  }

  #slot(key: string, hash: number): Slot | undefined {
    for (let s = this.#byHash.get(hash); s !== undefined; s = s.next) if (s.key === key) return s;
    return undefined;
  }

  /** The oldest live slot, taken off the queue (with the forgotten ones before it). */
  #takeOldest(): Slot | undefined {
    while (this.#head < this.#queue.length) {
      const slot = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (slot?.live === true) return slot;
    }
    return undefined;
  }

  #expire(now: number): void {
    while (this.#head < this.#queue.length) {
      const slot = this.#queue[this.#head];
      if (slot !== undefined && slot.live && now - slot.at < this.#windowMs) return;
      this.#queue[this.#head++] = undefined;
      if (slot?.live === true) this.#forget(slot);
    }
  }

  #forget(slot: Slot): void {
    if (!slot.live) return;
    slot.live = false;
    this.#size--;
    const first = this.#byHash.get(slot.hash);
    if (first === slot) {
      if (slot.next === undefined) this.#byHash.delete(slot.hash);
      else this.#byHash.set(slot.hash, slot.next);
      return;
    }
    for (let s = first; s !== undefined; s = s.next) {
      if (s.next === slot) {
        s.next = slot.next;
        return;
      }
    }
  }

  /**
   * Drops the queue's taken front once it is most of the array, and the forgotten slots once they
   * outnumber the live ones (replaced sightings whose queue places are not at the front yet), so
   * the queue stays within twice the calls remembered.
   */
  #compact(): void {
    const length = this.#queue.length - this.#head;
    if (this.#head > 1024 && this.#head > length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (length > 1024 && length > 2 * this.#size) {
      this.#queue = this.#queue.slice(this.#head).filter((s) => s?.live === true);
      this.#head = 0;
    }
  }
}
