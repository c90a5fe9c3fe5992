/**
 * How RESP looks from its first bytes (redis.io "Redis serialization protocol specification"): the
 * one definition the Redis dissector (sniff and confirmReply, resynchronising) and the guess of
 * undissected traffic (guess/redis.ts) share.
 *
 * A client sends each command as an array of bulk strings, `*2\r\n$3\r\nGET\r\n...`, whose first
 * element is the command's name, or as an inline line (`PING\r\n`, `PUBLISH news hi\r\n`), which
 * looks like any text protocol and is only taken for a known command name; a server answers with
 * a typed line (`+OK`, `-ERR ...`, `:1`, `$5`, `*2`, RESP3 `%1`, `>3`...). Each alone is weak (a
 * POP3 greeting is `+OK ...`), so the dissector wants both directions to agree.
 */
import type { SniffResult } from '../dissector.ts';
import type { SniffDirection } from '../guess/sniffer.ts';

const CR = 0x0d;
const LF = 0x0a;
/** Command names are short words ("CLIENT", "SUBSCRIBE", "FUNCTION"). */
const MAX_COMMAND_NAME = 32;
const MAX_DIGITS = 10;
/** Simple-string replies a server opens with; other "+..." lines (POP3's "+OK POP3 ready") are not Redis. */
const SIMPLE_REPLIES = ['+OK\r\n', '+PONG\r\n', '+QUEUED\r\n', '+RESET\r\n'].map((s) => new TextEncoder().encode(s));

/**
 * Commands taken when sent inline (redis-cli and scripts type them so, `nc` users too): the common
 * ones. An inline line with another first word is not taken for Redis.
 */
const INLINE_COMMANDS = new Set(
  (
    'PING ECHO AUTH HELLO SELECT QUIT RESET INFO DBSIZE TIME COMMAND CLIENT CONFIG MONITOR FLUSHALL FLUSHDB ' +
    'GET SET SETEX SETNX GETSET GETDEL MGET MSET DEL UNLINK EXISTS EXPIRE PEXPIRE TTL PTTL PERSIST TYPE KEYS SCAN RENAME ' +
    'INCR INCRBY DECR DECRBY APPEND STRLEN HGET HSET HMGET HMSET HDEL HGETALL HKEYS HVALS HLEN HINCRBY HEXISTS ' +
    'LPUSH RPUSH LPOP RPOP LRANGE LLEN LINDEX BLPOP BRPOP SADD SREM SMEMBERS SISMEMBER SCARD ' +
    'ZADD ZREM ZRANGE ZREVRANGE ZSCORE ZCARD ZINCRBY XADD XRANGE XREAD XLEN ' +
    'PUBLISH SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SPUBLISH SSUBSCRIBE SUNSUBSCRIBE PUBSUB ' +
    'MULTI EXEC DISCARD WATCH UNWATCH EVAL EVALSHA SCRIPT FUNCTION FCALL SAVE BGSAVE LASTSAVE SLOWLOG ' +
    'OBJECT MEMORY LATENCY ROLE REPLICAOF SLAVEOF SHUTDOWN DEBUG WAIT ACL CLUSTER READONLY READWRITE'
  ).split(' '),
);

type Step = { readonly ok: true; readonly next: number } | { readonly ok: false; readonly result: 'no' | 'more' };

/** The sniff of the Redis dissector and of the guess: a command to the server, a reply back. */
export function sniffRedis(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  if (prefix.length === 0) return 'more';
  return direction === 'to-server' ? sniffCommand(prefix) : sniffReply(prefix);
}

/** A command: an array of bulk strings naming it, or an inline line of a known command. */
export function sniffCommand(p: Uint8Array): SniffResult {
  return p[0] === 0x2a /* * */ ? sniffCommandArray(p) : sniffInlineCommand(p);
}

