/**
 * Protobuf without a schema: a message's fields as the wire format gives them (field number, wire
 * type, value), with length-delimited fields guessed upward to text or a nested message.
 *
 * The wire primitives are @bufbuild/protobuf's BinaryReader (tags, varints to 64 bits, fixed
 * widths, lengths with bounds checks); it throws on malformed bytes, which here only means "not a
 * message", so every read sits inside one try and nothing escapes.
 *
 * How a length-delimited field is read, in this order:
 * 1. printable UTF-8 (valid UTF-8, no control characters but tab, CR, LF; empty counts) -> `string`.
 *    Text first because short text often parses as a message too ("hi" is field 13, varint 105),
 *    while an encoded message almost always has a control byte: its first tag byte is below 0x20
 *    for fields 1..3, and lengths below 32 are control bytes.
 * 2. the bytes parse to their end as a message of at least one field, with every group closed,
 *    within the depth bound -> `message`.
 * 3. otherwise -> `bytes` (base64).
 * Bounds: MAX_DEPTH nesting levels are guessed (deeper ones stay bytes), and a message lists at
 * most `maxFields` fields in all (the rest cut, said by the result); the work is linear in the
 * bytes per level, so at most MAX_DEPTH passes over the input.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ProtoField } from './entry.ts';

/** Nested messages guessed at most this deep (protobuf's own default recursion limit is 100). */
export const MAX_DEPTH = 32;
/** Fields listed per decoded message by default, nested ones included. */
export const DEFAULT_MAX_FIELDS = 10_000;

export interface SchemalessResult {
  /** The fields read, in wire order; those before the fault when `complete` is false. */
  readonly fields: ProtoField[];
  /** All bytes parsed as fields (false: the bytes end mid-field, or are not protobuf past `fields`). */
  readonly complete: boolean;
  /** Fields were left out past `maxFields`. */
  readonly cut: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes `bytes` as one message without a schema. Never throws. */
export function decodeSchemaless(bytes: Uint8Array, maxFields: number = DEFAULT_MAX_FIELDS): SchemalessResult {
  const budget = { left: Math.max(0, Math.floor(maxFields)), cut: false };
  // One reader over the whole message: a nested guess reads the same bytes between its bounds.
  const top = readFields({ reader: new BinaryReader(bytes), bytes, budget }, bytes.length, 0, null);
  return { fields: top.fields, complete: top.ok, cut: budget.cut };
}

interface Budget {
  left: number;
  cut: boolean;
}

interface Cursor {
  readonly reader: BinaryReader;
  /** The reader's bytes (positions are offsets into them). */
  readonly bytes: Uint8Array;
  readonly budget: Budget;
}

interface ReadResult {
  readonly fields: ProtoField[];
  /** Parsed up to `end` (or to the group's end tag) without a fault. */
  readonly ok: boolean;
}

/**
 * Reads fields until `end`, or until the end tag of group `group` when it is not null. On a fault,
 * returns the fields read so far with ok false. The reader only knows the whole message's end, so
 * a field that runs past `end` is caught here.
 */
function readFields(c: Cursor, end: number, depth: number, group: number | null): ReadResult {
  const { reader, budget } = c;
  const fields: ProtoField[] = [];
  try {
    while (reader.pos < end) {
      const [no, wire] = reader.tag();
      if (wire === WireType.EndGroup) {
        if (group === no && reader.pos <= end) return { fields, ok: true };
        return { fields, ok: false };
      }
      if (budget.left <= 0) {
        budget.cut = true;
        return { fields, ok: true };
      }
      budget.left--;
      const field = readField(c, no, wire, end, depth);
      if (field === null || reader.pos > end) return { fields, ok: false };
      fields.push(field);
    }
    // A group must end with its end tag, and a message must end exactly at `end`.
    return { fields, ok: group === null && reader.pos === end };
  } catch {
    // BinaryReader's faults (bad tag, varint too long, read past the end): not (more) protobuf.
    return { fields, ok: false };
  }
}

function readField(c: Cursor, no: number, wire: WireType, end: number, depth: number): ProtoField | null {
  const reader = c.reader;
  switch (wire) {
    case WireType.Varint:
      return { no, wire: 'varint', value: shortVarint(c.bytes, reader.pos) ? reader.uint32() : exact(reader.uint64()) };
    case WireType.Bit64:
      return { no, wire: 'i64', value: exact(reader.fixed64()) };
    case WireType.Bit32:
      return { no, wire: 'i32', value: reader.fixed32() };
    case WireType.LengthDelimited: {
      const len = reader.uint32();
      const start = reader.pos;
      if (start + len > end) return null;
      const guess = guessLen(c, start, start + len, depth);
      reader.pos = start + len;
      return { no, wire: 'len', ...guess };
    }
    case WireType.StartGroup: {
      if (depth + 1 >= MAX_DEPTH) return null;
      const inner = readFields(c, end, depth + 1, no);
      return inner.ok ? { no, wire: 'group', message: inner.fields } : null;
    }
    default:
      return null;
  }
}

/** The varint at `at` ends within 4 bytes (below 2^28), so uint32 reads it exactly without a bigint. */
function shortVarint(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 4 && i < bytes.length; i++) if (bytes[i]! < 0x80) return true;
  return false;
}

/** A 64-bit unsigned value: a number while exact, a decimal string past 2^53. */
function exact(v: bigint | string): number | string {
  const n = typeof v === 'bigint' ? v : BigInt(v);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function guessLen(c: Cursor, start: number, end: number, depth: number): Pick<ProtoField, 'string' | 'message' | 'bytes'> {
  const bytes = c.bytes.subarray(start, end);
  const text = printableText(bytes);
  if (text !== null) return { string: text };
  if (depth + 1 < MAX_DEPTH && bytes.length > 0) {
    // A failed guess must not use up the field budget of what is shown instead.
    const saved = { left: c.budget.left, cut: c.budget.cut };
    c.reader.pos = start;
    const inner = readFields(c, end, depth + 1, null);
    if (inner.ok && inner.fields.length > 0) return { message: inner.fields };
    c.budget.left = saved.left;
    c.budget.cut = saved.cut;
  }
  return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') };
}

/** The bytes as text when they are valid UTF-8 without control characters (tab, CR, LF allowed). */
export function printableText(bytes: Uint8Array): string | null {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return null;
    if (b >= 0x80) ascii = false;
  }
  // Printable ASCII is its own UTF-8: no decoder, no C1 check (the common case, and the hot one).
  if (ascii) return bytes.length <= 256 ? String.fromCharCode(...bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return null;
  }
  // C1 controls (U+0080..U+009F) are valid UTF-8 but never text.
  return /[\u0080-\u009f]/.test(text) ? null : text;
}
