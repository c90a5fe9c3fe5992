/**
 * HPACK header block decoding (RFC 7541) for one direction of an HTTP/2 connection, as a passive
 * observer: the decoder follows the encoder's dynamic table from the blocks it sees, including
 * when the capture joined the connection after the table was filled.
 *
 * Names and values are strings with one char per octet (latin1: char code = byte value), as the
 * HTTP/1 path decodes its header block (http1/head.ts): field bytes are octets, not a Unicode
 * encoding (RFC 9110 §5.5), latin1 maps all 256 byte values one to one, so no byte is lost or
 * merged and a string's length is its size in octets, which HPACK's size accounting counts.
 *
 * ## Following a table the decoder did not see being filled (joined mid-connection)
 *
 * The encoder's dynamic table, newest entry first, is: the entries inserted since the decoder
 * started following (in order), then possibly older entries the decoder never saw. The decoder
 * keeps the first part as `entries` (newest last) and a flag `olderUnknown` for the second.
 *
 * The one thing correctness rests on: every insertion the encoder makes is recorded, in order.
 * Then entry i of `entries` (counted from the newest) is the encoder's entry i, whatever the
 * decoder believes about eviction:
 * - if the decoder evicted more than the encoder (it assumed a smaller table), an index past its
 *   entries fails the block: a lost stream, not a wrong header;
 * - if it evicted less (assumed a larger table), the extra entries sit where the encoder's table
 *   has already ended, so a conforming encoder never refers to them.
 * So neither the table size nor the unknown older entries can make an emitted field wrong. A
 * field is emitted only from the static table, a literal, or a recorded entry whose name and
 * value were both seen; a block that refers to anything else (an older entry, or an entry whose
 * name came from one) fails as a whole and none of its fields is emitted (fail closed). An
 * insertion whose name came from an unknown entry is recorded as a placeholder: its value is
 * known, its name is not; it keeps the positions of the entries behind it right, and a reference
 * to it fails the block.
 *
 * When a block cannot be parsed to its end (truncated, bad integer, bad Huffman string, a size
 * update where none may be), the insertions after the fault are lost: the recorded entries no
 * longer sit at known positions, so all of them are dropped and the state is that of a decoder
 * that just joined (`olderUnknown`). This is the only way state is lost.
 *
 * The table is known in full (`synchronised`) when no older unknown entry can remain and no
 * placeholder is left. Older unknown entries are gone for certain when:
 * (a) a size update sets the table size below the smallest entry (0 in practice): it is empty;
 * (b) the recorded entries alone exceed a certain upper bound of the table size (at an insertion
 *     or a size update): the encoder evicts oldest first, so every older entry went before any
 *     recorded one. Placeholders count with the smallest size they can have (value + 32), which
 *     keeps this test certain.
 * The upper bound is certain after a size update (it sets the size), or after the peer's
 * SETTINGS_HEADER_TABLE_SIZE was seen acknowledged (setMaxTableSize): the encoder's table never
 * exceeds it from its next block on. A decoder that joined knows neither; it evicts as if the
 * table had the default 4096 bytes (RFC 9113 §6.5.2), or the limit from a SETTINGS once seen,
 * which bounds memory and, by the argument above, cannot make a field wrong, but it claims (b)
 * only with a certain bound. A size update
 * above 4096 when no SETTINGS was seen is then believed (the peer may have raised the limit
 * before the capture began), up to TABLE_BYTES_CAP for memory.
 *
 * Blocks that use only the static table and literals (most first requests on a connection, and
 * any block after a size update to 0) decode whatever the table holds. Encoders often name a new
 * entry from the previous entry of that name (nghttp2 does, for a changing x-request-id), so once
 * such a name is unknown every later one is too: a decoder that joined a long-lived connection may
 * never decode some of its blocks. Those fail (the connection counts their streams as lost).
 *
 * What the decoder cannot see: a block it is never given. It relies on getting every header block
 * of its direction whole, in order; a connection that lost bytes of that direction must replace it
 * with a decoder created `synchronised: false`.
 */
import { huffmanDecode } from './huffman.ts';

