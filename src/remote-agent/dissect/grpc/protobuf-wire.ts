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
  const top = readFields(new BinaryReader(bytes), bytes.length, 0, null, budget);
  return { fields: top.fields, complete: top.ok, cut: budget.cut };
}

interface Budget {
  left: number;
  cut: boolean;
}

interface ReadResult {
  readonly fields: ProtoField[];
  /** Parsed up to `end` (or to the group's end tag) without a fault. */
  readonly ok: boolean;
}

/**
 * Reads fields until `end`, or until the end tag of group `group` when it is not null. On a fault,
 * returns the fields read so far with ok false.
 */
function readFields(reader: BinaryReader, end: number, depth: number, group: number | null, budget: Budget): ReadResult {
  const fields: ProtoField[] = [];
  try {
    while (reader.pos < end) {
      const [no, wire] = reader.tag();
      if (wire === WireType.EndGroup) {
        if (group === no) return { fields, ok: true };
        return { fields, ok: false };
      }
      if (budget.left <= 0) {
        budget.cut = true;
        return { fields, ok: true };
      }
      budget.left--;
      const field = readField(reader, no, wire, end, depth, budget);
      if (field === null) return { fields, ok: false };
      fields.push(field);
    }
    // A group must end with its end tag, and a message must end exactly at `end`.
    return { fields, ok: group === null && reader.pos === end };
  } catch {
    // BinaryReader's faults (bad tag, varint too long, read past the end): not (more) protobuf.
    return { fields, ok: false };
  }
}

function readField(reader: BinaryReader, no: number, wire: WireType, end: number, depth: number, budget: Budget): ProtoField | null {
  switch (wire) {
    case WireType.Varint:
      return { no, wire: 'varint', value: exact(reader.uint64()) };
    case WireType.Bit64:
      return { no, wire: 'i64', value: exact(reader.fixed64()) };
    case WireType.Bit32:
      return { no, wire: 'i32', value: reader.fixed32() };
    case WireType.LengthDelimited: {
      const bytes = reader.bytes();
      if (reader.pos > end) return null;
      return { no, wire: 'len', ...guessLen(bytes, depth, budget) };
    }
    case WireType.StartGroup: {
      if (depth + 1 >= MAX_DEPTH) return null;
      const inner = readFields(reader, end, depth + 1, no, budget);
      return inner.ok ? { no, wire: 'group', message: inner.fields } : null;
    }
    default:
      return null;
  }
}

/** A 64-bit unsigned value: a number while exact, a decimal string past 2^53. */
function exact(v: bigint | string): number | string {
  const n = typeof v === 'bigint' ? v : BigInt(v);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function guessLen(bytes: Uint8Array, depth: number, budget: Budget): Pick<ProtoField, 'string' | 'message' | 'bytes'> {
  const text = printableText(bytes);
  if (text !== null) return { string: text };
  if (depth + 1 < MAX_DEPTH && bytes.length > 0) {
    // A failed guess must not use up the field budget of what is shown instead.
    const saved = { left: budget.left, cut: budget.cut };
    const inner = readFields(new BinaryReader(bytes), bytes.length, depth + 1, null, budget);
    if (inner.ok && inner.fields.length > 0) return { message: inner.fields };
    budget.left = saved.left;
    budget.cut = saved.cut;
  }
  return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64') };
}

/** The bytes as text when they are valid UTF-8 without control characters (tab, CR, LF allowed). */
export function printableText(bytes: Uint8Array): string | null {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return null;
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return null;
  }
  // C1 controls (U+0080..U+009F) are valid UTF-8 but never text.
  return /[\u0080-\u009f]/.test(text) ? null : text;
}
