/**
 * A RESP value as the reader keeps it (redis.io "Redis serialization protocol specification"):
 * RESP2's five types and RESP3's additions. Strings are kept as their first bytes only (a budget
 * per message), aggregates as their first elements only; sizes and counts are always whole.
 */

export type AggregateKind = 'array' | 'set' | 'push' | 'map';

export type RespValue =
  /** `+OK`. */
  | { readonly kind: 'simple'; readonly text: string }
  /** `-ERR ...`. */
  | { readonly kind: 'error'; readonly text: string }
  /** `:42`. */
  | { readonly kind: 'integer'; readonly text: string }
  /** `,3.14` (RESP3), `inf`, `nan` included. */
  | { readonly kind: 'double'; readonly text: string }
  /** `(3492890328409238509324850943850943825024385` (RESP3). */
  | { readonly kind: 'bignum'; readonly text: string }
  /** `#t` / `#f` (RESP3). */
  | { readonly kind: 'boolean'; readonly value: boolean }
  /** `_` (RESP3), `$-1` and `*-1` (RESP2's null bulk string and null array: `of` says which). */
  | { readonly kind: 'null'; readonly of: 'null' | 'bulk' | 'array' }
  /**
   * `$5\r\nhello`, `!21\r\nSYNTAX ...` (RESP3 bulk error), `=15\r\ntxt:Some string` (RESP3 verbatim
   * string: `format` is its three-letter format, `bytes` what follows the colon).
   */
  | { readonly kind: 'bulk' | 'bulkError' | 'verbatim'; readonly bytes: Uint8Array; readonly size: number; readonly truncated: boolean; readonly format?: string }
  /**
   * `*`, `~` (set), `>` (push), `%` (map, `items` alternate keys and values). `length` is the
   * number of elements the header announced (pairs for a map); `items` the first ones kept.
   */
  | { readonly kind: AggregateKind; readonly length: number; readonly items: readonly RespValue[] };

/** A value and the attributes (RESP3 `|`) sent before it, if any. */
export type RespNode = RespValue & { readonly attributes?: RespValue };

/** The RESP type byte of each kind, as written on the wire. */
export const TYPE_BYTES: Readonly<Record<string, number>> = Object.freeze({
  simple: 0x2b, // +
  error: 0x2d, // -
  integer: 0x3a, // :
  bulk: 0x24, // $
  array: 0x2a, // *
  null: 0x5f, // _
  boolean: 0x23, // #
  double: 0x2c, // ,
  bignum: 0x28, // (
  bulkError: 0x21, // !
  verbatim: 0x3d, // =
  map: 0x25, // %
  set: 0x7e, // ~
  attribute: 0x7c, // |
  push: 0x3e, // >
});

/** Kubeshark's type names for RESP2 (its redis/types.go) and names in the same style for RESP3's. */
export function typeName(v: RespValue): string {
  switch (v.kind) {
    case 'simple':
      return 'Simple String';
    case 'error':
      return 'Error';
    case 'integer':
      return 'Integer';
    case 'double':
      return 'Double';
    case 'bignum':
      return 'Big Number';
    case 'boolean':
      return 'Boolean';
    case 'null':
      return v.of === 'bulk' ? 'Bulk String' : v.of === 'array' ? 'Array' : 'Null';
    case 'bulk':
      return 'Bulk String';
    case 'bulkError':
      return 'Bulk Error';
    case 'verbatim':
      return 'Verbatim String';
    case 'array':
      return 'Array';
    case 'set':
      return 'Set';
    case 'push':
      return 'Push';
    case 'map':
      return 'Map';
  }
}

/** True for the kinds that hold other values. */
export function isAggregate(v: RespValue): v is Extract<RespValue, { readonly items: readonly RespValue[] }> {
  return v.kind === 'array' || v.kind === 'set' || v.kind === 'push' || v.kind === 'map';
}

/** True for error replies, simple (`-ERR`) or bulk (`!`). */
export function isErrorValue(v: RespValue): boolean {
  return v.kind === 'error' || v.kind === 'bulkError';
}
