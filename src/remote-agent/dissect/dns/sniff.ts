/**
 * Strict sniffs: a flow or connection the DNS dissector takes is never counted as undissected, and
 * twelve header bytes fit almost anything, so the whole message must parse: a known opcode, the
 * reserved Z bit clear, every section exactly as long as the header says, question classes that
 * exist, and a query asks something. Ports are only hints (the dissectors list 53, 5353, 5355).
 */
import type { SniffResult } from '../dissector.ts';
import { isAssignedOpcode, isPlausibleQuestionClass } from './codes.ts';
import { HEADER_BYTES, parseDnsMessage, type DnsMessage } from './message-parser.ts';

/** TCP: bytes of a message's start after which its header and questions are enough to decide. */
const PARTIAL_DECIDE_BYTES = 512;

/** One whole DNS message (a UDP datagram): nothing may follow its last record. */
export function sniffDnsDatagram(payload: Uint8Array): 'match' | 'no' {
  return sniffWhole(payload, false);
}

/**
 * `trailing`: bytes may follow the last record. Over TCP the length prefix frames the message, and
 * some senders count bytes past it (a Windows AXFR client adds two), which tshark accepts too.
 */
function sniffWhole(message: Uint8Array, trailing: boolean): 'match' | 'no' {
  const m = parseDnsMessage(message);
  if (m === null || m.problem !== undefined || (!trailing && m.trailingBytes !== 0)) return 'no';
  return plausible(message, m) ? 'match' : 'no';
}

/** The start of one direction of a TCP connection: a two-byte length, then a message. */
export function sniffDnsStream(prefix: Uint8Array): SniffResult {
  if (prefix.length < 2) return 'more';
  const length = (prefix[0]! << 8) | prefix[1]!;
  if (length < HEADER_BYTES) return 'no';
  if (prefix.length >= 2 + length) {
    return sniffWhole(prefix.subarray(2, 2 + length), true);
  }
  if (prefix.length < 2 + HEADER_BYTES) return 'more';
  // The message is longer than what came so far: its header and questions decide, once enough is here.
  const partial = prefix.subarray(2);
  const m = parseDnsMessage(partial);
  if (m === null || !plausibleHeader(partial, m)) return 'no';
  if (prefix.length < PARTIAL_DECIDE_BYTES) return 'more';
  return m.questions.length === m.counts[0] && m.questions.every((q) => isPlausibleQuestionClass(q.class)) ? 'match' : 'no';
}

function plausibleHeader(b: Uint8Array, m: DnsMessage): boolean {
  const zBit = (b[3]! & 0x40) !== 0;
  if (zBit || !isAssignedOpcode(m.opcode)) return false;
  return m.isResponse || m.counts[0] > 0;
}

function plausible(b: Uint8Array, m: DnsMessage): boolean {
  if (!plausibleHeader(b, m)) return false;
  return m.questions.every((q) => isPlausibleQuestionClass(q.class));
}
