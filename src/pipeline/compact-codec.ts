/**
 * The compact form of an entry the TUI store keeps: the entry's JSON-like value tree written as
 * bytes into shared slabs, with repeated strings (names, addresses, methods, header names and
 * values) and object key lists stored once in bounded tables and referenced by number. An entry
 * costs a few hundred bytes this way instead of the ~1.4 KB of a tree of objects (Node builds V8
 * without pointer compression: every object is 24 bytes plus 8 per field).
 *
 * Large strings (bodies, and any other string of LARGE_PART_CHARS or more) are not written into
 * the slab: the caller keeps them in a side store bounded by bytes (part-store.ts) and the slab
 * holds their number. Decoding a part the side store no longer has gives `dropped` instead.
 *
 * The root object is written with the byte length of each of its values, so one top-level field
 * (`response`, `src`) can be decoded without the rest: what a filter reads is all it pays for.
 *
 * The value rules are those of JSON plus `undefined` (kept as an own key) and every number
 * (-0, NaN, non-integers as float64); object key order is kept. Values of any other kind (class
 * instances, functions, bigint) make encode() return undefined: the caller keeps such an entry as
 * it is.
 */

const TAG_NULL = 0;
const TAG_UNDEFINED = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_UINT = 4;
const TAG_NEG_INT = 5;
const TAG_FLOAT = 6;
const TAG_STRING_ID = 7;
const TAG_ASCII = 8;
const TAG_UTF16 = 9;
const TAG_OBJECT = 10;
const TAG_ARRAY = 11;
const TAG_PART = 12;
const TAG_ROOT = 13;
/** An object whose key list is not in the shape table (it is full): n, then key/value pairs. */
const TAG_LOOSE_OBJECT = 14;
/** A repeated small object or array, by number in the tree table. */
const TAG_TREE_ID = 15;
/** Before TAG_OBJECT or TAG_LOOSE_OBJECT: the object has no prototype (Object.create(null)). */
const TAG_BARE = 16;

/** Strings this long or longer go to the side store. */
export const LARGE_PART_CHARS = 1024;
/** Only strings up to this length are interned (longer ones are rarely repeated exactly). */
const MAX_INTERNED_CHARS = 96;
/** Bounds of the tables: hostile traffic with unique values fills them, then values are written inline. */
const MAX_STRINGS = 1 << 18;
const MAX_SHAPES = 1 << 16;
const MAX_TREES = 1 << 16;
/** Objects and arrays whose bytes are this short are candidates for the tree table. */
const MAX_TREE_BYTES = 96;
/**
 * A value is interned the second time it is seen: the first sightings are remembered by hash in a
 * direct-mapped table of this many slots (a newer value may take an older one's slot, which only
 * delays interning it).
 */
const SEEN_SLOTS = 1 << 16;
const SLAB_BYTES = 1 << 22;

/** Where a large part went: the side store gives it a number, or refuses it (dropped at once). */
export interface PartSink {
  put(text: string): number;
}

/** What a decoder gives for a part: the text, or undefined when the side store dropped it. */
export interface PartSource {
  get(id: number): string | undefined;
}

/** Location of an encoded entry: slab number and byte range. */
export interface Encoded {
  readonly slab: number;
  readonly offset: number;
  readonly length: number;
}

class NotEncodable extends Error {}

/** First sightings by hash (see SEEN_SLOTS): true when `hash` was seen before, and remembers it. */
class SeenFilter {
  readonly #slots = new Int32Array(SEEN_SLOTS);

  seenBefore(hash: number): boolean {
    const slot = hash & (SEEN_SLOTS - 1);
    // 0 marks an empty slot, so a hash of 0 counts as 1.
    const mark = hash | 0 || 1;
    if (this.#slots[slot] === mark) return true;
    this.#slots[slot] = mark;
    return false;
  }
}

/** Interned strings, bounded; a string is interned once it repeats. */
class StringTable {
  readonly strings: string[] = [];
  readonly #ids = new Map<string, number>();
  readonly #seen = new SeenFilter();

