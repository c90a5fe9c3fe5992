/**
 * A test-side Kafka encoder, written from the protocol guide (https://kafka.apache.org/protocol)
 * apart from the dissector's decoder: request and response messages of the APIs the dissector
 * decodes, in every version it describes, and record batches (magic 2, with their CRC-32C). The
 * unit tests encode with it and decode with the dissector; the round-trip test's broker answers
 * kafkajs with it, so kafkajs checks these bytes too.
 *
 * Each body encoder takes a loose object (the dissector's field names) and writes the fields of the
 * version given, in order, with defaults for what is missing.
 */

type Obj = { readonly [k: string]: unknown };

/** CRC-32C (Castagnoli), which record batches carry over their attributes-to-end bytes. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class Writer {
  readonly #parts: Buffer[] = [];
  readonly flexible: boolean;
  constructor(flexible = false) {
    this.flexible = flexible;
  }

  int8(v: number): this { const b = Buffer.alloc(1); b.writeInt8(v); this.#parts.push(b); return this; }
  int16(v: number): this { const b = Buffer.alloc(2); b.writeInt16BE(v); this.#parts.push(b); return this; }
  int32(v: number): this { const b = Buffer.alloc(4); b.writeInt32BE(v); this.#parts.push(b); return this; }
  uint32(v: number): this { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); this.#parts.push(b); return this; }
  int64(v: number | string | bigint): this { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(v)); this.#parts.push(b); return this; }
  bool(v: boolean): this { return this.int8(v ? 1 : 0); }
  raw(bytes: Uint8Array): this { this.#parts.push(Buffer.from(bytes)); return this; }

  uvarint(v: number): this {
    const out: number[] = [];
    let x = v;
    while (x >= 0x80) { out.push((x & 0x7f) | 0x80); x = Math.floor(x / 128); }
    out.push(x);
    return this.raw(Uint8Array.from(out));
  }

  varint(v: number): this { return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1); }

  uuid(v: string): this { return this.raw(Buffer.from(v.replace(/-/g, ''), 'hex')); }

  /** STRING / NULLABLE_STRING, compact in flexible versions. */
  string(v: string | null): this {
    if (v === null) return this.flexible ? this.uvarint(0) : this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    if (this.flexible) this.uvarint(b.length + 1); else this.int16(b.length);
    return this.raw(b);
  }

  /** Header client ids are NULLABLE_STRING even in flexible headers. */
  classicString(v: string | null): this {
    if (v === null) return this.int16(-1);
    const b = Buffer.from(v, 'utf8');
    return this.int16(b.length).raw(b);
  }

  bytes(v: Uint8Array | null): this {
    if (v === null) return this.flexible ? this.uvarint(0) : this.int32(-1);
    if (this.flexible) this.uvarint(v.length + 1); else this.int32(v.length);
    return this.raw(v);
  }

  array<T>(items: readonly T[] | null, each: (item: T) => void): this {
    if (items === null) return this.flexible ? this.uvarint(0) : this.int32(-1);
    if (this.flexible) this.uvarint(items.length + 1); else this.int32(items.length);
    for (const x of items) each(x);
    return this;
  }

  /** The (empty) tagged fields of a flexible struct. */
  tags(): this { return this.flexible ? this.uvarint(0) : this; }

  toBuffer(): Buffer { return Buffer.concat(this.#parts); }
}

// --- loose readers of the input objects ---------------------------------------------------------

const num = (o: Obj, k: string, d = 0): number => (typeof o[k] === 'number' ? (o[k] as number) : d);
const str = (o: Obj, k: string, d: string | null = ''): string | null => (typeof o[k] === 'string' ? (o[k] as string) : o[k] === null ? null : d);
const bool = (o: Obj, k: string, d = false): boolean => (typeof o[k] === 'boolean' ? (o[k] as boolean) : d);
const arr = (o: Obj, k: string): Obj[] | null => (Array.isArray(o[k]) ? (o[k] as Obj[]) : o[k] === null ? null : []);
const nums = (o: Obj, k: string): number[] => (Array.isArray(o[k]) ? (o[k] as number[]) : []);
const strs = (o: Obj, k: string): string[] => (Array.isArray(o[k]) ? (o[k] as string[]) : []);
const int64 = (o: Obj, k: string, d = 0): number | string => (typeof o[k] === 'number' || typeof o[k] === 'string' ? (o[k] as number | string) : d);
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** A bytes field given as the dissector shows one ({ base64 }) or as bytes. */
function bytesOf(v: unknown): Uint8Array | null {
  if (v === null) return null;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'object' && v !== null && typeof (v as Obj)['base64'] === 'string') return Buffer.from((v as Obj)['base64'] as string, 'base64');
  return new Uint8Array(0);
}

