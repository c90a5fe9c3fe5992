/**
 * The entries of the TUI store's ring in compact form (compact-codec.ts), by slot: the bytes'
 * place in columns, bodies and other large strings in the bounded side store (part-store.ts).
 *
 * Two ways back to an entry:
 * - entry(slot): the whole entry as it came, a dropped part replaced by a notice saying so (what
 *   the list and the detail pane show);
 * - test(slot, filter): the filter runs on a view of the entry whose top-level fields are decoded
 *   only when the filter reads them (a Proxy that answers like the plain object: same keys, same
 *   order, same values). A dropped part reads as null there, and the pass counts the entries whose
 *   test read one.
 */
import type { CompiledFilter } from '../kfl/api.ts';
import { formatBytes } from '../model/byte-units.ts';
import type { Entry } from '../model/entry.ts';
import { DROPPED_READ, EntryCodec, type Encoded } from './compact-codec.ts';
import { PartStore } from './part-store.ts';
import type { BodyStats } from './store-api.ts';

export class CompactRing {
  readonly #codec = new EntryCodec();
  readonly #parts: PartStore;
  readonly #capacity: number;
  #slab = new Uint32Array(0);
  #offset = new Uint32Array(0);
  #length = new Uint32Array(0);
  /** The side store's nextId after the slot's entry was encoded: its parts are below it. */
  #partEnd = new Float64Array(0);
  /** Entries the codec cannot write (a value JSON does not have), kept as they came. */
  readonly #plain = new Map<number, Entry>();
  readonly #view: LazyEntryView;

  constructor(capacity: number, maxPartBytes: number) {
    this.#capacity = capacity;
    this.#parts = new PartStore(maxPartBytes);
    this.#view = new LazyEntryView(this.#codec, this.#parts);
  }

  get partStats(): BodyStats {
    const p = this.#parts;
    return { heldBytes: p.bytes, budgetBytes: p.budgetBytes, dropped: p.dropped, droppedBytes: p.droppedBytes };
  }

  /** Bytes of the compact rows: slabs, the string table and the location columns. */
  get rowBytes(): number {
    return this.#codec.slabBytes + this.#codec.tableBytes + this.#slab.length * 20;
  }

  set(slot: number, entry: Entry): void {
    if (slot >= this.#slab.length) this.#grow(slot + 1);
    const at = this.#codec.encode(entry, this.#parts);
    if (at === undefined) {
      this.#plain.set(slot, entry);
      this.#length[slot] = 0;
    } else {
      this.#plain.delete(slot);
      this.#slab[slot] = at.slab;
      this.#offset[slot] = at.offset;
      this.#length[slot] = at.length;
    }
    this.#partEnd[slot] = this.#parts.nextId;
  }

  /** The slot's entry leaves the ring (the oldest one: slots leave in the order they were set). */
  clear(slot: number): void {
    if (this.#plain.delete(slot)) {
      this.#parts.releaseBefore(this.#partEnd[slot]!);
      return;
    }
    this.#codec.release(this.#at(slot));
    this.#parts.releaseBefore(this.#partEnd[slot]!);
  }

  entry(slot: number): Entry {
    const plain = this.#plain.get(slot);
    if (plain !== undefined) return plain;
    const budget = this.#parts.budgetBytes;
    return this.#codec.decode(this.#at(slot), this.#parts, (chars) => droppedNotice(chars, budget)) as Entry;
  }

  /** filter.test on the slot's entry, reading only what the filter reads. */
  test(slot: number, filter: CompiledFilter): boolean {
    const plain = this.#plain.get(slot);
    if (plain !== undefined) return filter.test(plain);
    return this.#view.test(this.#at(slot), filter);
  }

  /** Entries whose test read a dropped part since the last call (a re-filter's count). */
  takeDroppedReads(): number {
    return this.#view.takeDroppedReads();
  }

  #at(slot: number): Encoded {
    return { slab: this.#slab[slot]!, offset: this.#offset[slot]!, length: this.#length[slot]! };
  }

  #grow(atLeast: number): void {
    const size = Math.min(this.#capacity, Math.max(atLeast, 1024, this.#slab.length * 2));
    const u32 = (old: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
      const next = new Uint32Array(size);
      next.set(old);
      return next;
    };
    this.#slab = u32(this.#slab);
    this.#offset = u32(this.#offset);
    this.#length = u32(this.#length);
    const ends = new Float64Array(size);
    ends.set(this.#partEnd);
    this.#partEnd = ends;
  }
}

/** What the detail pane shows in place of a body the side store dropped: what, why, what to do. */
export function droppedNotice(chars: number, budgetBytes: number): string {
  return `[dropped: a ${formatBytes(chars)} body or value, not kept — the TUI keeps the newest ${formatBytes(budgetBytes)} ` +
    `of bodies and drops older ones first; to keep every body, write the traffic with -o json to a file and read it back]`;
}

/**
 * A Proxy over one encoded entry at a time, re-pointed for each test (one Proxy for a whole pass).
 * It answers every read KFL makes (get, has, own keys and their descriptors) as the plain entry
 * would; writes are refused (the filter only reads).
 */
class LazyEntryView {
  readonly #codec: EntryCodec;
  readonly #parts: PartStore;
  readonly #proxy: object;
  #at: Encoded = { slab: 0, offset: 0, length: 0 };
  #keys: readonly string[] = [];
  readonly #offsets: number[] = [];
  readonly #values: unknown[] = [];
  readonly #decoded: boolean[] = [];
  #droppedReads = 0;

  constructor(codec: EntryCodec, parts: PartStore) {
    this.#codec = codec;
    this.#parts = parts;
    const target = {};
    const view = this;
    this.#proxy = new Proxy(target, {
      get(t, key, receiver) {
        if (typeof key === 'string') {
          const i = view.#keys.indexOf(key);
          if (i >= 0) return view.#value(i);
        }
        return Reflect.get(t, key, receiver);
      },
      has(t, key) {
        return (typeof key === 'string' && view.#keys.includes(key)) || Reflect.has(t, key);
      },
      ownKeys() {
        return [...view.#keys];
      },
      getOwnPropertyDescriptor(_t, key) {
        const i = typeof key === 'string' ? view.#keys.indexOf(key) : -1;
        if (i < 0) return undefined;
        return { value: view.#value(i), writable: true, enumerable: true, configurable: true };
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
      setPrototypeOf: () => false,
    });
  }

  test(at: Encoded, filter: CompiledFilter): boolean {
    this.#at = at;
    this.#keys = this.#codec.rootLayout(at, this.#offsets);
    for (let i = 0; i < this.#keys.length; i++) this.#decoded[i] = false;
    this.#codec.droppedSeen = 0;
    const matched = filter.test(this.#proxy as Entry);
    if (this.#codec.droppedSeen > 0) this.#droppedReads++;
    return matched;
  }

  takeDroppedReads(): number {
    const n = this.#droppedReads;
    this.#droppedReads = 0;
    return n;
  }

  #value(i: number): unknown {
    if (this.#decoded[i]) return this.#values[i];
    let v = this.#codec.decodeAt(this.#at, this.#offsets[i]!, this.#parts, () => null);
    // A top-level value that is itself a dropped part (NDJSON can put anything there).
    if (v === DROPPED_READ) {
      this.#codec.droppedSeen++;
      v = null;
    }
    this.#values[i] = v;
    this.#decoded[i] = true;
    return v;
  }
}
