/**
 * Reads the primitive types of the Kafka protocol (https://kafka.apache.org/protocol#protocol_types)
 * from one message's bytes, bounded: every read checks the bytes are there and throws
 * KafkaDecodeError when they are not, so a hostile length never reads past the message or
 * allocates more than the message holds.
 */

/** The bytes do not hold what the grammar says comes next (a short or damaged message). */
export class KafkaDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaDecodeError';
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });
/** C0/C1 controls and line separators: escaped so wire text never drives a terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Wire text made printable: control characters written as `\u00XX`. */
export function printableText(bytes: Uint8Array): string {
  const text = UTF8.decode(bytes);
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class WireReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at: number;

  constructor(bytes: Uint8Array, at = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#at = at;
  }

  get offset(): number {
    return this.#at;
  }

  get remaining(): number {
    return this.#bytes.length - this.#at;
  }

  #need(n: number, what: string): void {
    if (n < 0 || this.#at + n > this.#bytes.length) {
      throw new KafkaDecodeError(`${what} needs ${n} bytes at offset ${this.#at}, ${this.remaining} left`);
    }
  }

  int8(): number {
    this.#need(1, 'int8');
    return this.#view.getInt8(this.#at++);
  }

  int16(): number {
    this.#need(2, 'int16');
    const v = this.#view.getInt16(this.#at);
    this.#at += 2;
    return v;
  }

  uint16(): number {
    this.#need(2, 'uint16');
    const v = this.#view.getUint16(this.#at);
    this.#at += 2;
    return v;
  }

  int32(): number {
    this.#need(4, 'int32');
    const v = this.#view.getInt32(this.#at);
    this.#at += 4;
    return v;
  }

  uint32(): number {
    this.#need(4, 'uint32');
    const v = this.#view.getUint32(this.#at);
    this.#at += 4;
    return v;
  }

  /** An int64 as a number when it is safe, else its decimal text (JSON has no 64-bit integers). */
  int64(): number | string {
    this.#need(8, 'int64');
    const v = this.#view.getBigInt64(this.#at);
    this.#at += 8;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }

  float64(): number {
    this.#need(8, 'float64');
    const v = this.#view.getFloat64(this.#at);
    this.#at += 8;
    return v;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  /** Unsigned LEB128 of at most 32 bits (UNSIGNED_VARINT). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.#need(1, 'varint');
      const b = this.#bytes[this.#at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new KafkaDecodeError(`varint longer than 5 bytes at offset ${this.#at}`);
  }

  /** Zig-zag signed varint of at most 32 bits (VARINT). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zig-zag signed varint of at most 64 bits (VARLONG), as a number (precision past 2^53 is not needed here). */
  varlong(): number {
    let value = 0;
    for (let shift = 0; shift <= 63; shift += 7) {
      this.#need(1, 'varlong');
      const b = this.#bytes[this.#at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
    throw new KafkaDecodeError(`varlong longer than 10 bytes at offset ${this.#at}`);
  }

  uuid(): string {
    this.#need(16, 'uuid');
    const hex = Buffer.from(this.#bytes.subarray(this.#at, this.#at + 16)).toString('hex');
    this.#at += 16;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** `n` raw bytes (a view into the message: copy to keep). */
  raw(n: number): Uint8Array {
    this.#need(n, 'bytes');
    const out = this.#bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  skip(n: number): void {
    this.#need(n, 'skip');
    this.#at += n;
  }

  /** The length of a STRING/BYTES/ARRAY: int16/int32 in classic versions, UNSIGNED_VARINT+1 in flexible ones; -1 is null. */
  length(kind: 'string' | 'bytes' | 'array', compact: boolean): number {
    if (compact) return this.uvarint() - 1;
    return kind === 'string' ? this.int16() : this.int32();
  }

  /** STRING / NULLABLE_STRING (COMPACT_ forms when `compact`), made printable; null for a null string. */
  string(compact: boolean): string | null {
    const n = this.length('string', compact);
    if (n < 0) return null;
    return printableText(this.raw(n));
  }

  /** BYTES / NULLABLE_BYTES (COMPACT_ forms when `compact`) as a view; null for null. */
  bytes(compact: boolean): Uint8Array | null {
    const n = this.length('bytes', compact);
    if (n < 0) return null;
    return this.raw(n);
  }

  /** The tagged fields of a flexible struct: skipped, their count returned. */
  taggedFields(): number {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.skip(this.uvarint());
    }
    return count;
  }
}
