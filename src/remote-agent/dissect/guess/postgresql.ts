/**
 * PostgreSQL's first client message (protocol 3.0, "Message Formats" in the PostgreSQL docs): a
 * length and a code with no type byte. StartupMessage carries 196608 (3.0); SSLRequest,
 * GSSENCRequest and CancelRequest carry fixed magic codes. The server side has no such opening.
 */
import type { SniffResult } from '../dissector.ts';
import type { ProtocolSniffer, SniffDirection } from './sniffer.ts';

const PROTOCOL_3_0 = 196608;
const CANCEL_REQUEST = 80877102;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
/** The server refuses startup packets longer than 10000 bytes. */
const MAX_STARTUP_BYTES = 10000;
/** Parameter names are short words; a longer run is not a startup packet. */
const MAX_NAME_BYTES = 64;

export function sniffPostgresql(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  if (direction !== 'to-server') return 'no';
  // The length's first byte is 0 for any startup packet: a cheap early no.
  if (prefix.length >= 1 && prefix[0] !== 0) return 'no';
  if (prefix.length < 8) return 'more';
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const length = view.getUint32(0);
  const code = view.getUint32(4);
  if (code === SSL_REQUEST || code === GSSENC_REQUEST) return length === 8 ? 'match' : 'no';
  if (code === CANCEL_REQUEST) return length === 16 ? 'match' : 'no';
  // A StartupMessage holds at least "user\0<name>\0" and a final NUL.
  if (code !== PROTOCOL_3_0 || length < 8 + 7 || length > MAX_STARTUP_BYTES) return 'no';
  return firstParameterName(prefix);
}

/**
 * The first parameter name after the code: lower-case letters, digits, "_" or "." up to a NUL
 * ("user", "database", "application_name"). Kafka's Metadata v0 request has the same first eight
 * bytes shape (api key 3, version 0 read as 196608); its correlation id then starts with a NUL.
 */
function firstParameterName(prefix: Uint8Array): SniffResult {
  for (let i = 8; i < prefix.length && i < 8 + MAX_NAME_BYTES; i++) {
    const b = prefix[i]!;
    if (b === 0) return i > 8 ? 'match' : 'no';
    const isNameByte = (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x5f || b === 0x2e;
    if (!isNameByte) return 'no';
  }
  return prefix.length >= 8 + MAX_NAME_BYTES ? 'no' : 'more';
}

export const postgresqlSniffer: ProtocolSniffer = Object.freeze({
  id: 'postgresql',
  ports: Object.freeze([5432]),
  sniff: sniffPostgresql,
});
