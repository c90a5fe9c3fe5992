/**
 * Whether a connection is PostgreSQL: the client's opening (a startup packet: the one check in
 * guess/postgresql.ts, which also names undissected traffic) or, joined midway, a plausible Query
 * or Parse; confirmed by the server's first bytes (a one-byte answer to SSLRequest/GSSENCRequest, or
 * a plausible backend message), because either opening alone could be something else.
 */
import type { SniffResult } from '../dissector.ts';
import { sniffPostgresql } from '../guess/postgresql.ts';
import type { SniffDirection } from '../guess/sniffer.ts';
import { isPlausibleBackendStart, isPlausibleQueryStart } from './message-shape.ts';

export function sniffClient(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  if (direction !== 'to-server' || prefix.length === 0) return direction === 'to-server' ? 'more' : 'no';
  if (prefix[0] === 0) return sniffPostgresql(prefix, direction);
  const q = isPlausibleQueryStart(prefix, 0);
  return q === 'yes' ? 'match' : q;
}

export function confirmServer(prefix: Uint8Array, direction: SniffDirection): SniffResult {
  if (direction !== 'to-client') return 'no';
  if (prefix.length === 0) return 'more';
  const first = prefix[0]!;
  // SSLRequest/GSSENCRequest answers: one byte, then nothing until the client speaks again (or TLS).
  if (prefix.length === 1 && (first === 0x4e || first === 0x53 || first === 0x47)) return 'match';
  if (first === 0x53 && prefix[1] === 0x16) return 'match';
  const b = isPlausibleBackendStart(prefix, 0);
  return b === 'yes' ? 'match' : b;
}