export interface HpackField {
  readonly name: string;
  readonly value: string;
  /** Sent as "literal never indexed" (RFC 7541 §6.2.3): intermediaries must keep it literal; often a secret. */
  readonly neverIndexed?: boolean;
}

export type HpackResult =
  | { readonly ok: true; readonly fields: readonly HpackField[] }
  | {
      readonly ok: false;
      readonly reason: string;
      /** the decoder's table state is no longer known: later blocks fail until it recovers */
      readonly desynchronised: boolean;
    };

export interface HpackDecoderOptions {
  /** Default true: the decoder starts with the connection (empty table). False: joined mid-connection. */
  readonly synchronised?: boolean;
  /** Decoded header list size (names, values, 32 per field: RFC 9113 §6.5.2) over which a block fails. */
  readonly maxHeaderListBytes?: number;
}

/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2). */
export const DEFAULT_TABLE_SIZE = 4096;

/** Default bound on one block's decoded header list. */
export const DEFAULT_MAX_HEADER_LIST_BYTES = 256 * 1024;

/**
 * Most bytes of dynamic table kept per decoder, whatever size the peers agree on: browsers offer
 * 65536, servers and gRPC use 4096. A larger table is followed up to this size (evicting early:
 * references past it fail their block), so a hostile SETTINGS cannot make a decoder hold more.
 */
export const TABLE_BYTES_CAP = 64 * 1024;

/** Per-entry overhead in the table's size accounting (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/**
 * Largest integer accepted: SETTINGS values are 32-bit and no length or index comes near it. An
 * encoding may pad with zero continuation octets, so their number is bounded as well.
 */
const MAX_INTEGER = 0xffffffff;
const MAX_CONTINUATION_OCTETS = 5;

const STATIC_TABLE: readonly HpackField[] = Object.freeze(
  (
    [
      [':authority', ''],
      [':method', 'GET'],
      [':method', 'POST'],
      [':path', '/'],
      [':path', '/index.html'],
      [':scheme', 'http'],
      [':scheme', 'https'],
      [':status', '200'],
      [':status', '204'],
      [':status', '206'],
      [':status', '304'],
      [':status', '400'],
      [':status', '404'],
      [':status', '500'],
      ['accept-charset', ''],
      ['accept-encoding', 'gzip, deflate'],
      ['accept-language', ''],
      ['accept-ranges', ''],
      ['accept', ''],
      ['access-control-allow-origin', ''],
      ['age', ''],
      ['allow', ''],
      ['authorization', ''],
      ['cache-control', ''],
      ['content-disposition', ''],
      ['content-encoding', ''],
      ['content-language', ''],
      ['content-length', ''],
      ['content-location', ''],
      ['content-range', ''],
      ['content-type', ''],
      ['cookie', ''],
      ['date', ''],
      ['etag', ''],
      ['expect', ''],
      ['expires', ''],
      ['from', ''],
      ['host', ''],
      ['if-match', ''],
      ['if-modified-since', ''],
      ['if-none-match', ''],
      ['if-range', ''],
      ['if-unmodified-since', ''],
      ['last-modified', ''],
      ['link', ''],
      ['location', ''],
      ['max-forwards', ''],
      ['proxy-authenticate', ''],
      ['proxy-authorization', ''],
      ['range', ''],
      ['referer', ''],
      ['refresh', ''],
      ['retry-after', ''],
      ['server', ''],
      ['set-cookie', ''],
      ['strict-transport-security', ''],
      ['transfer-encoding', ''],
      ['user-agent', ''],
      ['vary', ''],
      ['via', ''],
      ['www-authenticate', ''],
    ] as const
  ).map(([name, value]): HpackField => Object.freeze({ name, value })),
);

/** Index of the first dynamic table entry (RFC 7541 §2.3.3). */
const FIRST_DYNAMIC_INDEX = STATIC_TABLE.length + 1;

interface TableEntry {
  /** null: a placeholder, inserted with a name from an entry the decoder does not know. */
  readonly field: HpackField | null;
  /** Size in the table's accounting; for a placeholder, the least it can be (value + 32). */
  readonly size: number;
}

