/**
 * PostgreSQL type OIDs (the fixed ones of pg_type.dat) by name, and values of common types decoded
 * from the binary format; anything else is shown as `\x` and hex, as psql shows bytea.
 */
import { readText } from './wire-reader.ts';

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [16, 'bool'], [17, 'bytea'], [18, 'char'], [19, 'name'], [20, 'int8'], [21, 'int2'], [23, 'int4'],
  [25, 'text'], [26, 'oid'], [114, 'json'], [700, 'float4'], [701, 'float8'], [705, 'unknown'],
  [1042, 'bpchar'], [1043, 'varchar'], [1082, 'date'], [1083, 'time'], [1114, 'timestamp'],
  [1184, 'timestamptz'], [1700, 'numeric'], [2950, 'uuid'], [3802, 'jsonb'],
]);

/** `int4` for 23; the OID as text for others; "" for 0 (unspecified: the server infers it). */
export function typeName(oid: number): string {
  if (oid === 0) return '';
  return TYPE_NAMES.get(oid) ?? String(oid >>> 0);
}

/** Bytes of a value shown as hex at most (the rest is cut with an ellipsis). */
const MAX_HEX_BYTES = 256;

/** A value in the text format: its text. */
export function textValue(bytes: Uint8Array, maxChars: number): string {
  return readText(bytes, maxChars);
}

/** A value in the binary format of type `oid`, decoded for common types, else hex. */
export function binaryValue(oid: number, bytes: Uint8Array, maxChars: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  switch (oid) {
    case 16:
      if (bytes.length === 1) return bytes[0] === 0 ? 'f' : 't';
      break;
    case 21:
      if (bytes.length === 2) return String(view.getInt16(0));
      break;
    case 23:
      if (bytes.length === 4) return String(view.getInt32(0));
      break;
    case 26:
      if (bytes.length === 4) return String(view.getUint32(0));
      break;
    case 20:
      if (bytes.length === 8) return String(view.getBigInt64(0));
      break;
    case 700:
      if (bytes.length === 4) return String(view.getFloat32(0));
      break;
    case 701:
      if (bytes.length === 8) return String(view.getFloat64(0));
      break;
    case 18: case 19: case 25: case 114: case 705: case 1042: case 1043:
      return readText(bytes, maxChars);
    case 3802:
      // jsonb's binary form is a version byte (1) and the JSON text.
      if (bytes.length >= 1 && bytes[0] === 1) return readText(bytes.subarray(1), maxChars);
      break;
    case 2950:
      if (bytes.length === 16) {
        const h = hex(bytes);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      break;
  }
  return hexValue(bytes);
}

/** `\x` and the bytes in hex (at most MAX_HEX_BYTES, then `…`). */
export function hexValue(bytes: Uint8Array): string {
  const cut = bytes.length > MAX_HEX_BYTES;
  return `\\x${hex(cut ? bytes.subarray(0, MAX_HEX_BYTES) : bytes)}${cut ? '…' : ''}`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}
