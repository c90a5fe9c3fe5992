/**
 * TLS records (RFC 8446 §5.1, RFC 5246 §6.2): content type, legacy version 3.x, length. A
 * connection starts with a handshake record; one joined midway (a live tap) shows application
 * data, alerts or change-cipher-spec records, which the same header check recognises.
 */
import type { SniffResult } from '../dissector.ts';
import type { ProtocolSniffer } from './sniffer.ts';

const CHANGE_CIPHER_SPEC = 20;
const APPLICATION_DATA = 23;
const HANDSHAKE = 22;
/** A record's payload is at most 2^14 bytes plus 2048 of expansion (RFC 5246 §6.2.3). */
const MAX_RECORD_BYTES = 16384 + 2048;
/** Handshake message types (RFC 8446 §4, RFC 5246 §7.4): client_hello ... key_update. */
const HANDSHAKE_TYPES = new Set([0, 1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 20, 21, 22, 24]);

export function sniffTls(prefix: Uint8Array): SniffResult {
  if (prefix.length < 1) return 'more';
  const type = prefix[0]!;
  if (type < CHANGE_CIPHER_SPEC || type > APPLICATION_DATA) return 'no';
  if (prefix.length < 3) return 'more';
  // Record versions 3.0 (SSLv3) to 3.4; a ClientHello record often says 3.1 whatever it offers.
  if (prefix[1] !== 3 || prefix[2]! > 4) return 'no';
  if (prefix.length < 5) return 'more';
  const length = (prefix[3]! << 8) | prefix[4]!;
  if (length === 0 || length > MAX_RECORD_BYTES) return 'no';
  if (type !== HANDSHAKE) return 'match';
  if (prefix.length < 6) return 'more';
  return HANDSHAKE_TYPES.has(prefix[5]!) ? 'match' : 'no';
}

export const tlsSniffer: ProtocolSniffer = Object.freeze({
  id: 'tls',
  ports: Object.freeze([443, 8443, 6443, 9443]),
  sniff: sniffTls,
});