/** A fault that stops parsing a block: its later insertions are unknown. */
class BlockFault {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

export class HpackDecoder {
  /** Recorded entries (the newest is index 62). */
  private readonly entries = new EntryRing();
  private entryBytes = 0;
  private placeholders = 0;
  /** Entries older than the recorded ones may exist (joined mid-connection, or state lost). */
  private olderUnknown: boolean;
  /** The table size the encoder is believed to use: what eviction follows. */
  private capacity = DEFAULT_TABLE_SIZE;
  /** `capacity` is the encoder's (followed from the connection's start, or set by a size update seen). */
  private capacityExact: boolean;
  /** A size the encoder's table certainly does not exceed (Infinity: none known). */
  private capacityBound: number;
  /** The most a size update may set (the peer's SETTINGS_HEADER_TABLE_SIZE). */
  private limit = DEFAULT_TABLE_SIZE;
  /** The limit was seen (from the connection's start or a SETTINGS), not assumed. */
  private limitKnown: boolean;
  private readonly maxHeaderListBytes: number;

  // The block being decoded.
  private src: Uint8Array = new Uint8Array(0);
  private text: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** The table index of the last literal's name (for messages). */
  private nameIndex = 0;

  constructor(options: HpackDecoderOptions = {}) {
    const synchronised = options.synchronised ?? true;
    this.olderUnknown = !synchronised;
    this.limitKnown = synchronised;
    this.capacityExact = synchronised;
    this.capacityBound = synchronised ? DEFAULT_TABLE_SIZE : Infinity;
    this.maxHeaderListBytes = options.maxHeaderListBytes ?? DEFAULT_MAX_HEADER_LIST_BYTES;
  }

