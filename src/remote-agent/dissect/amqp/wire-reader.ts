/**
 * Reads AMQP 0-9-1's data types (§4.2.5) from a method or content header payload, big-endian,
 * never past its end: a field that runs past it throws AmqpShort, which the caller turns into a
 * malformed method. Field tables are bounded in depth and in values, so a hostile table costs
 * little however it nests.
 */
import type { AmqpFieldTable, AmqpFieldValue } from './entry.ts';

/** A field ran past the end of the bytes (or a table broke its bounds). */
export class AmqpShort extends Error {}

/** Tables nested in tables (and arrays) at most; deeper values are replaced by a marker. */
export const MAX_TABLE_DEPTH = 8;
/** Values decoded per method or header, all tables together; past it the rest is skipped. */
export const MAX_TABLE_VALUES = 4096;
/** Characters of one string value kept (a long string is cut with `…`). */
export const MAX_STRING_CHARS = 4096;

const EMPTY = new Uint8Array(0);

export class WireReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at: number;
  readonly #end: number;
  /** Bits of the last octet read by bit(): AMQP packs consecutive bits into octets. */
  #bitOctet = 0;
  #bitIndex = 8;
  /** Table values left to decode (shared by every table of one method). */
  #valuesLeft = MAX_TABLE_VALUES;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#at = start;
    this.#end = end;
  }

  get offset(): number {
    return this.#at;
  }

  get remaining(): number {
    return this.#end - this.#at;
  }

  #need(n: number): number {
    const at = this.#at;
    if (n > this.#end - at) throw new AmqpShort(`needs ${n} bytes at offset ${at}, ${this.#end - at} left`);
    this.#at = at + n;
    this.#bitIndex = 8;
    return at;
  }

  octet(): number {
    return this.#bytes[this.#need(1)]!;
  }

  short(): number {
    return this.#view.getUint16(this.#need(2));
  }

  long(): number {
    return this.#view.getUint32(this.#need(4));
  }

  /** An unsigned 64-bit number: exact up to 2^53. */
  longlong(): number {
    const at = this.#need(8);
    return this.#view.getUint32(at) * 0x1_0000_0000 + this.#view.getUint32(at + 4);
  }

  /** One bit; consecutive bits share octets, least significant first (§4.2.5.2). */
  bit(): boolean {
    if (this.#bitIndex >= 8) {
      this.#bitOctet = this.#bytes[this.#need(1)]!;
      this.#bitIndex = 0;
    }
    return ((this.#bitOctet >> this.#bitIndex++) & 1) === 1;
  }

  bytes(n: number): Uint8Array {
    const at = this.#need(n);
    return n === 0 ? EMPTY : this.#bytes.subarray(at, at + n);
  }

  shortstr(): string {
    return wireText(this.bytes(this.octet()));
  }

  longstr(): string {
    return wireText(this.bytes(this.long()));
  }

  /** A longstr's raw bytes (a SASL response, a byte array). */
  longBytes(): Uint8Array {
    return this.bytes(this.long());
  }

  /** A field table; `budget` is the reader whose value count it draws on (the method's). */
  table(depth = 0, budget: WireReader = this): AmqpFieldTable {
    const size = this.long();
    const end = this.#at + size;
    if (size > this.#end - this.#at) throw new AmqpShort(`field table of ${size} bytes runs past the end`);
    const inner = this.#sub(end);
    const out: AmqpFieldTable = {};
    while (inner.remaining > 0) {
      if (budget.#valuesLeft <= 0) break;
      const name = inner.shortstr();
      const value = inner.#value(depth + 1, budget);
      setOwn(out, name, value);
    }
    this.#at = end;
    this.#bitIndex = 8;
    return out;
  }

  /** A table's bytes as a reader of their own (table values count against this reader's budget). */
  #sub(end: number): WireReader {
    return new WireReader(this.#bytes, this.#at, end);
  }

  #value(depth: number, budget: WireReader): AmqpFieldValue {
    budget.#valuesLeft--;
    const type = this.octet();
    switch (type) {
      case 0x74: // 't' boolean
        return this.octet() !== 0;
      case 0x62: // 'b' signed 8
        return this.#view.getInt8(this.#need(1));
      case 0x42: // 'B' unsigned 8
        return this.octet();
      case 0x73: // 's' signed 16 (RabbitMQ)
        return this.#view.getInt16(this.#need(2));
      case 0x75: // 'u' unsigned 16
        return this.short();
      case 0x49: // 'I' signed 32
        return this.#view.getInt32(this.#need(4));
      case 0x69: // 'i' unsigned 32
        return this.long();
      case 0x6c: {
        // 'l' signed 64
        const v = this.#view.getBigInt64(this.#need(8));
        return safeNumber(v);
      }
      case 0x4c: {
        // 'L' unsigned 64 (0-9-1 spec; RabbitMQ reads it as signed)
        const v = this.#view.getBigUint64(this.#need(8));
        return safeNumber(v);
      }
      case 0x66: // 'f' float
        return this.#view.getFloat32(this.#need(4));
      case 0x64: // 'd' double
        return this.#view.getFloat64(this.#need(8));
      case 0x44: {
        // 'D' decimal: scale then a signed 32-bit value
        const scale = this.octet();
        const value = this.#view.getInt32(this.#need(4));
        return decimalText(value, scale);
      }
      case 0x53: // 'S' long string
        return this.longstr();
      case 0x78: // 'x' byte array
        return Buffer.from(this.longBytes()).toString('base64');
      case 0x41: {
        // 'A' array
        const size = this.long();
        if (size > this.remaining) throw new AmqpShort(`field array of ${size} bytes runs past the end`);
        const end = this.#at + size;
        const inner = this.#sub(end);
        const out: AmqpFieldValue[] = [];
        if (depth >= MAX_TABLE_DEPTH) {
          this.#at = end;
          return '[nested too deep]';
        }
        while (inner.remaining > 0 && budget.#valuesLeft > 0) out.push(inner.#value(depth + 1, budget));
        this.#at = end;
        return out;
      }
      case 0x54: // 'T' timestamp (seconds)
        return this.longlong();
      case 0x46: {
        // 'F' nested table
        if (depth >= MAX_TABLE_DEPTH) {
          const size = this.long();
          this.bytes(size);
          return '[nested too deep]';
        }
        return this.table(depth, budget);
      }
      case 0x56: // 'V' void
        return null;
      default:
        throw new AmqpShort(`field value of unknown type 0x${type.toString(16).padStart(2, '0')}`);
    }
  }
}

/** Sets `key` as an own property even when it is `__proto__` (keys come from the wire). */
function setOwn(target: AmqpFieldTable, key: string, value: AmqpFieldValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function safeNumber(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

function decimalText(value: number, scale: number): string {
  if (scale === 0) return String(value);
  const negative = value < 0;
  const digits = String(Math.abs(value)).padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

/**
 * A string from the wire as text: UTF-8 (invalid sequences replaced), control characters written
 * as `\xNN` so none reaches a terminal or a log raw, cut at MAX_STRING_CHARS.
 */
export function wireText(bytes: Uint8Array): string {
  let clean = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b === 0x7f) {
      clean = false;
      break;
    }
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (!clean || /[\u0080-\u009f]/.test(text)) {
    // eslint-disable-next-line no-control-regex
    text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }
  return text.length > MAX_STRING_CHARS ? `${text.slice(0, MAX_STRING_CHARS)}…` : text;
}