// --- record batches ----------------------------------------------------------------------------

export interface RecordInput {
  readonly key: string | null;
  readonly value: string | null;
}

export interface RecordsInput {
  readonly baseOffset: number;
  readonly records: readonly RecordInput[];
  readonly timestampMs?: number;
}

/** One uncompressed record batch (magic 2) holding `records`, offsets from `baseOffset`. */
export function recordBatch(input: RecordsInput): Buffer {
  const ts = input.timestampMs ?? 1_700_000_000_000;
  const records = input.records.map((r, i) => {
    const body = new Writer();
    body.int8(0).varint(0).varint(i);
    const key = r.key === null ? null : Buffer.from(r.key);
    const value = r.value === null ? null : Buffer.from(r.value);
    if (key === null) body.varint(-1); else body.varint(key.length).raw(key);
    if (value === null) body.varint(-1); else body.varint(value.length).raw(value);
    body.varint(0);
    const b = body.toBuffer();
    return new Writer().varint(b.length).raw(b).toBuffer();
  });
  const afterCrc = new Writer()
    .int16(0) // attributes: no compression
    .int32(Math.max(0, input.records.length - 1))
    .int64(ts)
    .int64(ts)
    .int64(-1) // producer id
    .int16(-1)
    .int32(-1)
    .int32(input.records.length);
  for (const r of records) afterCrc.raw(r);
  const tail = afterCrc.toBuffer();
  const crcAndAfter = new Writer().int32(0).int8(2).uint32(crc32c(tail)).raw(tail).toBuffer(); // leader epoch, magic, crc
  return new Writer().int64(input.baseOffset).int32(crcAndAfter.length).raw(crcAndAfter).toBuffer();
}

/** A RECORDS field: the batch's bytes as NULLABLE_BYTES (compact in flexible versions). */
function records(w: Writer, v: unknown): void {
  if (v === null || v === undefined) return void w.bytes(null);
  const input = v as RecordsInput;
  w.bytes(input.records.length === 0 ? new Uint8Array(0) : recordBatch(input));
}

// --- bodies --------------------------------------------------------------------------------------

type BodyEncoder = (w: Writer, v: number, o: Obj) => void;

const produceRequest: BodyEncoder = (w, v, o) => {
  if (v >= 3) w.string(str(o, 'transactionalId', null));
  w.int16(num(o, 'acks', -1)).int32(num(o, 'timeoutMs', 30000));
  w.array(arr(o, 'topicData'), (t) => {
    w.string(str(t, 'topic'));
    w.array(arr(t, 'partitions'), (p) => { w.int32(num(p, 'partition')); records(w, p['records']); w.tags(); });
    w.tags();
  });
};

const produceResponse: BodyEncoder = (w, v, o) => {
  w.array(arr(o, 'responses'), (t) => {
    w.string(str(t, 'topic'));
    w.array(arr(t, 'partitions'), (p) => {
      w.int32(num(p, 'partition')).int16(num(p, 'errorCode')).int64(int64(p, 'baseOffset'));
      if (v >= 2) w.int64(int64(p, 'logAppendTimeMs', -1));
      if (v >= 5) w.int64(int64(p, 'logStartOffset'));
      if (v >= 8) {
        w.array(arr(p, 'recordErrors'), (e) => { w.int32(num(e, 'batchIndex')).string(str(e, 'batchIndexErrorMessage', null)).tags(); });
        w.string(str(p, 'errorMessage', null));
      }
      w.tags();
    });
    w.tags();
  });
  if (v >= 1) w.int32(num(o, 'throttleTimeMs'));
};

