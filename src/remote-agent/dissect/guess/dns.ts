/**
 * DNS messages (RFC 1035 §4.1): over UDP one message per datagram, over TCP each message after a
 * two-byte length (RFC 1035 §4.2.2, RFC 7766). Twelve header bytes fit almost anything, so both
 * sniffers need a DNS port as well as a header that is consistent with the message's size.
 */
import type { SniffResult } from '../dissector.ts';
import type { ProtocolSniffer, SniffDirection } from './sniffer.ts';

const HEADER_BYTES = 12;
/** The smallest question: the root name (1 byte), type and class. */
const MIN_QUESTION_BYTES = 5;
/** The smallest resource record: root name, type, class, TTL, rdlength. */
const MIN_RECORD_BYTES = 11;
/** QUERY, IQUERY, STATUS, NOTIFY, UPDATE, DSO (IANA DNS OpCodes); 3 is unassigned. */
const OPCODES = new Set([0, 1, 2, 4, 5, 6]);
/** DNS, multicast DNS, LLMNR. */
const DNS_PORTS = Object.freeze([53, 5353, 5355]);

/**
 * Whether `p` (at least 12 bytes) starts a DNS message of `messageBytes` bytes: a known opcode, a
 * query (QR 0) asks at least one question, and the section counts fit in the message.
 */
export function isDnsHeader(p: Uint8Array, offset: number, messageBytes: number, direction?: SniffDirection): boolean {
  if (messageBytes < HEADER_BYTES) return false;
  const u16 = (at: number): number => (p[offset + at]! << 8) | p[offset + at + 1]!;
  const flags = u16(2);
  const isResponse = (flags & 0x8000) !== 0;
  if (direction !== undefined && isResponse !== (direction === 'to-client')) return false;
  if (!OPCODES.has((flags >> 11) & 0x0f)) return false;
  const questions = u16(4);
  if (!isResponse && questions === 0) return false;
  const records = u16(6) + u16(8) + u16(10);
  return HEADER_BYTES + questions * MIN_QUESTION_BYTES + records * MIN_RECORD_BYTES <= messageBytes;
}

function sniffDatagram(payload: Uint8Array): SniffResult {
  return payload.length >= HEADER_BYTES && isDnsHeader(payload, 0, payload.length) ? 'match' : 'no';
}

/** A length-prefixed message; a query from the client, an answer from the server. */
function sniffStream(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  if (prefix.length < 2 + HEADER_BYTES) return 'more';
  const length = (prefix[0]! << 8) | prefix[1]!;
  return isDnsHeader(prefix, 2, length, direction) ? 'match' : 'no';
}

export const dnsDatagramSniffer: ProtocolSniffer = Object.freeze({
  id: 'dns',
  ports: DNS_PORTS,
  needsPort: true,
  sniff: sniffDatagram,
});

export const dnsStreamSniffer: ProtocolSniffer = Object.freeze({
  id: 'dns',
  ports: DNS_PORTS,
  needsPort: true,
  sniff: sniffStream,
});
