/**
 * Real traffic, recorded as the two ends of a TCP connection read it: a proxy on 127.0.0.1 sits
 * between a client and a server of this process and records every chunk each side's socket
 * delivered, in order. The proxy's accepted socket is a real socket of this process (its fd, its
 * LISTEN port in /proc/self/net/tcp), so TLS probe records built from a recording name a real
 * connection: what the TLS probes would have reported of the same plaintext.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { TlsDataEvent, TlsDirection, TlsSocketTuple } from '../../src/remote-agent/tls/events.ts';

export interface RecordedChunk {
  /** true: client to server. */
  readonly fromClient: boolean;
  readonly bytes: Uint8Array;
}

export interface RecordingProxy {
  /** Where the client connects. */
  readonly port: number;
  /** Chunks of every connection, by connection, in arrival order. */
  readonly connections: RecordedConnection[];
  close(): Promise<void>;
}

export interface RecordedConnection {
  readonly chunks: RecordedChunk[];
  /** The proxy's accepted socket: the server end of the client's connection. */
  readonly accepted: net.Socket;
  /** The connection as the server end (this process, pid) sees it. */
  readonly serverTuple: TlsSocketTuple;
  /** The same connection as the client end sees it. */
  readonly clientTuple: TlsSocketTuple;
}

export async function startRecordingProxy(upstreamPort: number): Promise<RecordingProxy> {
  const connections: RecordedConnection[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((accepted) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    open.add(accepted);
    open.add(upstream);
    const chunks: RecordedChunk[] = [];
    const local = { ip: accepted.localAddress!, port: accepted.localPort! };
    const remote = { ip: accepted.remoteAddress!, port: accepted.remotePort! };
    connections.push({
      chunks,
      accepted,
      serverTuple: { family: 4, localIp: local.ip, localPort: local.port, remoteIp: remote.ip, remotePort: remote.port },
      clientTuple: { family: 4, localIp: remote.ip, localPort: remote.port, remoteIp: local.ip, remotePort: local.port },
    });
    accepted.on('data', (b: Buffer) => {
      chunks.push({ fromClient: true, bytes: Uint8Array.from(b) });
      upstream.write(b);
    });
    upstream.on('data', (b: Buffer) => {
      chunks.push({ fromClient: false, bytes: Uint8Array.from(b) });
      accepted.write(b);
    });
    accepted.on('end', () => upstream.end());
    upstream.on('end', () => accepted.end());
    accepted.on('error', () => upstream.destroy());
    upstream.on('error', () => accepted.destroy());
    accepted.on('close', () => open.delete(accepted));
    upstream.on('close', () => open.delete(upstream));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    close: async () => {
      for (const s of open) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface RecordsOptions {
  readonly pid: number;
  readonly connId: bigint;
  /** Which end the probes hooked: its writes are what it sent. */
  readonly hooked: 'client' | 'server';
  /** The tuple each record carries (null: none, as when the kernel saw no socket call). */
  readonly tuple: TlsSocketTuple | null;
  readonly fd?: number;
  readonly t0Us: number;
  /** Cuts each direction's bytes anew: the size of the next record (default: as recorded). */
  readonly cut?: (remaining: number) => number;
}

/** The probe records the hooked end of a recorded connection would have produced. */
export function recordsOf(chunks: readonly RecordedChunk[], o: RecordsOptions): TlsDataEvent[] {
  const out: TlsDataEvent[] = [];
  const offsets: Record<TlsDirection, number> = { write: 0, read: 0 };
  let t = o.t0Us;
  for (const c of chunks) {
    const direction: TlsDirection = c.fromClient === (o.hooked === 'client') ? 'write' : 'read';
    let at = 0;
    while (at < c.bytes.length) {
      const n = o.cut ? Math.max(1, Math.min(o.cut(c.bytes.length - at), c.bytes.length - at)) : c.bytes.length;
      const bytes = c.bytes.slice(at, at + n);
      out.push({ kind: 'data', tsUs: (t += 10), pid: o.pid, tid: o.pid, library: 'openssl', direction, connId: o.connId, fd: o.fd ?? -1, tuple: o.tuple, streamOffset: offsets[direction], bytes });
      offsets[direction] += n;
      at += n;
    }
  }
  return out;
}

/** A deterministic pseudo-random cut (mulberry32): sizes 1..max. */
export function randomCuts(seed: number, max: number): (remaining: number) => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return 1 + Math.floor(r * max);
  };
}
