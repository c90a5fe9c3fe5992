/**
 * A server's reply as an entry's response, and what a push carries (pub/sub messages).
 */
import type { RedisPush, RedisResponse } from './entry.ts';
import { isAggregate, isErrorValue, typeName, type RespNode, type RespValue } from './resp-value.ts';
import { render, scalarText } from './text.ts';

/** Characters of a reply's `value`. */
export const MAX_VALUE_CHARS = 16 * 1024;

/** The response for one reply. */
export function responseOf(v: RespNode): RedisResponse {
  const res: RedisResponse = { type: typeName(v), value: render(v, MAX_VALUE_CHARS), errorCode: isErrorValue(v) ? errorCodeOf(v) : '' };
  if (v.kind === 'bulk' || v.kind === 'bulkError' || v.kind === 'verbatim') {
    res.size = v.size;
    if (v.truncated) res.truncated = true;
    if (v.format !== undefined) res.format = v.format;
  } else if (isAggregate(v)) {
    res.size = v.length;
    if (v.items.length < (v.kind === 'map' ? v.length * 2 : v.length)) res.truncated = true;
  } else if (v.kind === 'null') {
    res.nil = true;
  }
  if (v.attributes !== undefined) res.attributes = render(v.attributes, 1024);
  return res;
}

/** `WRONGTYPE` of `WRONGTYPE Operation against...`: the first word when it is an upper-case code. */
export function errorCodeOf(v: RespValue): string {
  const text = scalarText(v);
  const word = /^[A-Z][A-Z0-9_]*(?=\s|$)/.exec(text);
  return word === null ? '' : word[0];
}

/** The first element of an array or push, lower-cased, when it is a string: `message`, `subscribe`. */
export function pushKindOf(v: RespValue): string {
  if (v.kind !== 'array' && v.kind !== 'push') return '';
  const first = v.items[0];
  if (first === undefined || (first.kind !== 'bulk' && first.kind !== 'simple')) return '';
  return scalarText(first).toLowerCase();
}

/** Element `i` of an aggregate as text, `""` when absent. */
export function itemText(v: RespValue, i: number): string {
  if (!isAggregate(v)) return '';
  const x = v.items[i];
  return x === undefined ? '' : scalarText(x);
}

/** What a push carried: `message chan payload`, `pmessage pattern chan payload`, others rendered. */
export function pushOf(v: RespValue, kind: string): RedisPush {
  const items = isAggregate(v) ? v.items : [];
  const sizeOf = (x: RespValue | undefined): number => (x === undefined ? 0 : x.kind === 'bulk' ? x.size : scalarText(x).length);
  if (kind === 'pmessage') {
    return { kind, pattern: itemText(v, 1), channel: itemText(v, 2), message: itemText(v, 3), size: sizeOf(items[3]) };
  }
  if (kind === 'message' || kind === 'smessage') {
    return { kind, channel: itemText(v, 1), message: itemText(v, 2), size: sizeOf(items[2]) };
  }
  const rest: RespValue = { kind: 'array', length: Math.max(0, (isAggregate(v) ? v.length : 1) - 1), items: items.slice(1) };
  return { kind, channel: '', message: render(rest, MAX_VALUE_CHARS), size: 0 };
}
