/**
 * Recognising MySQL from a connection's first bytes: the server's greeting (HandshakeV10: packet 0,
 * protocol 10, a printable version string, a zero filler after the 8-byte nonce), or, joined
 * midway, a client command (packet 0, a known command byte, a query that is text), confirmed by
 * the other direction: a login (packet 1) after a greeting, a server answer (packet 1) after a command.
 */
import type { SniffResult } from '../dissector.ts';
import type { SniffDirection } from '../guess/sniffer.ts';
import { CAP, COM, isKnownCommand } from './codes.ts';

/** Longest command packet taken for a midway opening (a longer first packet is not recognised). */
const MAX_OPENING_COMMAND = 1 << 20;
/** Longest greeting: a version string and a plugin name, with room. */
const MAX_GREETING = 1024;

function header(p: Uint8Array): { len: number; seq: number } | null {
  if (p.length < 4) return null;
  return { len: p[0]! | (p[1]! << 8) | (p[2]! << 16), seq: p[3]! };
}

/** Printable ASCII, tab, CR, LF, or UTF-8 bytes (>= 0x80). */
function isText(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

/** A server greeting (HandshakeV10) at the start of `p`. */
export function sniffGreeting(p: Uint8Array): SniffResult {
  const h = header(p);
  if (h === null) return 'more';
  if (h.seq !== 0 || h.len < 20 || h.len > MAX_GREETING) return 'no';
  if (p.length < 5) return 'more';
  if (p[4] !== 10) return 'no';
  // The version: printable, NUL-terminated, then 4 (id) + 8 (nonce) bytes and a zero filler.
  let i = 5;
  for (; i < p.length && i < 4 + h.len; i++) {
    if (p[i] === 0) break;
    if (p[i]! < 0x20 || p[i]! > 0x7e) return 'no';
  }
  if (i >= 4 + h.len) return 'no';
  if (i >= p.length) return 'more';
  if (i === 5) return 'no';
  const filler = i + 1 + 4 + 8;
  if (filler + 3 > 4 + h.len) return 'no';
  if (filler + 3 > p.length) return 'more';
  if (p[filler] !== 0) return 'no';
  const capsLow = p[filler + 1]! | (p[filler + 2]! << 8);
  return capsLow & CAP.PROTOCOL_41 ? 'match' : 'no';
}

/** A client command packet at the start of `p` (joined midway). */
export function sniffCommand(p: Uint8Array): SniffResult {
  const h = header(p);
  if (h === null) return 'more';
  if (h.seq !== 0 || h.len < 1 || h.len > MAX_OPENING_COMMAND) return 'no';
  if (p.length < 5) return 'more';
  const cmd = p[4]!;
  if (!isKnownCommand(cmd) || cmd === 0 || cmd === COM.BINLOG_DUMP) return 'no';
  const end = Math.min(p.length, 4 + h.len);
  switch (cmd) {
    case COM.QUERY:
    case COM.STMT_PREPARE:
    case COM.INIT_DB:
      if (h.len < 2) return 'no';
      if (!isText(p, 5, end)) return 'no';
      return end - 5 >= Math.min(h.len - 1, 8) ? 'match' : 'more';
    case COM.QUIT:
    case COM.PING:
    case COM.STATISTICS:
    case COM.RESET_CONNECTION:
      return h.len === 1 ? 'match' : 'no';
    case COM.STMT_EXECUTE:
      return h.len >= 10 ? 'match' : 'no';
    case COM.STMT_CLOSE:
    case COM.STMT_RESET:
      return h.len === 5 ? 'match' : 'no';
    default:
      return 'no';
  }
}

/** A login (HandshakeResponse41 or SSLRequest: packet 1, CLIENT_PROTOCOL_41). */
function sniffLogin(p: Uint8Array): SniffResult {
  const h = header(p);
  if (h === null) return 'more';
  if (h.seq !== 1 || h.len < 32 || h.len > 64 * 1024) return 'no';
  if (p.length < 6) return 'more';
  return (p[4]! | (p[5]! << 8)) & CAP.PROTOCOL_41 ? 'match' : 'no';
}

/** A server answer to a command: packet 1, an OK, ERR, EOF, LOCAL INFILE or a column count. */
export function sniffAnswer(p: Uint8Array): SniffResult {
  const h = header(p);
  if (h === null) return 'more';
  if (h.seq !== 1 || h.len < 1) return 'no';
  if (p.length < 5) return 'more';
  const first = p[4]!;
  if (first === 0x00) return h.len >= 7 ? 'match' : 'no';
  if (first === 0xff) return h.len >= 3 ? 'match' : 'no';
  if (first === 0xfe) return h.len < 9 ? 'match' : 'no';
  if (first === 0xfb) return 'match';
  // A column count (one byte up to 250) alone in its packet.
  return first > 0 && first < 0xfb && h.len === 1 ? 'match' : 'no';
}

export function sniffMysql(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  const greeting = sniffGreeting(prefix);
  if (greeting === 'match') return 'match';
  if (direction === 'to-client' && greeting === 'more') return 'more';
  const command = sniffCommand(prefix);
  if (command !== 'no') return command;
  return greeting;
}

/** The other direction's first bytes after sniffMysql matched. */
export function confirmMysqlReply(prefix: Uint8Array, _direction: SniffDirection): SniffResult {
  const login = sniffLogin(prefix);
  if (login === 'match') return 'match';
  const answer = sniffAnswer(prefix);
  if (answer === 'match') return 'match';
  // The direction guess may be wrong midway: the reply may be the greeting or a command.
  const greeting = sniffGreeting(prefix);
  if (greeting === 'match') return 'match';
  const command = sniffCommand(prefix);
  if (command === 'match') return 'match';
  return login === 'more' || answer === 'more' || greeting === 'more' || command === 'more' ? 'more' : 'no';
}