const fetchRequest: BodyEncoder = (w, v, o) => {
  if (v <= 14) w.int32(num(o, 'replicaId', -1));
  w.int32(num(o, 'maxWaitMs', 500)).int32(num(o, 'minBytes', 1));
  if (v >= 3) w.int32(num(o, 'maxBytes', 52428800));
  if (v >= 4) w.int8(num(o, 'isolationLevel'));
  if (v >= 7) w.int32(num(o, 'sessionId')).int32(num(o, 'sessionEpoch', -1));
  w.array(arr(o, 'topics'), (t) => {
    if (v <= 12) w.string(str(t, 'topic')); else w.uuid(str(t, 'topicId', ZERO_UUID)!);
    w.array(arr(t, 'partitions'), (p) => {
      w.int32(num(p, 'partition'));
      if (v >= 9) w.int32(num(p, 'currentLeaderEpoch', -1));
      w.int64(int64(p, 'fetchOffset'));
      if (v >= 12) w.int32(num(p, 'lastFetchedEpoch', -1));
      if (v >= 5) w.int64(int64(p, 'logStartOffset', -1));
      w.int32(num(p, 'partitionMaxBytes', 1048576));
      w.tags();
    });
    w.tags();
  });
  if (v >= 7) {
    w.array(arr(o, 'forgottenTopicsData'), (t) => {
      if (v <= 12) w.string(str(t, 'topic')); else w.uuid(str(t, 'topicId', ZERO_UUID)!);
      w.array(nums(t, 'partitions'), (p) => w.int32(p));
      w.tags();
    });
  }
  if (v >= 11) w.string(str(o, 'rackId'));
};

const fetchResponse: BodyEncoder = (w, v, o) => {
  if (v >= 1) w.int32(num(o, 'throttleTimeMs'));
  if (v >= 7) w.int16(num(o, 'errorCode')).int32(num(o, 'sessionId'));
  w.array(arr(o, 'responses'), (t) => {
    if (v <= 12) w.string(str(t, 'topic')); else w.uuid(str(t, 'topicId', ZERO_UUID)!);
    w.array(arr(t, 'partitions'), (p) => {
      w.int32(num(p, 'partition')).int16(num(p, 'errorCode')).int64(int64(p, 'highWatermark'));
      if (v >= 4) {
        w.int64(int64(p, 'lastStableOffset', -1));
        if (v >= 5) w.int64(int64(p, 'logStartOffset', -1));
        w.array(arr(p, 'abortedTransactions'), (a) => { w.int64(int64(a, 'producerId')).int64(int64(a, 'firstOffset')).tags(); });
      }
      if (v >= 11) w.int32(num(p, 'preferredReadReplica', -1));
      records(w, p['records']);
      w.tags();
    });
    w.tags();
  });
};

const listOffsetsRequest: BodyEncoder = (w, v, o) => {
  w.int32(num(o, 'replicaId', -1));
  if (v >= 2) w.int8(num(o, 'isolationLevel'));
  w.array(arr(o, 'topics'), (t) => {
    w.string(str(t, 'topic'));
    w.array(arr(t, 'partitions'), (p) => {
      w.int32(num(p, 'partition'));
      if (v >= 4) w.int32(num(p, 'currentLeaderEpoch', -1));
      w.int64(int64(p, 'timestamp', -1));
      if (v === 0) w.int32(num(p, 'maxNumOffsets', 1));
      w.tags();
    });
    w.tags();
  });
};

const listOffsetsResponse: BodyEncoder = (w, v, o) => {
  if (v >= 2) w.int32(num(o, 'throttleTimeMs'));
  w.array(arr(o, 'topics'), (t) => {
    w.string(str(t, 'topic'));
    w.array(arr(t, 'partitions'), (p) => {
      w.int32(num(p, 'partition')).int16(num(p, 'errorCode'));
      if (v === 0) w.array(nums(p, 'oldStyleOffsets'), (x) => w.int64(x));
      else w.int64(int64(p, 'timestamp', -1)).int64(int64(p, 'offset'));
      if (v >= 4) w.int32(num(p, 'leaderEpoch', -1));
      w.tags();
    });
    w.tags();
  });
};

const metadataRequest: BodyEncoder = (w, v, o) => {
  w.array(arr(o, 'topics'), (t) => {
    if (v >= 10) w.uuid(str(t, 'topicId', ZERO_UUID)!);
    w.string(str(t, 'name'));
    w.tags();
  });
  if (v >= 4) w.bool(bool(o, 'allowAutoTopicCreation', true));
  if (v >= 8 && v <= 10) w.bool(bool(o, 'includeClusterAuthorizedOperations'));
  if (v >= 8) w.bool(bool(o, 'includeTopicAuthorizedOperations'));
};

