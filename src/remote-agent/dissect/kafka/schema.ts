/**
 * Message bodies described as data, the way Kafka's own JSON message specs do: each field has a
 * type and the versions it is in; one decoder reads any body in any version from its description,
 * switching to the compact forms and tagged fields in flexible versions. Bounded: array counts are
 * checked against the bytes left, and the values kept per message are capped.
 */
import { summariseRecords, type ByteBudget } from './record-batch.ts';
import { KafkaDecodeError, WireReader } from './wire-reader.ts';

export type Primitive = 'int8' | 'int16' | 'int32' | 'int64' | 'uint16' | 'float64' | 'bool' | 'string' | 'uuid' | 'bytes' | 'records';

export type FieldType = Primitive | { readonly array: FieldType } | { readonly struct: readonly Field[] };

export interface Field {
  readonly name: string;
  readonly type: FieldType;
  /** First version that has the field. */
  readonly min: number;
  /** Last version that has it (inclusive); Infinity when it is still there. */
  readonly max: number;
}

/** A field in versions `min`..`max` (`f('topic', 'string', 0, 12)`). */
export function f(name: string, type: FieldType, min = 0, max = Infinity): Field {
  return Object.freeze({ name, type, min, max });
}

export const arrayOf = (type: FieldType): FieldType => Object.freeze({ array: type });
export const struct = (...fields: Field[]): FieldType => Object.freeze({ struct: Object.freeze(fields) });

/** A decoded body: field name -> value (numbers, strings, booleans, null, arrays, objects). */
export type KafkaPayload = { [field: string]: KafkaValue };
export type KafkaValue = number | string | boolean | null | KafkaPayload | readonly KafkaValue[] | object;

/** Values (numbers, strings, elements) kept from one message at most. */
export const MAX_VALUES_PER_MESSAGE = 50_000;

export interface DecodeResult {
  /** What was read: all of the body, or what came before the point it broke at. */
  readonly payload: KafkaPayload;
  /** Why the body could not be read to its end; absent when it was. */
  readonly problem?: string;
  /** Values read (numbers, strings, elements): what the payload costs to hold, roughly. */
  readonly values: number;
}

interface Budget extends ByteBudget {
  values: number;
}

/**
 * Reads a body of `fields` in `version` from `r`. Never throws on bad bytes: the fields read before
 * the problem are returned with it. `recordBytes` is what the record keys and values kept may take.
 */
export function decodeBody(r: WireReader, fields: readonly Field[], version: number, flexible: boolean, recordBytes: number): DecodeResult {
  const payload: KafkaPayload = {};
  const budget: Budget = { left: recordBytes, records: 0, values: 0 };
  try {
    readStruct(r, fields, version, flexible, payload, budget);
    return { payload, values: budget.values };
  } catch (e) {
    if (!(e instanceof KafkaDecodeError)) throw e;
    return { payload, problem: e.message, values: budget.values };
  }
}

function readStruct(r: WireReader, fields: readonly Field[], version: number, flexible: boolean, into: KafkaPayload, budget: Budget): void {
  for (const field of fields) {
    if (version < field.min || version > field.max) continue;
    into[field.name] = null;
    into[field.name] = readValue(r, field.type, version, flexible, budget);
  }
  if (flexible) r.taggedFields();
}

function readValue(r: WireReader, type: FieldType, version: number, flexible: boolean, budget: Budget): KafkaValue {
  if (++budget.values > MAX_VALUES_PER_MESSAGE) throw new KafkaDecodeError(`more than ${MAX_VALUES_PER_MESSAGE} values in one message`);
  if (typeof type === 'string') return readPrimitive(r, type, flexible, budget);
  if ('array' in type) {
    const n = r.length('array', flexible);
    if (n < 0) return null;
    // Every element takes at least one byte: a count past the bytes left is a lie, refused before any allocation.
    if (n > r.remaining) throw new KafkaDecodeError(`array of ${n} elements with ${r.remaining} bytes left`);
    const out: KafkaValue[] = [];
    for (let i = 0; i < n; i++) out.push(readValue(r, type.array, version, flexible, budget));
    return out;
  }
  const obj: KafkaPayload = {};
  readStruct(r, type.struct, version, flexible, obj, budget);
  return obj;
}

function readPrimitive(r: WireReader, type: Primitive, flexible: boolean, budget: Budget): KafkaValue {
  switch (type) {
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'int32':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'uint16':
      return r.uint16();
    case 'float64':
      return r.float64();
    case 'bool':
      return r.bool();
    case 'string':
      return r.string(flexible);
    case 'uuid':
      return r.uuid();
    case 'bytes': {
      const b = r.bytes(flexible);
      return b === null ? null : { sizeBytes: b.length, base64: Buffer.from(b.subarray(0, Math.max(0, Math.min(b.length, budget.left)))).toString('base64') };
    }
    case 'records': {
      const n = r.length('bytes', flexible);
      if (n < 0) return null;
      // The message may have been cut (framing keeps a bounded prefix): summarise what is there.
      const have = Math.min(n, r.remaining);
      const bytes = r.raw(have);
      // What follows the set is past the kept bytes: the next read stops the body there.
      return summariseRecords(bytes, n, budget);
    }
  }
}
