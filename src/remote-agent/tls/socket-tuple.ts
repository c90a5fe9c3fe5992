/**
 * A hooked socket's 4-tuple in the form packet capture names the same connection: an IPv4 peer of
 * an IPv6 socket (`::ffff:a.b.c.d`) crosses the wire as IPv4, so it is written as IPv4; the key is
 * reassembly's (tcp/connection-key.ts), so both sources find one connection under one name.
 */
import { connectionKey } from '../tcp/connection-key.ts';
import type { TlsSocketTuple } from './events.ts';

const MAPPED_PREFIX = '::ffff:';

/** `::ffff:a.b.c.d` -> `a.b.c.d`; any other address as it is. */
export function unmapIPv4(ip: string): string {
  if (!ip.startsWith(MAPPED_PREFIX)) return ip;
  const v4 = ip.slice(MAPPED_PREFIX.length);
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(v4) ? v4 : ip;
}

export function normaliseTuple(t: TlsSocketTuple): TlsSocketTuple {
  if (t.family === 4) return t;
  const localIp = unmapIPv4(t.localIp);
  const remoteIp = unmapIPv4(t.remoteIp);
  if (localIp === t.localIp && remoteIp === t.remoteIp) return t;
  return { family: 4, localIp, localPort: t.localPort, remoteIp, remotePort: t.remotePort };
}

/** The connection's name, the same from either end and from packet capture. */
export function tupleKey(t: TlsSocketTuple): string {
  return connectionKey(t.localIp, t.localPort, t.remoteIp, t.remotePort);
}

export function sameTuple(x: TlsSocketTuple, y: TlsSocketTuple): boolean {
  return x.localPort === y.localPort && x.remotePort === y.remotePort && x.localIp === y.localIp && x.remoteIp === y.remoteIp;
}