const metadataResponse: BodyEncoder = (w, v, o) => {
  if (v >= 3) w.int32(num(o, 'throttleTimeMs'));
  w.array(arr(o, 'brokers'), (b) => {
    w.int32(num(b, 'nodeId')).string(str(b, 'host')).int32(num(b, 'port', 9092));
    if (v >= 1) w.string(str(b, 'rack', null));
    w.tags();
  });
  if (v >= 2) w.string(str(o, 'clusterId', null));
  if (v >= 1) w.int32(num(o, 'controllerId'));
  w.array(arr(o, 'topics'), (t) => {
    w.int16(num(t, 'errorCode')).string(str(t, 'name'));
    if (v >= 10) w.uuid(str(t, 'topicId', ZERO_UUID)!);
    if (v >= 1) w.bool(bool(t, 'isInternal'));
    w.array(arr(t, 'partitions'), (p) => {
      w.int16(num(p, 'errorCode')).int32(num(p, 'partition')).int32(num(p, 'leaderId'));
      if (v >= 7) w.int32(num(p, 'leaderEpoch'));
      w.array(nums(p, 'replicaNodes'), (x) => w.int32(x));
      w.array(nums(p, 'isrNodes'), (x) => w.int32(x));
      if (v >= 5) w.array(nums(p, 'offlineReplicas'), (x) => w.int32(x));
      w.tags();
    });
    if (v >= 8) w.int32(num(t, 'topicAuthorizedOperations', -2147483648));
    w.tags();
  });
  if (v >= 8 && v <= 10) w.int32(num(o, 'clusterAuthorizedOperations', -2147483648));
  if (v >= 13) w.int16(num(o, 'errorCode'));
};

const offsetCommitRequest: BodyEncoder = (w, v, o) => {
  w.string(str(o, 'groupId'));
  if (v >= 1) w.int32(num(o, 'generationId', -1)).string(str(o, 'memberId'));
  if (v >= 7) w.string(str(o, 'groupInstanceId', null));
  if (v >= 2 && v <= 4) w.int64(int64(o, 'retentionTimeMs', -1));
  w.array(arr(o, 'topics'), (t) => {
    w.string(str(t, 'name'));
    w.array(arr(t, 'partitions'), (p) => {
      w.int32(num(p, 'partition')).int64(int64(p, 'committedOffset'));
      if (v >= 6) w.int32(num(p, 'committedLeaderEpoch', -1));
      if (v === 1) w.int64(int64(p, 'commitTimestamp', -1));
      w.string(str(p, 'committedMetadata', null));
      w.tags();
    });
    w.tags();
  });
};

const offsetCommitResponse: BodyEncoder = (w, v, o) => {
  if (v >= 3) w.int32(num(o, 'throttleTimeMs'));
  w.array(arr(o, 'topics'), (t) => {
    w.string(str(t, 'name'));
    w.array(arr(t, 'partitions'), (p) => { w.int32(num(p, 'partition')).int16(num(p, 'errorCode')).tags(); });
    w.tags();
  });
};

const offsetFetchRequest: BodyEncoder = (w, v, o) => {
  const topics = (t: Obj): void => { w.string(str(t, 'name')).array(nums(t, 'partitionIndexes'), (x) => w.int32(x)).tags(); };
  if (v <= 7) {
    w.string(str(o, 'groupId'));
    w.array(arr(o, 'topics'), topics);
  } else {
    w.array(arr(o, 'groups'), (g) => {
      w.string(str(g, 'groupId'));
      if (v >= 9) w.string(str(g, 'memberId', null)).int32(num(g, 'memberEpoch', -1));
      w.array(arr(g, 'topics'), topics);
      w.tags();
    });
  }
  if (v >= 7) w.bool(bool(o, 'requireStable'));
};

const offsetFetchResponse: BodyEncoder = (w, v, o) => {
  const partitions = (p: Obj): void => {
    w.int32(num(p, 'partition')).int64(int64(p, 'committedOffset', -1));
    if (v >= 5) w.int32(num(p, 'committedLeaderEpoch', -1));
    w.string(str(p, 'metadata', null)).int16(num(p, 'errorCode')).tags();
  };
  if (v >= 3) w.int32(num(o, 'throttleTimeMs'));
  if (v <= 7) {
    w.array(arr(o, 'topics'), (t) => { w.string(str(t, 'name')).array(arr(t, 'partitions'), partitions).tags(); });
    if (v >= 2) w.int16(num(o, 'errorCode'));
  } else {
    w.array(arr(o, 'groups'), (g) => {
      w.string(str(g, 'groupId'));
      w.array(arr(g, 'topics'), (t) => { w.string(str(t, 'name')).array(arr(t, 'partitions'), partitions).tags(); });
      w.int16(num(g, 'errorCode')).tags();
    });
  }
};

