/**
 * A bounded look at BSON bytes without decoding values, before the `bson` package decodes them:
 * the package recurses once per nesting level, so a hostile document nested a hundred thousand
 * deep costs a stack overflow and most of a second; here the structure is walked with an explicit
 * stack and refused past MAX_BSON_DEPTH (MongoDB itself refuses documents nested deeper than 100).
 * Also reads the top-level keys of a document cut by the keep limit, which the package cannot.
 */

/** Nesting levels a document may have (MongoDB's own limit is 100 for stored documents). */
export const MAX_BSON_DEPTH = 128;

/** BSON element types (bsonspec.org). */
const DOUBLE = 0x01;
const STRING = 0x02;
export const DOCUMENT = 0x03;
const ARRAY = 0x04;
const BINARY = 0x05;
const UNDEFINED = 0x06;
const OBJECT_ID = 0x07;
const BOOLEAN = 0x08;
const DATE = 0x09;
const NULL = 0x0a;
const REGEX = 0x0b;
const DB_POINTER = 0x0c;
const CODE = 0x0d;
const SYMBOL = 0x0e;
const CODE_WITH_SCOPE = 0x0f;
const INT32 = 0x10;
const TIMESTAMP = 0x11;
const INT64 = 0x12;
const DECIMAL128 = 0x13;
const MIN_KEY = 0xff;
const MAX_KEY = 0x7f;

const FIXED_SIZE: Readonly<Record<number, number>> = {
  [DOUBLE]: 8, [UNDEFINED]: 0, [OBJECT_ID]: 12, [BOOLEAN]: 1, [DATE]: 8, [NULL]: 0, [INT32]: 4,
  [TIMESTAMP]: 8, [INT64]: 8, [DECIMAL128]: 16, [MIN_KEY]: 0, [MAX_KEY]: 0,
};

function int32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** Offset just past the NUL ending the C string at `at`, or -1 when none comes before `end`. */
function cstringEnd(b: Uint8Array, at: number, end: number): number {
  const nul = b.indexOf(0, at);
  return nul < 0 || nul >= end ? -1 : nul + 1;
}

/** The length a document at `at` declares, or -1 when it cannot be one within `end`. */
export function documentLength(b: Uint8Array, at: number, end: number): number {
  if (at + 5 > end) return -1;
  const len = int32(b, at);
  return len >= 5 && at + len <= end ? len : -1;
}

/** Offset past the value of type `type` starting at `at`, or -1 when it does not fit before `end`. */
function valueEnd(b: Uint8Array, type: number, at: number, end: number): number {
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) return at + fixed <= end ? at + fixed : -1;
  switch (type) {
    case STRING:
    case CODE:
    case SYMBOL: {
      if (at + 4 > end) return -1;
      const n = int32(b, at);
      return n >= 1 && at + 4 + n <= end && b[at + 3 + n] === 0 ? at + 4 + n : -1;
    }
    case DB_POINTER: {
      const s = valueEnd(b, STRING, at, end);
      return s < 0 || s + 12 > end ? -1 : s + 12;
    }
    case BINARY: {
      if (at + 5 > end) return -1;
      const n = int32(b, at);
      return n >= 0 && at + 5 + n <= end ? at + 5 + n : -1;
    }
    case REGEX: {
      const p = cstringEnd(b, at, end);
      return p < 0 ? -1 : cstringEnd(b, p, end);
    }
    case DOCUMENT:
    case ARRAY:
    case CODE_WITH_SCOPE: {
      const n = documentLength(b, at, end);
      return n < 0 ? -1 : at + n;
    }
    default:
      return -1;
  }
}

/**
 * True when `b[at..at+length)` is a well-formed document nested at most MAX_BSON_DEPTH deep (sizes,
 * types, terminators; strings are not checked as UTF-8). Linear in the bytes, never recursive.
 */
export function isWellFormedDocument(b: Uint8Array, at: number): boolean {
  const len = documentLength(b, at, b.length);
  if (len < 0) return false;
  // Each open document: where its elements continue and where it must end.
  const stack: { pos: number; end: number }[] = [{ pos: at + 4, end: at + len }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const type = b[top.pos];
    if (type === undefined || top.pos >= top.end) return false;
    if (type === 0) {
      if (top.pos + 1 !== top.end) return false;
      stack.pop();
      continue;
    }
    const nameEnd = cstringEnd(b, top.pos + 1, top.end);
    if (nameEnd < 0) return false;
    const end = valueEnd(b, type, nameEnd, top.end);
    if (end < 0) return false;
    top.pos = end;
    if (type === DOCUMENT || type === ARRAY || type === CODE_WITH_SCOPE) {
      if (stack.length >= MAX_BSON_DEPTH) return false;
      if (type === CODE_WITH_SCOPE) {
        // int32 total, the code as a string, then the scope document, exactly filling the total.
        const code = valueEnd(b, STRING, nameEnd + 4, end);
        const scope = code < 0 ? -1 : documentLength(b, code, end);
        if (scope < 0 || code + scope !== end) return false;
        stack.push({ pos: code + 4, end });
      } else {
        stack.push({ pos: nameEnd + 4, end });
      }
    }
  }
  return true;
}

/** Names and strings are decoded leniently: bytes that are not UTF-8 become U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/** A top-level element: its name and, for the types the dissector reads, its value. */
export interface TopLevelElement {
  readonly name: string;
  readonly type: number;
  /** Offset of its type byte, of its value, and just past it (-1 when the value is cut). */
  readonly at: number;
  readonly valueAt: number;
  readonly end: number;
  /** STRING values. */
  readonly text?: string;
  /** DOUBLE, INT32, INT64 (as a number: ok and error codes are small), BOOLEAN (0/1). */
  readonly number?: number;
}

/**
 * The top-level elements of the document at `at`, as far as `b` holds them (a document cut by the
 * keep limit yields its first elements), at most `max` of them.
 */
export function topLevelElements(b: Uint8Array, at: number, max: number): TopLevelElement[] {
  const out: TopLevelElement[] = [];
  if (at + 5 > b.length) return out;
  const declared = int32(b, at);
  if (declared < 5) return out;
  const end = Math.min(b.length, at + declared);
  let pos = at + 4;
  const decoder = UTF8;
  while (out.length < max && pos < end) {
    const type = b[pos]!;
    if (type === 0) break;
    const nameEnd = cstringEnd(b, pos + 1, end);
    if (nameEnd < 0) break;
    const name = decoder.decode(b.subarray(pos + 1, nameEnd - 1));
    const vEnd = valueEnd(b, type, nameEnd, end);
    if (vEnd < 0) {
      out.push({ name, type, at: pos, valueAt: nameEnd, end: -1 });
      break;
    }
    out.push({ name, type, at: pos, valueAt: nameEnd, end: vEnd, ...scalarOf(b, type, nameEnd, vEnd, decoder) });
    pos = vEnd;
  }
  return out;
}

function scalarOf(b: Uint8Array, type: number, at: number, end: number, decoder: TextDecoder): { text?: string; number?: number } {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (type) {
    case STRING:
      return { text: decoder.decode(b.subarray(at + 4, end - 1)) };
    case DOUBLE:
      return { number: view.getFloat64(at, true) };
    case INT32:
      return { number: view.getInt32(at, true) };
    case INT64:
      return { number: Number(view.getBigInt64(at, true)) };
    case BOOLEAN:
      return { number: b[at] === 0 ? 0 : 1 };
    default:
      return {};
  }
}
