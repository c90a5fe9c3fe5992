/**
 * RESP, the Redis serialisation protocol (redis.io "Redis serialization protocol specification").
 * A client sends each command as an array of bulk strings, `*2\r\n$3\r\nGET\r\n...`, whose first
 * element is the command's name; a server answers with a typed line (`+OK`, `-ERR ...`, `:1`,
 * `$5`, `*2`, RESP3 `%1`). Inline commands (`PING\r\n`) look like any text protocol: not matched.
 */
import type { SniffResult } from '../dissector.ts';
import type { ProtocolSniffer, SniffDirection } from './sniffer.ts';

const CR = 0x0d;
const LF = 0x0a;
/** Command names are short words ("CLIENT", "SUBSCRIBE", "FUNCTION"). */
const MAX_COMMAND_NAME = 32;
const MAX_DIGITS = 10;
/** Simple-string replies a server opens with; other "+..." lines (POP3's "+OK POP3 ready") are not Redis. */
const SIMPLE_REPLIES = ['+OK\r\n', '+PONG\r\n', '+QUEUED\r\n'].map((s) => new TextEncoder().encode(s));

type Step = { readonly ok: true; readonly next: number } | { readonly ok: false; readonly result: 'no' | 'more' };

export function sniffRedis(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  if (prefix.length === 0) return 'more';
  return direction === 'to-server' ? sniffCommand(prefix) : sniffReply(prefix);
}

/** `*<n>\r\n$<len>\r\n<name>\r\n` with n >= 1 and a name of letters. */
function sniffCommand(p: Uint8Array): SniffResult {
  if (p[0] !== 0x2a /* * */) return 'no';
  const count = integerLine(p, 1, false);
  if (!count.ok) return count.result;
  if (count.next >= p.length) return 'more';
  if (p[count.next] !== 0x24 /* $ */) return 'no';
  const nameLength = integerLine(p, count.next + 1, false);
  if (!nameLength.ok) return nameLength.result;
  const length = readInteger(p, count.next + 1);
  if (length < 1 || length > MAX_COMMAND_NAME) return 'no';
  const start = nameLength.next;
  for (let i = start; i < start + length; i++) {
    if (i >= p.length) return 'more';
    if (!isLetter(p[i]!)) return 'no';
  }
  return 'match';
}

function sniffReply(p: Uint8Array): SniffResult {
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
    case 0x25 /* % (RESP3 map) */: {
      const line = integerLine(p, 1, true);
      return line.ok ? 'match' : line.result;
    }
    default:
      return 'no';
  }
}

/** `-ERR ...`, `-WRONGTYPE ...`: an upper-case code word, then a space or the line end. */
function errorLine(p: Uint8Array): SniffResult {
  let i = 1;
  while (i < p.length && i <= MAX_COMMAND_NAME && p[i]! >= 0x41 && p[i]! <= 0x5a) i++;
  if (i >= p.length) return 'more';
  if (i < 3) return 'no';
  return p[i] === 0x20 || p[i] === CR ? 'match' : 'no';
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

export const redisSniffer: ProtocolSniffer = Object.freeze({
  id: 'redis',
  ports: Object.freeze([6379, 6380, 26379]),
  sniff: sniffRedis,
});