const findCoordinatorRequest: BodyEncoder = (w, v, o) => {
  if (v <= 3) w.string(str(o, 'key'));
  if (v >= 1) w.int8(num(o, 'keyType'));
  if (v >= 4) w.array(strs(o, 'coordinatorKeys'), (k) => w.string(k));
};

const findCoordinatorResponse: BodyEncoder = (w, v, o) => {
  if (v >= 1) w.int32(num(o, 'throttleTimeMs'));
  if (v <= 3) {
    w.int16(num(o, 'errorCode'));
    if (v >= 1) w.string(str(o, 'errorMessage', null));
    w.int32(num(o, 'nodeId')).string(str(o, 'host')).int32(num(o, 'port', 9092));
  } else {
    w.array(arr(o, 'coordinators'), (c) => {
      w.string(str(c, 'key')).int32(num(c, 'nodeId')).string(str(c, 'host')).int32(num(c, 'port', 9092));
      w.int16(num(c, 'errorCode')).string(str(c, 'errorMessage', null)).tags();
    });
  }
};

const joinGroupRequest: BodyEncoder = (w, v, o) => {
  w.string(str(o, 'groupId')).int32(num(o, 'sessionTimeoutMs', 30000));
  if (v >= 1) w.int32(num(o, 'rebalanceTimeoutMs', 60000));
  w.string(str(o, 'memberId'));
  if (v >= 5) w.string(str(o, 'groupInstanceId', null));
  w.string(str(o, 'protocolType', 'consumer'));
  w.array(arr(o, 'protocols'), (p) => { w.string(str(p, 'name')).bytes(bytesOf(p['metadata'])).tags(); });
  if (v >= 8) w.string(str(o, 'reason', null));
};

const joinGroupResponse: BodyEncoder = (w, v, o) => {
  if (v >= 2) w.int32(num(o, 'throttleTimeMs'));
  w.int16(num(o, 'errorCode')).int32(num(o, 'generationId'));
  if (v >= 7) w.string(str(o, 'protocolType', null));
  w.string(str(o, 'protocolName'));
  w.string(str(o, 'leader'));
  if (v >= 9) w.bool(bool(o, 'skipAssignment'));
  w.string(str(o, 'memberId'));
  w.array(arr(o, 'members'), (m) => {
    w.string(str(m, 'memberId'));
    if (v >= 5) w.string(str(m, 'groupInstanceId', null));
    w.bytes(bytesOf(m['metadata'])).tags();
  });
};

const heartbeatRequest: BodyEncoder = (w, v, o) => {
  w.string(str(o, 'groupId')).int32(num(o, 'generationId')).string(str(o, 'memberId'));
  if (v >= 3) w.string(str(o, 'groupInstanceId', null));
};

const errorOnly: BodyEncoder = (w, v, o) => {
  if (v >= 1) w.int32(num(o, 'throttleTimeMs'));
  w.int16(num(o, 'errorCode'));
};

const leaveGroupRequest: BodyEncoder = (w, v, o) => {
  w.string(str(o, 'groupId'));
  if (v <= 2) w.string(str(o, 'memberId'));
  else w.array(arr(o, 'members'), (m) => {
    w.string(str(m, 'memberId')).string(str(m, 'groupInstanceId', null));
    if (v >= 5) w.string(str(m, 'reason', null));
    w.tags();
  });
};

const leaveGroupResponse: BodyEncoder = (w, v, o) => {
  errorOnly(w, v, o);
  if (v >= 3) w.array(arr(o, 'members'), (m) => { w.string(str(m, 'memberId')).string(str(m, 'groupInstanceId', null)).int16(num(m, 'errorCode')).tags(); });
};

