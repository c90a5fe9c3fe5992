/**
 * A double-ended queue of numbers on a power-of-two Float64Array ring. The store keeps its filtered
 * view (sequence numbers of matching entries) and the graph its per-edge latency samples in these:
 * a plain array's shift() is O(n) and boxed numbers cost ~4x the memory of a typed array.
 * Storage starts small and doubles, so memory follows what is held rather than the maximum.
 */
const MIN_CAPACITY = 8;

export class NumberDeque {
  #buf: Float64Array;
  #mask: number;
  #head = 0;
  #length = 0;

  constructor(initialCapacity = MIN_CAPACITY) {
    const cap = powerOfTwoAtLeast(Math.max(MIN_CAPACITY, initialCapacity));
    this.#buf = new Float64Array(cap);
    this.#mask = cap - 1;
  }

  get length(): number {
    return this.#length;
  }

  /** Index 0 is the front (oldest). Undefined outside [0, length). */
  at(index: number): number | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#buf[(this.#head + index) & this.#mask];
  }

  front(): number | undefined {
    return this.#length === 0 ? undefined : this.#buf[this.#head];
  }

  push(value: number): void {
    if (this.#length === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#length) & this.#mask] = value;
    this.#length++;
  }

  shift(): number | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#buf[this.#head];
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return value;
  }

  /** Empties the deque and gives the storage back (a rebuilt view may be much smaller). */
  clear(): void {
    this.#buf = new Float64Array(MIN_CAPACITY);
    this.#mask = MIN_CAPACITY - 1;
    this.#head = 0;
    this.#length = 0;
  }

  /** A sorted copy of the contents (for percentiles). */
  sortedCopy(): Float64Array {
    const buf = this.#buf;
    const end = this.#head + this.#length;
    const out =
      end <= buf.length
        ? buf.slice(this.#head, end)
        : concat(buf.subarray(this.#head), buf.subarray(0, end - buf.length));
    return out.sort();
  }

  #grow(): void {
    const old = this.#buf;
    const next = new Float64Array(old.length * 2);
    // The deque is full here, so its contents are old[head..] followed by old[..head]: two block copies.
    next.set(old.subarray(this.#head));
    next.set(old.subarray(0, this.#head), old.length - this.#head);
    this.#buf = next;
    this.#mask = next.length - 1;
    this.#head = 0;
  }
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function powerOfTwoAtLeast(n: number): number {
  let cap = 1;
  while (cap < n) cap *= 2;
  return cap;
}
