/**
 * A client's command as an entry's request: Kubeshark's fields (type, command, key, value,
 * keyword) read from the argument list, which is kept too (bounded).
 */
import { MAX_ARGS_KEPT, type RedisRequest } from './entry.ts';
import type { RespMessage } from './resp-reader.ts';
import { isAggregate, type RespValue } from './resp-value.ts';
import { scalarText } from './text.ts';

/** Characters of Kubeshark's `value` (the arguments after the key, joined). */
const MAX_VALUE_CHARS = 4096;

/**
 * Option words of common commands (SET's EX/PX/NX/XX, ZRANGE's WITHSCORES, SCAN's MATCH/COUNT...):
 * the first one among the arguments is Kubeshark's `keyword`.
 */
const KEYWORDS = new Set(
  ('EX PX EXAT PXAT NX XX KEEPTTL GET GT LT CH INCR WITHSCORES WITHSCORE LIMIT BYSCORE BYLEX REV MATCH COUNT TYPE ' +
    'BLOCK STREAMS NOMKSTREAM MAXLEN MINID NOACK JUSTID IDLE FORCE RETRYCOUNT LEFT RIGHT BEFORE AFTER ' +
    'STORE ASC DESC ALPHA BY WEIGHTS AGGREGATE SUM MIN MAX ASYNC SYNC COPY REPLACE AUTH AUTH2 SETNAME').split(' '),
);

/** The request of a client's message; null when it is not a command (not an array of strings). */
export function commandOf(m: RespMessage): RedisRequest | null {
  const v = m.value;
  if (v.kind !== 'array' || v.length < 1) return null;
  const first = v.items[0];
  if (first === undefined || !isStringLike(first)) return null;
  const args: string[] = [];
  for (let i = 1; i < v.items.length && args.length < MAX_ARGS_KEPT; i++) {
    const item = v.items[i]!;
    if (!isStringLike(item)) return null;
    args.push(scalarText(item));
  }
  return requestOf(m.inline ? 'Inline' : 'Array', scalarText(first).toUpperCase(), args, v.length - 1);
}

/** Kubeshark's fields from the argument list (also after redaction changed the arguments). */
export function requestOf(type: string, command: string, args: string[], argCount: number): RedisRequest {
  let keyword = '';
  for (let i = 1; i < args.length && keyword === ''; i++) {
    const word = args[i]!.toUpperCase();
    if (KEYWORDS.has(word)) keyword = word;
  }
  let value = args.slice(1).join(' ');
  if (value.length > MAX_VALUE_CHARS) value = `${value.slice(0, MAX_VALUE_CHARS)}…`;
  return { type, command, key: args[0] ?? '', value, keyword, args, argCount };
}

function isStringLike(v: RespValue): boolean {
  return !isAggregate(v) && v.kind !== 'null';
}