const syncGroupRequest: BodyEncoder = (w, v, o) => {
  w.string(str(o, 'groupId')).int32(num(o, 'generationId')).string(str(o, 'memberId'));
  if (v >= 3) w.string(str(o, 'groupInstanceId', null));
  if (v >= 5) w.string(str(o, 'protocolType', null)).string(str(o, 'protocolName', null));
  w.array(arr(o, 'assignments'), (a) => { w.string(str(a, 'memberId')).bytes(bytesOf(a['assignment'])).tags(); });
};

const syncGroupResponse: BodyEncoder = (w, v, o) => {
  errorOnly(w, v, o);
  if (v >= 5) w.string(str(o, 'protocolType', null)).string(str(o, 'protocolName', null));
  w.bytes(bytesOf(o['assignment'] ?? new Uint8Array(0)));
};

const apiVersionsRequest: BodyEncoder = (w, v, o) => {
  if (v >= 3) w.string(str(o, 'clientSoftwareName')).string(str(o, 'clientSoftwareVersion'));
};

const apiVersionsResponse: BodyEncoder = (w, v, o) => {
  w.int16(num(o, 'errorCode'));
  w.array(arr(o, 'apiKeys'), (k) => { w.int16(num(k, 'apiKey')).int16(num(k, 'minVersion')).int16(num(k, 'maxVersion')).tags(); });
  if (v >= 1) w.int32(num(o, 'throttleTimeMs'));
};

const createTopicsRequest: BodyEncoder = (w, v, o) => {
  w.array(arr(o, 'topics'), (t) => {
    w.string(str(t, 'name')).int32(num(t, 'numPartitions', -1)).int16(num(t, 'replicationFactor', -1));
    w.array(arr(t, 'assignments'), (a) => { w.int32(num(a, 'partition')).array(nums(a, 'brokerIds'), (x) => w.int32(x)).tags(); });
    w.array(arr(t, 'configs'), (c) => { w.string(str(c, 'name')).string(str(c, 'value', null)).tags(); });
    w.tags();
  });
  w.int32(num(o, 'timeoutMs', 30000));
  if (v >= 1) w.bool(bool(o, 'validateOnly'));
};

const createTopicsResponse: BodyEncoder = (w, v, o) => {
  if (v >= 2) w.int32(num(o, 'throttleTimeMs'));
  w.array(arr(o, 'topics'), (t) => {
    w.string(str(t, 'name'));
    if (v >= 7) w.uuid(str(t, 'topicId', ZERO_UUID)!);
    w.int16(num(t, 'errorCode'));
    if (v >= 1) w.string(str(t, 'errorMessage', null));
    if (v >= 5) {
      w.int32(num(t, 'numPartitions', -1)).int16(num(t, 'replicationFactor', -1));
      w.array(arr(t, 'configs'), (c) => {
        w.string(str(c, 'name')).string(str(c, 'value', null)).bool(bool(c, 'readOnly')).int8(num(c, 'configSource')).bool(bool(c, 'isSensitive')).tags();
      });
    }
    w.tags();
  });
};

const deleteTopicsRequest: BodyEncoder = (w, v, o) => {
  if (v <= 5) w.array(strs(o, 'topicNames'), (n) => w.string(n));
  else w.array(arr(o, 'topics'), (t) => { w.string(str(t, 'name', null)).uuid(str(t, 'topicId', ZERO_UUID)!).tags(); });
  w.int32(num(o, 'timeoutMs', 30000));
};

const deleteTopicsResponse: BodyEncoder = (w, v, o) => {
  if (v >= 1) w.int32(num(o, 'throttleTimeMs'));
  w.array(arr(o, 'responses'), (r) => {
    w.string(str(r, 'name', null));
    if (v >= 6) w.uuid(str(r, 'topicId', ZERO_UUID)!);
    w.int16(num(r, 'errorCode'));
    if (v >= 5) w.string(str(r, 'errorMessage', null));
    w.tags();
  });
};

const saslHandshakeRequest: BodyEncoder = (w, _v, o) => { w.string(str(o, 'mechanism')); };
const saslHandshakeResponse: BodyEncoder = (w, _v, o) => { w.int16(num(o, 'errorCode')).array(strs(o, 'mechanisms'), (m) => w.string(m)); };
const saslAuthenticateRequest: BodyEncoder = (w, _v, o) => { w.bytes(bytesOf(o['authBytes'])); };
const saslAuthenticateResponse: BodyEncoder = (w, v, o) => {
  w.int16(num(o, 'errorCode')).string(str(o, 'errorMessage', null)).bytes(bytesOf(o['authBytes']));
  if (v >= 1) w.int64(int64(o, 'sessionLifetimeMs'));
};

