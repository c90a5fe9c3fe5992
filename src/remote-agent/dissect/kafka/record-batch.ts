/**
 * Summarises the records of a Produce request or Fetch response partition: record batches (magic 2,
 * https://kafka.apache.org/documentation/#recordbatch) and the older message sets (magic 0 and 1),
 * each as its base offset, record count, size and compression. The keys and values of records are
 * kept only from uncompressed batches and only up to a byte budget (options.maxBodyBytes per
 * message), so a large batch costs a few numbers, not its bytes.
 */
import { KafkaDecodeError, printableText, WireReader } from './wire-reader.ts';

const COMPRESSION_NAMES: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** One record batch (or, before magic 2, one message: a compressed one wraps a whole set). */
export interface KafkaBatchSummary {
  readonly baseOffset: number | string;
  readonly magic: number;
  readonly compression: string;
  /** Records in the batch (magic 2: its count field; an older message counts 1). */
  readonly records: number;
  /** Bytes of the batch on the wire. */
  readonly sizeBytes: number;
  readonly transactional?: boolean;
  readonly control?: boolean;
  readonly producerId?: number | string;
}

/** One record kept whole enough to show (from an uncompressed batch, within the byte budget). */
export interface KafkaRecord {
  readonly offset: number | string;
  /** Key and value as text (control characters escaped); null when absent. */
  readonly key: string | null;
  readonly value: string | null;
  readonly headers?: readonly { readonly key: string; readonly value: string | null }[];
}

export interface KafkaRecordsSummary {
  /** Bytes of the record set on the wire (what the size field said). */
  readonly sizeBytes: number;
  readonly batches: readonly KafkaBatchSummary[];
  /** Records in all batches. */
  readonly recordCount: number;
  /** Records kept (see KafkaRecord); absent when none were. */
  readonly sample?: readonly KafkaRecord[];
  /** The set ends early (the message was cut, or a batch is broken): the counts cover what was read. */
  readonly truncated?: boolean;
}

/** Batches read from one set at most (a hostile set of tiny batches stays small). */
const MAX_BATCHES = 1000;
/** Records kept per message at most, whatever the budget. */
const MAX_SAMPLE_RECORDS = 100;
/** Headers kept per record at most. */
const MAX_HEADERS = 16;

/** What a message may still spend on record bytes (shared by all its record sets). */
export interface ByteBudget {
  left: number;
  records: number;
}

/** `bytes` is the record set; `declared` its size on the wire (larger when the message was cut). */
export function summariseRecords(bytes: Uint8Array, declared: number, budget: ByteBudget): KafkaRecordsSummary {
  const batches: KafkaBatchSummary[] = [];
  const sample: KafkaRecord[] = [];
  let recordCount = 0;
  let truncated = bytes.length < declared;
  let at = 0;
  while (at < bytes.length) {
    if (batches.length >= MAX_BATCHES || bytes.length - at < 17) {
      // A broker may end a Fetch set with a partial batch (it cuts at max bytes): not an error.
      truncated = true;
      break;
    }
    const r = new WireReader(bytes, at);
    const baseOffset = r.int64();
    const length = r.int32();
    const magicAt = at + 16;
    const magic = bytes[magicAt]!;
    if (length < 0 || (magic > 2)) {
      truncated = true;
      break;
    }
    const end = at + 12 + length;
    const whole = end <= bytes.length;
    const batchBytes = bytes.subarray(at, Math.min(end, bytes.length));
    try {
      if (magic === 2) {
        const b = readBatchV2(batchBytes, baseOffset, length, whole, budget, sample);
        batches.push(b);
        recordCount += b.records;
      } else {
        batches.push(readLegacyMessage(batchBytes, baseOffset, length, magic));
        recordCount++;
      }
    } catch (e) {
      if (!(e instanceof KafkaDecodeError)) throw e;
      truncated = true;
      break;
    }
    if (!whole) {
      truncated = true;
      break;
    }
    at = end;
  }
  return {
    sizeBytes: declared,
    batches,
    recordCount,
    ...(sample.length > 0 ? { sample } : {}),
    ...(truncated ? { truncated: true } : {}),
  };
}

function readBatchV2(
  bytes: Uint8Array,
  baseOffset: number | string,
  length: number,
  whole: boolean,
  budget: ByteBudget,
  sample: KafkaRecord[],
): KafkaBatchSummary {
  const r = new WireReader(bytes, 12);
  r.int32(); // partition leader epoch
  const magic = r.int8();
  r.uint32(); // crc
  const attributes = r.int16();
  r.int32(); // last offset delta
  r.int64(); // base timestamp
  r.int64(); // max timestamp
  const producerId = r.int64();
  r.int16(); // producer epoch
  r.int32(); // base sequence
  const count = r.int32();
  const compression = COMPRESSION_NAMES[attributes & 0x07] ?? `codec ${attributes & 0x07}`;
  if (whole && (attributes & 0x07) === 0) keepRecords(r, baseOffset, Math.max(0, count), budget, sample);
  return {
    baseOffset,
    magic,
    compression,
    records: Math.max(0, count),
    sizeBytes: 12 + length,
    ...((attributes & 0x10) !== 0 ? { transactional: true } : {}),
    ...((attributes & 0x20) !== 0 ? { control: true } : {}),
    ...(producerId !== -1 ? { producerId } : {}),
  };
}

/** Reads the records of an uncompressed batch while the budget lasts. */
function keepRecords(r: WireReader, baseOffset: number | string, count: number, budget: ByteBudget, sample: KafkaRecord[]): void {
  const base = typeof baseOffset === 'number' ? baseOffset : null;
  for (let i = 0; i < count; i++) {
    if (budget.records >= MAX_SAMPLE_RECORDS || budget.left <= 0) return;
    const length = r.varint();
    const start = r.offset;
    if (length < 0 || length > r.remaining) return;
    if (length > budget.left) return;
    r.int8(); // attributes
    r.varlong(); // timestamp delta
    const offsetDelta = r.varint();
    const key = varBytes(r);
    const value = varBytes(r);
    const headerCount = r.varint();
    const headers: { key: string; value: string | null }[] = [];
    for (let h = 0; h < headerCount && h < MAX_HEADERS; h++) {
      const hk = varBytes(r);
      const hv = varBytes(r);
      headers.push({ key: hk ?? '', value: hv });
    }
    r.skip(start + length - r.offset);
    budget.left -= length;
    budget.records++;
    sample.push({
      offset: base === null ? String(baseOffset) : base + offsetDelta,
      key,
      value,
      ...(headers.length > 0 ? { headers } : {}),
    });
  }
}

function varBytes(r: WireReader): string | null {
  const n = r.varint();
  if (n < 0) return null;
  return printableText(r.raw(n));
}

function readLegacyMessage(bytes: Uint8Array, offset: number | string, length: number, magic: number): KafkaBatchSummary {
  const r = new WireReader(bytes, 16);
  r.int8(); // magic
  const attributes = r.int8();
  return {
    baseOffset: offset,
    magic,
    compression: COMPRESSION_NAMES[attributes & 0x07] ?? `codec ${attributes & 0x07}`,
    records: 1,
    sizeBytes: 12 + length,
  };
}