  stringId(s: string): number {
    if (s.length > MAX_INTERNED_CHARS) return -1;
    const id = this.#ids.get(s);
    if (id !== undefined) return id;
    if (this.strings.length >= MAX_STRINGS || !this.#seen.seenBefore(stringHash(s))) return -1;
    const fresh = this.strings.length;
    this.strings.push(s);
    this.#ids.set(s, fresh);
    return fresh;
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.strings) n += 16 + s.length;
    return n;
  }
}

function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * Per value site (a key of an object shape) a small cache of the table ids written there before,
 * GUESS_SLOTS numbers per key, -1 for none. Entries of one source look alike: the value at
 * `response.headers` is most often a shape, tree or string seen at that place before, and checking
 * a candidate (a few `===` or a byte compare) costs far less than the lookups by hash it saves.
 * Candidates are picked by a cheap key (length and a few characters, or the low bits of the
 * tree's hash), so a site with a handful of values (methods, a pool of addresses) keeps them all.
 */
const GUESS_SHAPE = 0;
/** Strings at this site that were not interned, in a row (see SKIP_STREAK). */
const GUESS_MISSES = 1;
/** The same for small objects and arrays not shared through the tree table. */
const GUESS_TREE_MISSES = 2;
const GUESS_TREE = 3;
const TREE_WAYS = 8;
const GUESS_STRING = GUESS_TREE + TREE_WAYS;
const STRING_WAYS = 16;
const GUESS_SLOTS = GUESS_STRING + STRING_WAYS;
/** Shapes beyond this many have no guesses (bounds their memory under hostile traffic). */
const MAX_GUESSING_SHAPES = 4096;
/**
 * A site whose strings (or small subtrees) were not interned this many times in a row holds unique
 * values (ids, times): it then looks them up only one time in SKIP_EVERY, which is enough to
 * notice a change (a value seen again only between those looks is simply written inline: the
 * tables are about size, never about meaning).
 */
const SKIP_STREAK = 64;
const SKIP_EVERY = 16;

/** Key lists of objects, bounded; found through a trie of keys (no joined string per lookup). */
class ShapeTable {
  readonly shapes: (readonly string[])[] = [];
  /** By shape id: the guesses of its keys' sites (see GUESS_SLOTS); undefined past MAX_GUESSING_SHAPES. */
  readonly guesses: (Int32Array | undefined)[] = [];

  /** shapeId(keys), trying `guess` first (an id given before, or -1). */
  shapeIdGuessing(keys: readonly string[], guess: number): number {
    if (guess >= 0) {
      const known = this.shapes[guess]!;
      if (known.length === keys.length) {
        let same = true;
        for (let i = 0; i < keys.length; i++) {
          if (known[i] !== keys[i]) {
            same = false;
            break;
          }
        }
        if (same) return guess;
      }
    }
    return this.shapeId(keys);
  }
  readonly #root: ShapeNode = { next: new Map(), id: -1 };

  shapeId(keys: readonly string[]): number {
    let node = this.#root;
    for (let i = 0; i < keys.length; i++) {
      let child = node.next.get(keys[i]!);
      if (child === undefined) {
        if (this.shapes.length >= MAX_SHAPES) return -1;
        child = { next: new Map(), id: -1 };
        node.next.set(keys[i]!, child);
      }
      node = child;
    }
    if (node.id < 0) {
      if (this.shapes.length >= MAX_SHAPES) return -1;
      node.id = this.shapes.length;
      this.shapes.push(Object.freeze([...keys]));
      this.guesses.push(node.id < MAX_GUESSING_SHAPES ? siteGuesses(keys.length) : undefined);
    }
    return node.id;
  }
}

/** The miss count after one more, wrapping back to SKIP_STREAK (a multiple of SKIP_EVERY) long before Int32 ends. */
function nextMiss(misses: number): number {
  return misses >= 0x3fffff00 ? SKIP_STREAK : misses + 1;
}

function siteGuesses(keys: number): Int32Array {
  const g = new Int32Array(keys * GUESS_SLOTS).fill(-1);
  for (let i = 0; i < keys; i++) {
    g[i * GUESS_SLOTS + GUESS_MISSES] = 0;
    g[i * GUESS_SLOTS + GUESS_TREE_MISSES] = 0;
  }
  return g;
}

interface ShapeNode {
  readonly next: Map<string, ShapeNode>;
  id: number;
}

/**
 * Repeated small subtrees (a protocol object, a server's endpoint, `{}` cookies, a common header
 * map), stored once as bytes, by the same second-sighting rule and bound as strings. A filter
 * reads the one frozen decoded copy; the detail pane gets a fresh copy.
 */
class TreeTable {
  readonly bytes: Uint8Array[] = [];
  readonly shared: unknown[] = [];
  /** By a hash of the bytes; a colliding subtree is simply not shared. */
  readonly #ids = new Map<number, number>();
  readonly #seen = new SeenFilter();

  /** treeId, trying the site's candidates first (see GUESS_SLOTS) and remembering the answer there. */
  treeIdGuessing(buf: Uint8Array, start: number, end: number, guesses: Int32Array, site: number): number {
    const hash = fnv1a(buf, start, end);
    const way = site + GUESS_TREE + (hash & (TREE_WAYS - 1));
    const guess = guesses[way]!;
    if (guess >= 0 && sameBytes(this.bytes[guess]!, buf, start, end)) return guess;
    const misses = guesses[site + GUESS_TREE_MISSES]!;
    if (misses >= SKIP_STREAK && misses % SKIP_EVERY !== 0) {
      guesses[site + GUESS_TREE_MISSES] = nextMiss(misses);
      return -1;
    }
    const id = this.#treeIdByHash(buf, start, end, hash);
    if (id >= 0) {
      guesses[way] = id;
      guesses[site + GUESS_TREE_MISSES] = 0;
    } else {
      guesses[site + GUESS_TREE_MISSES] = nextMiss(misses);
    }
    return id;
  }

  treeId(buf: Uint8Array, start: number, end: number): number {
    return this.#treeIdByHash(buf, start, end, fnv1a(buf, start, end));
  }

  #treeIdByHash(buf: Uint8Array, start: number, end: number, hash: number): number {
    const id = this.#ids.get(hash);
    if (id !== undefined) return sameBytes(this.bytes[id]!, buf, start, end) ? id : -1;
    if (this.bytes.length >= MAX_TREES || !this.#seen.seenBefore(hash)) return -1;
    const fresh = this.bytes.length;
    this.bytes.push(buf.slice(start, end));
    this.shared.push(NOT_DECODED);
    this.#ids.set(hash, fresh);
    return fresh;
  }

  get size(): number {
    let n = 0;
    for (const b of this.bytes) n += 64 + b.length;
    return n;
  }
}

function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

const NOT_DECODED = Symbol('not decoded');

/** Growable scratch buffer an entry is written into before it is copied to a slab. */
class Writer {
  buf = new Uint8Array(4096);
  pos = 0;
  readonly #f64 = new Float64Array(1);
  readonly #f64Bytes = new Uint8Array(this.#f64.buffer);

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** Unsigned integer up to 2^53, 7 bits a byte. */
  varint(n: number): void {
    this.reserve(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  float(n: number): void {
    this.reserve(8);
    this.#f64[0] = n;
    this.buf.set(this.#f64Bytes, this.pos);
    this.pos += 8;
  }
}

/** Encodes entries into slabs and decodes them back; one per store. */
export class EntryCodec {
  readonly #strings = new StringTable();
  readonly #shapes = new ShapeTable();
  readonly #trees = new TreeTable();
  /** Whether a decode may return the tree table's shared frozen values (the filter's reads). */
  #shared = false;
  /** A part was written in the current subtree: such a subtree is never shared. */
  #partWritten = false;
  #writer = new Writer();
  /** The root shape of the entry before: most often this one's too. */
  #rootShape = -1;
  /** The root's values are written here first, so their lengths can precede them. */
  #scratch = new Writer();
  /** Slabs by number; a freed slab's place is undefined (slabs are freed oldest first). */
  readonly #slabs: (Uint8Array | undefined)[] = [];
  /** Entries still held in each slab. */
  readonly #live: number[] = [];
  #slabPos = 0;
  #slabBytes = 0;
  readonly #f64 = new Float64Array(1);
  readonly #f64Bytes = new Uint8Array(this.#f64.buffer);

  // Decoder state (one decode at a time; decoding never calls out).
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #parts: PartSource = { get: () => undefined };
  #dropped: (bytes: number) => unknown = () => null;
  /**
   * Dropped parts a filter actually read (the caller resets it): in a filter's decode, a dropped
   * part is a getter that counts when read and gives null, so a filter that never reads the body
   * (`response.status`) counts nothing.
   */
  droppedSeen = 0;
  readonly #countDropped = (): null => {
    this.droppedSeen++;
    return null;
  };

  /** Bytes of slabs held now, tables excluded. */
  get slabBytes(): number {
    return this.#slabBytes;
  }

  /** Approximate bytes of the string and tree tables (they grow to their bounds, then stay). */
  get tableBytes(): number {
    return this.#strings.bytes + this.#trees.size;
  }

  /** The entry's bytes in a slab, or undefined when it holds a value JSON does not have. */
  encode(entry: object, parts: PartSink): Encoded | undefined {
    const w = this.#writer;
    w.pos = 0;
    try {
      this.#writeRoot(entry, parts);
    } catch (err) {
      if (err instanceof NotEncodable) return undefined;
      throw err;
    }
    return this.#store(w.buf.subarray(0, w.pos));
  }

  /** The entry at `at` has left the store: its slab is freed with the last entry in it. */
  release(at: Encoded): void {
    if (--this.#live[at.slab]! > 0 || at.slab === this.#slabs.length - 1) return;
    this.#slabBytes -= this.#slabs[at.slab]!.length;
    this.#slabs[at.slab] = undefined;
  }

  /** The whole entry, parts the side store dropped replaced by dropped(their size). */
  decode(at: Encoded, parts: PartSource, dropped: (chars: number) => unknown): unknown {
    this.#begin(at, parts, dropped);
    this.#shared = false;
    return this.#read();
  }

  /**
   * The root's keys, with the byte offset of each value written into `offsets` (reused by the
   * caller: a re-filter of 1M entries allocates nothing here).
   */
  rootLayout(at: Encoded, offsets: number[]): readonly string[] {
    this.#buf = this.#slabs[at.slab]!;
    this.#pos = at.offset;
    if (this.#buf[this.#pos++] !== TAG_ROOT) throw new Error('compact entry: no root');
    const keys = this.#shapes.shapes[this.#varint()]!;
    for (let i = 0; i < keys.length; i++) offsets[i] = this.#varint();
    let start = this.#pos;
    for (let i = 0; i < keys.length; i++) {
      const length = offsets[i]!;
      offsets[i] = start;
      start += length;
    }
    return keys;
  }

  /**
   * One value of the entry at `offset` (from rootLayout), for reading only: repeated subtrees come
   * as one shared frozen object.
   */
  decodeAt(at: Encoded, offset: number, parts: PartSource, dropped: (chars: number) => unknown): unknown {
    this.#buf = this.#slabs[at.slab]!;
    this.#pos = offset;
    this.#parts = parts;
    this.#dropped = dropped;
    this.#shared = true;
    return this.#read();
  }

  #begin(at: Encoded, parts: PartSource, dropped: (chars: number) => unknown): void {
    this.#buf = this.#slabs[at.slab]!;
    this.#pos = at.offset;
    this.#parts = parts;
    this.#dropped = dropped;
  }

  #store(bytes: Uint8Array): Encoded {
    let slab = this.#slabs.length - 1;
    let current = this.#slabs[slab];
    if (current === undefined || this.#slabPos + bytes.length > current.length) {
      current = new Uint8Array(Math.max(SLAB_BYTES, bytes.length));
      this.#slabs.push(current);
      this.#live.push(0);
      this.#slabBytes += current.length;
      // The slab given up on is freed now if everything in it already left.
      if (slab >= 0 && this.#live[slab] === 0 && this.#slabs[slab] !== undefined) {
        this.#slabBytes -= this.#slabs[slab]!.length;
        this.#slabs[slab] = undefined;
      }
      slab++;
      this.#slabPos = 0;
    }
    current.set(bytes, this.#slabPos);
    const at = { slab, offset: this.#slabPos, length: bytes.length };
    this.#slabPos += bytes.length;
    this.#live[slab]!++;
    return at;
  }

  #writeRoot(entry: object, parts: PartSink): void {
    // A root without a prototype is kept as it is (the lazy view answers as an ordinary object).
    if (Object.getPrototypeOf(entry) !== Object.prototype) throw new NotEncodable();
    const keys = Object.keys(entry);
    const shape = this.#shapes.shapeIdGuessing(keys, this.#rootShape);
    if (shape < 0) throw new NotEncodable(); // the shape table is full: kept as it is
    this.#rootShape = shape;
    const guesses = this.#shapes.guesses[shape];
    const values = Object.values(entry);
    const lengths: number[] = new Array(keys.length);
    const main = this.#writer;
    const scratch = this.#scratch;
    scratch.pos = 0;
    this.#writer = scratch;
    try {
      for (let i = 0; i < keys.length; i++) {
        const before = scratch.pos;
        this.#write(values[i], parts, 1, guesses, i * GUESS_SLOTS);
        lengths[i] = scratch.pos - before;
      }
    } finally {
      this.#writer = main;
    }
    main.byte(TAG_ROOT);
    main.varint(shape);
    for (const n of lengths) main.varint(n);
    main.reserve(scratch.pos);
    main.buf.set(scratch.buf.subarray(0, scratch.pos), main.pos);
    main.pos += scratch.pos;
  }

  /**
   * Writes one value. `guesses` and `site` are where the ids last written at this value's place
   * are kept (see GUESS_SLOTS); array elements have none (undefined).
   */
  #write(v: unknown, parts: PartSink, depth: number, guesses: Int32Array | undefined, site: number): void {
    const w = this.#writer;
    if (depth > 200) throw new NotEncodable(); // deeper than any entry: kept as it is
    switch (typeof v) {
      case 'string':
        return this.#writeString(v, parts, guesses, site);
      case 'number':
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
          if (v >= 0) {
            w.byte(TAG_UINT);
            w.varint(v);
          } else {
            w.byte(TAG_NEG_INT);
            w.varint(-v);
          }
        } else {
          w.byte(TAG_FLOAT);
          w.float(v);
        }
        return;
      case 'boolean':
        return w.byte(v ? TAG_TRUE : TAG_FALSE);
      case 'undefined':
        return w.byte(TAG_UNDEFINED);
      case 'object': {
        if (v === null) return w.byte(TAG_NULL);
        const start = w.pos;
        const partBefore = this.#partWritten;
        this.#partWritten = false;
        this.#writeContainer(v, parts, depth, guesses, site);
        const hasPart = this.#partWritten;
        this.#partWritten = partBefore || hasPart;
        if (!hasPart && w.pos - start <= MAX_TREE_BYTES) {
          const id = guesses === undefined
            ? this.#trees.treeId(w.buf, start, w.pos)
            : this.#trees.treeIdGuessing(w.buf, start, w.pos, guesses, site);
          if (id >= 0) {
            w.pos = start;
            w.byte(TAG_TREE_ID);
            w.varint(id);
          }
        }
        return;
      }
      default:
        throw new NotEncodable();
    }
  }

  #writeContainer(v: object, parts: PartSink, depth: number, guesses: Int32Array | undefined, site: number): void {
    const w = this.#writer;
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) throw new NotEncodable();
      w.byte(TAG_ARRAY);
      w.varint(v.length);
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) throw new NotEncodable(); // a hole is not JSON
        this.#write(v[i], parts, depth + 1, undefined, 0);
      }
      if (Object.keys(v).length !== v.length) throw new NotEncodable(); // extra keys on an array
      return;
    }
    if (!isPlainObject(v)) throw new NotEncodable();
    const keys = Object.keys(v);
    const shapes = this.#shapes;
    let shape: number;
    if (guesses === undefined) shape = shapes.shapeId(keys);
    else {
      shape = shapes.shapeIdGuessing(keys, guesses[site + GUESS_SHAPE]!);
      if (shape >= 0) guesses[site + GUESS_SHAPE] = shape;
    }
    const obj = v as Record<string, unknown>;
    if (Object.getPrototypeOf(v) === null) w.byte(TAG_BARE);
    if (shape >= 0) {
      w.byte(TAG_OBJECT);
      w.varint(shape);
    } else {
      w.byte(TAG_LOOSE_OBJECT);
      w.varint(keys.length);
    }
    const values = Object.values(obj);
    const childGuesses = shape < 0 ? undefined : shapes.guesses[shape];
    for (let i = 0; i < keys.length; i++) {
      if (shape < 0) this.#writeString(keys[i]!, NO_PARTS, undefined, 0);
      this.#write(values[i], parts, depth + 1, childGuesses, i * GUESS_SLOTS);
    }
  }

  #writeString(s: string, parts: PartSink, guesses: Int32Array | undefined, site: number): void {
    const w = this.#writer;
    if (s.length >= LARGE_PART_CHARS && parts !== NO_PARTS) {
      this.#partWritten = true;
      w.byte(TAG_PART);
      w.varint(parts.put(s));
      w.varint(s.length);
      return;
    }
    const id = guesses === undefined ? this.#strings.stringId(s) : this.#stringIdGuessing(s, guesses, site);
    if (id >= 0) {
      w.byte(TAG_STRING_ID);
      w.varint(id);
      return;
    }
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      w.byte(TAG_ASCII);
      w.varint(s.length);
      w.reserve(s.length);
      for (let i = 0; i < s.length; i++) w.buf[w.pos++] = s.charCodeAt(i);
    } else {
      w.byte(TAG_UTF16);
      w.varint(s.length);
      w.reserve(s.length * 2);
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        w.buf[w.pos++] = c & 0xff;
        w.buf[w.pos++] = c >> 8;
      }
    }
  }

  /** stringId(s), trying the site's candidates first (see GUESS_SLOTS) and remembering the answer there. */
  #stringIdGuessing(s: string, guesses: Int32Array, site: number): number {
    const n = s.length;
    if (n === 0 || n > MAX_INTERNED_CHARS) return this.#strings.stringId(s);
    const way = site + GUESS_STRING + ((n * 7 + s.charCodeAt(n - 1) * 3 + s.charCodeAt(n >> 1)) & (STRING_WAYS - 1));
    const guess = guesses[way]!;
    if (guess >= 0 && this.#strings.strings[guess] === s) return guess;
    const misses = guesses[site + GUESS_MISSES]!;
    if (misses >= SKIP_STREAK && misses % SKIP_EVERY !== 0) {
      guesses[site + GUESS_MISSES] = nextMiss(misses);
      return -1;
    }
    const id = this.#strings.stringId(s);
    if (id >= 0) {
      guesses[way] = id;
      guesses[site + GUESS_MISSES] = 0;
    } else {
      guesses[site + GUESS_MISSES] = nextMiss(misses);
    }
    return id;
  }

  /**
   * `o[key] = v`, except that a key named `__proto__` becomes an own key as JSON.parse makes it,
   * and a dropped part a filter may read becomes a getter that counts the read.
   */
  #setOwn(o: Record<string, unknown>, key: string, v: unknown): void {
    if (v === DROPPED_READ) Object.defineProperty(o, key, { get: this.#countDropped, enumerable: true, configurable: true });
    else if (key === '__proto__') Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
    else o[key] = v;
  }

  #varint(): number {
    const buf = this.#buf;
    let b = buf[this.#pos++]!;
    if (b < 0x80) return b;
    let n = b & 0x7f;
    let scale = 0x80;
    for (;;) {
      b = buf[this.#pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  #read(): unknown {
    const buf = this.#buf;
    const tag = buf[this.#pos++];
    switch (tag) {
      case TAG_NULL: return null;
      case TAG_UNDEFINED: return undefined;
      case TAG_FALSE: return false;
      case TAG_TRUE: return true;
      case TAG_UINT: return this.#varint();
      case TAG_NEG_INT: return -this.#varint();
      case TAG_FLOAT: {
        for (let i = 0; i < 8; i++) this.#f64Bytes[i] = buf[this.#pos + i]!;
        this.#pos += 8;
        return this.#f64[0];
      }
      case TAG_STRING_ID: return this.#strings.strings[this.#varint()];
      case TAG_ASCII: {
        const n = this.#varint();
        const start = this.#pos;
        this.#pos += n;
        return asciiString(buf, start, n);
      }
      case TAG_UTF16: {
        const n = this.#varint();
        let s = '';
        for (let i = 0; i < n; i += 4096) {
          const m = Math.min(4096, n - i);
          const units = new Array<number>(m);
          for (let k = 0; k < m; k++) units[k] = buf[this.#pos + 2 * (i + k)]! | (buf[this.#pos + 2 * (i + k) + 1]! << 8);
          s += String.fromCharCode(...units);
        }
        this.#pos += 2 * n;
        return s;
      }
      case TAG_BARE: {
        const o = this.#read() as Record<string, unknown>;
        return Object.setPrototypeOf(o, null) as unknown;
      }
      case TAG_OBJECT: {
        const keys = this.#shapes.shapes[this.#varint()]!;
        const o: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) this.#setOwn(o, keys[i]!, this.#read());
        return o;
      }
      case TAG_LOOSE_OBJECT: {
        const n = this.#varint();
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.#read() as string;
          this.#setOwn(o, key, this.#read());
        }
        return o;
      }
      case TAG_ARRAY: {
        const n = this.#varint();
        const a: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) this.#setOwn(a as unknown as Record<string, unknown>, String(i), this.#read());
        return a;
      }
      case TAG_PART: {
        const id = this.#varint();
        const chars = this.#varint();
        const text = this.#parts.get(id);
        if (text !== undefined) return text;
        return this.#shared ? DROPPED_READ : this.#dropped(chars);
      }
      case TAG_TREE_ID: {
        const id = this.#varint();
        const trees = this.#trees;
        if (this.#shared && trees.shared[id] !== NOT_DECODED) return trees.shared[id];
        const savedBuf = this.#buf;
        const savedPos = this.#pos;
        this.#buf = trees.bytes[id]!;
        this.#pos = 0;
        const value = this.#read();
        this.#buf = savedBuf;
        this.#pos = savedPos;
        if (this.#shared) trees.shared[id] = deepFreeze(value);
        return value;
      }
      case TAG_ROOT: {
        const keys = this.#shapes.shapes[this.#varint()]!;
        for (let i = 0; i < keys.length; i++) this.#varint(); // the value lengths
        const o: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) this.#setOwn(o, keys[i]!, this.#read());
        return o;
      }
      default:
        throw new Error(`compact entry: unknown tag ${String(tag)} at ${this.#pos - 1}`);
    }
  }
}

const NO_PARTS: PartSink = { put: () => -1 };

function deepFreeze(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** What a filter's decode gives for a dropped part, before #setOwn makes it a counting getter. */
export const DROPPED_READ = Symbol('dropped part');

function asciiString(buf: Uint8Array, start: number, n: number): string {
  if (n <= 64) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(buf[start + i]!);
    return s;
  }
  let s = '';
  for (let i = 0; i < n; i += 4096) s += String.fromCharCode(...buf.subarray(start + i, start + Math.min(n, i + 4096)));
  return s;
}