export interface ApiSpec {
  readonly key: number;
  readonly name: string;
  readonly maxVersion: number;
  /** First flexible version; Infinity for none. */
  readonly flexibleFrom: number;
  readonly request: BodyEncoder;
  readonly response: BodyEncoder;
}

/** The APIs this encoder writes, with the version ranges and first flexible versions of the protocol guide. */
export const APIS: readonly ApiSpec[] = [
  { key: 0, name: 'Produce', maxVersion: 12, flexibleFrom: 9, request: produceRequest, response: produceResponse },
  { key: 1, name: 'Fetch', maxVersion: 17, flexibleFrom: 12, request: fetchRequest, response: fetchResponse },
  { key: 2, name: 'ListOffsets', maxVersion: 9, flexibleFrom: 6, request: listOffsetsRequest, response: listOffsetsResponse },
  { key: 3, name: 'Metadata', maxVersion: 13, flexibleFrom: 9, request: metadataRequest, response: metadataResponse },
  { key: 8, name: 'OffsetCommit', maxVersion: 9, flexibleFrom: 8, request: offsetCommitRequest, response: offsetCommitResponse },
  { key: 9, name: 'OffsetFetch', maxVersion: 9, flexibleFrom: 6, request: offsetFetchRequest, response: offsetFetchResponse },
  { key: 10, name: 'FindCoordinator', maxVersion: 6, flexibleFrom: 3, request: findCoordinatorRequest, response: findCoordinatorResponse },
  { key: 11, name: 'JoinGroup', maxVersion: 9, flexibleFrom: 6, request: joinGroupRequest, response: joinGroupResponse },
  { key: 12, name: 'Heartbeat', maxVersion: 4, flexibleFrom: 4, request: heartbeatRequest, response: errorOnly },
  { key: 13, name: 'LeaveGroup', maxVersion: 5, flexibleFrom: 4, request: leaveGroupRequest, response: leaveGroupResponse },
  { key: 14, name: 'SyncGroup', maxVersion: 5, flexibleFrom: 4, request: syncGroupRequest, response: syncGroupResponse },
  { key: 17, name: 'SaslHandshake', maxVersion: 1, flexibleFrom: Infinity, request: saslHandshakeRequest, response: saslHandshakeResponse },
  { key: 18, name: 'ApiVersions', maxVersion: 4, flexibleFrom: 3, request: apiVersionsRequest, response: apiVersionsResponse },
  { key: 19, name: 'CreateTopics', maxVersion: 7, flexibleFrom: 5, request: createTopicsRequest, response: createTopicsResponse },
  { key: 20, name: 'DeleteTopics', maxVersion: 6, flexibleFrom: 4, request: deleteTopicsRequest, response: deleteTopicsResponse },
  { key: 36, name: 'SaslAuthenticate', maxVersion: 2, flexibleFrom: 2, request: saslAuthenticateRequest, response: saslAuthenticateResponse },
];

export function apiSpec(key: number): ApiSpec {
  const s = APIS.find((a) => a.key === key);
  if (s === undefined) throw new Error(`no encoder for API key ${key}`);
  return s;
}

function sized(body: Buffer): Buffer {
  return new Writer().int32(body.length).raw(body).toBuffer();
}

/** A whole request message (size, header v1 or v2, body). */
export function encodeRequest(apiKey: number, version: number, correlationId: number, clientId: string | null, body: Obj): Buffer {
  const spec = apiSpec(apiKey);
  const flexible = version >= spec.flexibleFrom;
  const w = new Writer(flexible);
  w.int16(apiKey).int16(version).int32(correlationId).classicString(clientId);
  w.tags();
  spec.request(w, version, body);
  w.tags();
  return sized(w.toBuffer());
}

/** A whole response message (size, header v0 or v1 — ApiVersions always v0 — body). */
export function encodeResponse(apiKey: number, version: number, correlationId: number, body: Obj): Buffer {
  const spec = apiSpec(apiKey);
  const flexible = version >= spec.flexibleFrom;
  const w = new Writer(flexible);
  w.int32(correlationId);
  if (flexible && apiKey !== 18) w.tags();
  spec.response(w, version, body);
  w.tags();
  return sized(w.toBuffer());
}