/** `*<n>\r\n$<len>\r\n<name>\r\n` with n >= 1 and a name of letters (or `-`, `_`, `|` as in `ACL|LOG`). */
export function sniffCommandArray(p: Uint8Array): SniffResult {
  if (p[0] !== 0x2a /* * */) return 'no';
  const count = integerLine(p, 1, false);
  if (!count.ok) return count.result;
  if (readInteger(p, 1) < 1) return 'no';
  if (count.next >= p.length) return 'more';
  if (p[count.next] !== 0x24 /* $ */) return 'no';
  const nameLength = integerLine(p, count.next + 1, false);
  if (!nameLength.ok) return nameLength.result;
  const length = readInteger(p, count.next + 1);
  if (length < 1 || length > MAX_COMMAND_NAME) return 'no';
  const start = nameLength.next;
  for (let i = start; i < start + length; i++) {
    if (i >= p.length) return 'more';
    if (!isNameByte(p[i]!)) return 'no';
  }
  if (start + length >= p.length) return 'more';
  if (p[start + length] !== CR) return 'no';
  if (start + length + 1 >= p.length) return 'more';
  return p[start + length + 1] === LF ? 'match' : 'no';
}

/** `PING\r\n`, `set k v\r\n`: a known command name (any case), then a space or the line end. */
function sniffInlineCommand(p: Uint8Array): SniffResult {
  let i = 0;
  while (i < p.length && i <= MAX_COMMAND_NAME && isLetter(p[i]!)) i++;
  if (i >= p.length) return i <= MAX_COMMAND_NAME ? 'more' : 'no';
  if (i === 0 || i > MAX_COMMAND_NAME) return 'no';
  const end = p[i]!;
  if (end !== 0x20 && end !== CR && end !== LF) return 'no';
  let name = '';
  for (let j = 0; j < i; j++) name += String.fromCharCode(p[j]! & ~0x20);
  if (!INLINE_COMMANDS.has(name)) return 'no';
  // The line must end (a command line is short): text protocols' long lines are not Redis, nor is
  // an HTTP request line (`GET /x HTTP/1.1`).
  for (let j = i; j < p.length; j++) {
    if (p[j] === LF) return isHttpRequestLine(p, j) ? 'no' : 'match';
    if (p[j]! < 0x20 && p[j] !== CR && p[j] !== 0x09) return 'no';
  }
  return p.length < 256 ? 'more' : 'no';
}

/** A line ending in ` HTTP/<digit>.<digit>` before `lf` (CR optional). */
function isHttpRequestLine(p: Uint8Array, lf: number): boolean {
  const end = lf > 0 && p[lf - 1] === CR ? lf - 1 : lf;
  const tail = ' HTTP/1.1';
  if (end < tail.length) return false;
  for (let k = 0; k < 6; k++) if (p[end - tail.length + k] !== tail.charCodeAt(k)) return false;
  return true;
}

/** What a server opens with: a common simple string, an error, or a typed header line. */
export function sniffReply(p: Uint8Array): SniffResult {
  switch (p[0]) {
    case 0x2b /* + */:
      for (const reply of SIMPLE_REPLIES) {
        const verdict = startsWith(p, reply);
        if (verdict !== 'no') return verdict;
      }
      return 'no';
    case 0x2d /* - */:
      return errorLine(p);
    case 0x3a /* : */:
    case 0x24 /* $ */:
    case 0x2a /* * */:
    case 0x25 /* % (RESP3 map) */:
    case 0x3e /* > (RESP3 push) */:
    case 0x7e /* ~ (RESP3 set) */:
    case 0x7c /* | (RESP3 attribute) */:
    case 0x21 /* ! (RESP3 bulk error) */:
    case 0x3d /* = (RESP3 verbatim string) */:
    case 0x28 /* ( (RESP3 big number) */: {
      const line = integerLine(p, 1, true);
      return line.ok ? 'match' : line.result;
    }
    case 0x5f /* _ (RESP3 null) */:
      return startsWith(p, NULL_LINE);
    case 0x23 /* # (RESP3 boolean) */:
      return startsWith(p, p[1] === 0x66 ? FALSE_LINE : TRUE_LINE);
    case 0x2c /* , (RESP3 double) */:
      return doubleLine(p);
    default:
      return 'no';
  }
}