  /** The whole dynamic table is known: every reference into it decodes. */
  get synchronised(): boolean {
    return !this.olderUnknown && this.placeholders === 0;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE as acknowledged: the maximum a size update may set. */
  setMaxTableSize(bytes: number): void {
    this.limit = bytes;
    this.limitKnown = true;
    // From the encoder's next block on its table is within the new limit: a smaller limit obliges
    // it to send a size update first (RFC 7541 §4.2), and a larger one does not grow the table.
    this.capacityBound = Math.min(this.capacityBound, bytes);
    if (!this.capacityExact) {
      // Joined without seeing a size update: the encoder may use all the limit allows (it may
      // have raised its table before the capture). Believing the larger size only keeps more
      // entries, which is safe (see above), within TABLE_BYTES_CAP.
      this.capacity = bytes;
      this.evict();
    } else if (this.capacity > bytes) {
      // Evicting now what that update will evict is the same as evicting at the update: eviction
      // always takes the oldest first.
      this.capacity = bytes;
      this.evict();
    }
  }

  /** One complete header block (HEADERS/PUSH_PROMISE + CONTINUATION fragments concatenated, padding and priority removed). */
  decode(block: Uint8Array): HpackResult {
    this.src = block;
    this.text = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    this.pos = 0;
    try {
      return this.decodeBlock();
    } catch (e) {
      if (!(e instanceof BlockFault)) throw e;
      this.forgetEntries();
      return { ok: false, reason: e.reason, desynchronised: true };
    } finally {
      this.src = EMPTY;
      this.text = EMPTY_BUFFER;
    }
  }

  private decodeBlock(): HpackResult {
    const src = this.src;
    const end = src.length;
    const fields: HpackField[] = [];
    let listBytes = 0;
    // The first reason the block's fields cannot be emitted; parsing goes on to follow the table.
    let unusable: string | undefined;
    let sizeUpdateAllowed = true;
    while (this.pos < end) {
      const at = this.pos;
      const first = src[at];
      let field: HpackField | null;
      if (first & 0x80) {
        // Indexed field (§6.1).
        const index = this.readInteger(7);
        if (index === 0) throw new BlockFault(`HPACK: index 0 at byte ${at}`);
        field = this.lookup(index);
        if (field === null) unusable ??= this.unknownReason(index, at);
      } else if (first & 0x40) {
        // Literal with incremental indexing (§6.2.1): the field goes into the table.
        const name = this.readName(6);
        const value = this.readString();
        const size = (name === null ? 0 : name.length) + value.length + ENTRY_OVERHEAD;
        if (name === null) {
          unusable ??= this.unknownReason(this.nameIndex, at);
          field = null;
          this.insert({ field: null, size });
        } else {
          field = { name, value };
          this.insert({ field, size });
        }
      } else if (first & 0x20) {
        // Dynamic table size update (§6.3): only before the block's first field (§4.2).
        if (!sizeUpdateAllowed) throw new BlockFault(`HPACK: table size update at byte ${at}, after a field`);
        this.resize(this.readInteger(5), at);
        continue;
      } else {
        // Literal without indexing (0000xxxx, §6.2.2) or never indexed (0001xxxx, §6.2.3).
        const neverIndexed = (first & 0x10) !== 0;
        // Once the block cannot be emitted, a field that does not enter the table is only skipped.
        const skip = unusable !== undefined;
        const name = this.readName(4, skip);
        const value = this.readString(skip);
        if (name === null) {
          unusable ??= this.unknownReason(this.nameIndex, at);
          field = null;
        } else {
          field = neverIndexed ? { name, value, neverIndexed: true } : { name, value };
        }
      }
      sizeUpdateAllowed = false;
      if (field === null || unusable !== undefined) continue;
      listBytes += field.name.length + field.value.length + ENTRY_OVERHEAD;
      if (listBytes > this.maxHeaderListBytes) {
        unusable = `HPACK: header list over ${this.maxHeaderListBytes} bytes decoded (at byte ${at})`;
        fields.length = 0;
        continue;
      }
      fields.push(field);
    }
    if (unusable !== undefined) return { ok: false, reason: unusable, desynchronised: !this.synchronised };
    return { ok: true, fields };
  }

  /** The field at a table index, or null when the decoder does not know that entry. */
  private lookup(index: number): HpackField | null {
    if (index < FIRST_DYNAMIC_INDEX) return STATIC_TABLE[index - 1];
    const fromNewest = index - FIRST_DYNAMIC_INDEX;
    if (fromNewest >= this.entries.count) return null;
    return this.entries.newest(fromNewest).field;
  }

  private unknownReason(index: number, at: number): string {
    return this.synchronised
      ? `HPACK: index ${index} at byte ${at} is past the dynamic table (${this.entries.count} entries)`
      : `HPACK: index ${index} at byte ${at} refers to a dynamic table entry not seen (capture joined the connection after it was sent)`;
  }

  /** A literal's name: indexed (prefix bits > 0), or a string that follows. Null: an unknown entry. */
  private readName(prefixBits: number, skip = false): string | null {
    const index = this.readInteger(prefixBits);
    this.nameIndex = index;
    if (index === 0) return this.readString(skip);
    return this.lookup(index)?.name ?? null;
  }

  /** An integer with an N-bit prefix (§5.1). */
  private readInteger(prefixBits: number): number {
    const src = this.src;
    const mask = (1 << prefixBits) - 1;
    let value = src[this.pos++] & mask;
    if (value < mask) return value;
    const at = this.pos - 1;
    for (let shift = 0, n = 0; ; shift += 7, n++) {
      if (n === MAX_CONTINUATION_OCTETS) throw new BlockFault(`HPACK: integer at byte ${at} longer than ${MAX_CONTINUATION_OCTETS + 1} bytes`);
      if (this.pos >= src.length) throw new BlockFault(`HPACK: integer at byte ${at} cut off by the block end`);
      const octet = src[this.pos++];
      value += (octet & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new BlockFault(`HPACK: integer at byte ${at} over ${MAX_INTEGER}`);
      if ((octet & 0x80) === 0) return value;
    }
  }

  /** A string literal (§5.2), raw or Huffman-coded; '' when skipped (its bounds are still checked). */
  private readString(skip = false): string {
    const at = this.pos;
    if (at >= this.src.length) throw new BlockFault(`HPACK: string expected at byte ${at}, block ended`);
    const huffman = (this.src[at] & 0x80) !== 0;
    const length = this.readInteger(7);
    const start = this.pos;
    if (length > this.src.length - start) {
      throw new BlockFault(`HPACK: string at byte ${at} of ${length} bytes runs past the block end (${this.src.length - start} left)`);
    }
    this.pos = start + length;
    if (skip) return '';
    if (!huffman) return this.text.toString('latin1', start, start + length);
    const decoded = huffmanDecode(this.src, start, start + length);
    if (typeof decoded !== 'string') {
      throw new BlockFault(
        decoded.fault === 'eos'
          ? `HPACK: Huffman string at byte ${at} contains EOS`
          : `HPACK: Huffman string at byte ${at} has padding over 7 bits or not all ones`,
      );
    }
    return decoded;
  }

  /** A dynamic table size update to `size` (§6.3, §4.3). */
  private resize(size: number, at: number): void {
    if (size > this.limit) {
      if (this.limitKnown) throw new BlockFault(`HPACK: table size update to ${size} at byte ${at} over the peer's limit ${this.limit}`);
      // Joined without seeing SETTINGS: the peer may have raised the limit before the capture.
      this.limit = size;
    }
    this.capacity = size;
    this.capacityExact = true;
    this.capacityBound = size;
    // An empty table, or recorded entries over the size: every older entry is evicted first.
    if (size < ENTRY_OVERHEAD || this.entryBytes > size) this.olderUnknown = false;
    this.evict();
  }

  private insert(entry: TableEntry): void {
    this.entries.push(entry);
    this.entryBytes += entry.size;
    if (entry.field === null) this.placeholders++;
    // The recorded entries alone over a size the table certainly stays within: the encoder
    // evicted every older entry before any recorded one. (An entry larger than the table also
    // lands here: it empties the table, §4.4, and is evicted itself below.)
    if (this.entryBytes > this.capacityBound) this.olderUnknown = false;
    this.evict();
  }

  /** Evicts oldest entries until the recorded ones fit the believed size (and the cap). */
  private evict(): void {
    const room = Math.min(this.capacity, TABLE_BYTES_CAP);
    if (this.entryBytes <= room) return;
    while (this.entryBytes > room) {
      const entry = this.entries.shift();
      this.entryBytes -= entry.size;
      if (entry.field === null) this.placeholders--;
    }
  }

  /** The block could not be followed to its end: nothing recorded has a known position any more. */
  private forgetEntries(): void {
    this.entries.clear();
    this.entryBytes = 0;
    this.placeholders = 0;
    this.olderUnknown = true;
  }
}

/**
 * The recorded entries, oldest to newest, in a ring: an insertion that evicts costs the same
 * whatever the table holds (a hostile peer can fill a capped table with 2048 32-byte entries and
 * then insert one per byte or three).
 */
class EntryRing {
  private slots: (TableEntry | undefined)[] = new Array<TableEntry | undefined>(16);
  /** Slot of the oldest entry. */
  private head = 0;
  count = 0;

  push(entry: TableEntry): void {
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) & (this.slots.length - 1)] = entry;
    this.count++;
  }

  /** The entry `i` places from the newest (0: the newest). */
  newest(i: number): TableEntry {
    return this.slots[(this.head + this.count - 1 - i) & (this.slots.length - 1)]!;
  }

  /** Removes and returns the oldest entry (the ring is not empty). */
  shift(): TableEntry {
    const entry = this.slots[this.head]!;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.count--;
    return entry;
  }

  clear(): void {
    this.slots = new Array<TableEntry | undefined>(16);
    this.head = 0;
    this.count = 0;
  }

  /** Doubles the slots (a power of two), oldest entry first. */
  private grow(): void {
    const slots = new Array<TableEntry | undefined>(this.slots.length * 2);
    for (let i = 0; i < this.count; i++) slots[i] = this.slots[(this.head + i) & (this.slots.length - 1)];
    this.slots = slots;
    this.head = 0;
  }
}

const EMPTY = new Uint8Array(0);
const EMPTY_BUFFER = Buffer.alloc(0);