const NULL_LINE = new TextEncoder().encode('_\r\n');
const TRUE_LINE = new TextEncoder().encode('#t\r\n');
const FALSE_LINE = new TextEncoder().encode('#f\r\n');

/**
 * Where the reader may take up a server's stream again (joined midway, after a gap or bad bytes):
 * a reply's header line, of any simple-string text.
 */
export function startsReply(p: Uint8Array): 'yes' | 'no' | 'more' {
  if (p.length === 0) return 'more';
  if (p[0] === 0x2b /* + */) return printableLine(p);
  const r = sniffReply(p);
  return r === 'match' ? 'yes' : r;
}

/** Where the reader may take up a client's stream again: an array command's start. */
export function startsCommand(p: Uint8Array): 'yes' | 'no' | 'more' {
  const r = sniffCommandArray(p);
  return r === 'match' ? 'yes' : r;
}

/** `+` and a line of printable ASCII ending in CRLF. */
function printableLine(p: Uint8Array): 'yes' | 'no' | 'more' {
  for (let i = 1; i < p.length; i++) {
    const b = p[i]!;
    if (b === CR) return i + 1 >= p.length ? 'more' : p[i + 1] === LF ? 'yes' : 'no';
    if (b < 0x20 || b > 0x7e) return 'no';
  }
  return 'more';
}

/** `-ERR ...`, `-WRONGTYPE ...`: an upper-case code word, then a space or the line end. */
function errorLine(p: Uint8Array): SniffResult {
  let i = 1;
  while (i < p.length && i <= MAX_COMMAND_NAME && p[i]! >= 0x41 && p[i]! <= 0x5a) i++;
  if (i >= p.length) return 'more';
  if (i < 3) return 'no';
  return p[i] === 0x20 || p[i] === CR ? 'match' : 'no';
}

/** `,3.14\r\n`, `,inf\r\n`: the characters of a double, then CRLF. */
function doubleLine(p: Uint8Array): SniffResult {
  let i = 1;
  while (i < p.length && i < 40 && /[0-9.eE+\-infa]/.test(String.fromCharCode(p[i]!))) i++;
  if (i >= p.length) return 'more';
  if (i === 1 || p[i] !== CR) return 'no';
  if (i + 1 >= p.length) return 'more';
  return p[i + 1] === LF ? 'match' : 'no';
}

/** Digits (after an optional "-" when `signed`) ending in CRLF, starting at `from`. */
function integerLine(p: Uint8Array, from: number, signed: boolean): Step {
  let i = from;
  if (signed && p[i] === 0x2d) i++;
  const digitsFrom = i;
  while (i < p.length && i - digitsFrom <= MAX_DIGITS && p[i]! >= 0x30 && p[i]! <= 0x39) i++;
  if (i >= p.length) return { ok: false, result: 'more' };
  if (i === digitsFrom || i - digitsFrom > MAX_DIGITS || p[i] !== CR) return { ok: false, result: 'no' };
  if (i + 1 >= p.length) return { ok: false, result: 'more' };
  return p[i + 1] === LF ? { ok: true, next: i + 2 } : { ok: false, result: 'no' };
}

function readInteger(p: Uint8Array, from: number): number {
  let n = 0;
  for (let i = from; i < p.length && p[i]! >= 0x30 && p[i]! <= 0x39; i++) n = n * 10 + (p[i]! - 0x30);
  return n;
}

function startsWith(p: Uint8Array, expected: Uint8Array): SniffResult {
  const n = Math.min(p.length, expected.length);
  for (let i = 0; i < n; i++) if (p[i] !== expected[i]) return 'no';
  return n === expected.length ? 'match' : 'more';
}

function isLetter(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function isNameByte(b: number): boolean {
  return isLetter(b) || b === 0x2d || b === 0x5f || b === 0x7c || b === 0x2e || (b >= 0x30 && b <= 0x39);
}
