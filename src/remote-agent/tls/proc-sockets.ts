/**
 * TCP sockets of hooked processes as /proc shows them: the 4-tuple behind a file descriptor
 * (/proc/PID/fd/N -> `socket:[inode]` -> the row of that inode in /proc/PID/net/tcp{,6}), and
 * whether a local port is a LISTEN socket (the hooked process is then the server). Every hooked
 * process shares the agent's network namespace (the probes check it in the kernel), so these tables
 * are the ones the agent's packet capture sees.
 *
 * Reads are synchronous (procfs answers from memory) and bounded: a table is read at most once per
 * REREAD_MS per process, and at most MAX_CACHED_PIDS tables are kept.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { formatIPv6 } from '../../model/ip-address.ts';
import type { TlsSocketTuple } from './events.ts';
import { normaliseTuple, unmapIPv4 } from './socket-tuple.ts';

/** What plaintext streams ask of the system about a hooked process's sockets. */
export interface SocketLookup {
  /** The TCP socket open as `fd` in process `pid`; null when it is not one (or is gone). */
  tupleOfFd(pid: number, fd: number): TlsSocketTuple | null;
  /**
   * True when `port` is a LISTEN socket on `ip` (or on a wildcard address) in the network namespace
   * of `pid`; null when /proc cannot say (the process is gone).
   */
  isListening(pid: number, ip: string, port: number): boolean | null;
}

/** One row of /proc/net/tcp{,6}. */
export interface TcpTableRow {
  readonly family: 4 | 6;
  readonly localIp: string;
  readonly localPort: number;
  readonly remoteIp: string;
  readonly remotePort: number;
  /** TCP state as the kernel numbers it (include/net/tcp_states.h): 1 ESTABLISHED, 10 LISTEN. */
  readonly state: number;
  readonly inode: number;
}

const TCP_LISTEN = 10;
/** A table older than this is read again when what is looked for is not in it. */
const REREAD_MS = 20;
const MAX_CACHED_PIDS = 256;

interface Snapshot {
  readonly readAtMs: number;
  readonly byInode: Map<number, TcpTableRow>;
  /** `<ip>|<port>` of LISTEN sockets (IPv4-mapped addresses as IPv4). */
  readonly listening: Set<string>;
}

export class ProcSocketLookup implements SocketLookup {
  readonly #procRoot: string;
  readonly #snapshots = new Map<number, Snapshot>();

  constructor(procRoot = '/proc') {
    this.#procRoot = procRoot;
  }

  tupleOfFd(pid: number, fd: number): TlsSocketTuple | null {
    if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isSafeInteger(fd) || fd < 0) return null;
    let link: string;
    try {
      link = readlinkSync(`${this.#procRoot}/${pid}/fd/${fd}`);
    } catch {
      return null;
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m === null) return null;
    const inode = Number(m[1]);
    const row = this.#lookup(pid, (s) => s.byInode.get(inode) ?? null);
    if (row === null || row === undefined) return null;
    return normaliseTuple({ family: row.family, localIp: row.localIp, localPort: row.localPort, remoteIp: row.remoteIp, remotePort: row.remotePort });
  }

  isListening(pid: number, ip: string, port: number): boolean | null {
    if (!Number.isSafeInteger(pid) || pid <= 0) return null;
    const local = unmapIPv4(ip);
    const found = this.#lookup(pid, (s) => (s.listening.has(`${local}|${port}`) || s.listening.has(`0.0.0.0|${port}`) || s.listening.has(`::|${port}`) ? true : null));
    if (found === undefined) return null;
    return found === true;
  }

  /** `find` on the process's tables, read again once if they are stale; undefined when unreadable. */
  #lookup<T>(pid: number, find: (s: Snapshot) => T | null): T | null | undefined {
    let snap = this.#snapshots.get(pid);
    if (snap !== undefined) {
      const hit = find(snap);
      if (hit !== null || Date.now() - snap.readAtMs < REREAD_MS) return hit;
    }
    snap = this.#read(pid);
    if (snap === undefined) return undefined;
    return find(snap);
  }

  #read(pid: number): Snapshot | undefined {
    const rows: TcpTableRow[] = [];
    let readable = false;
    for (const [file, family] of [['tcp', 4], ['tcp6', 6]] as const) {
      let text: string;
      try {
        text = readFileSync(`${this.#procRoot}/${pid}/net/${file}`, 'latin1');
      } catch {
        continue; // no IPv6 in this kernel, or the process is gone
      }
      readable = true;
      for (const row of parseTcpTable(text, family)) rows.push(row);
    }
    this.#snapshots.delete(pid);
    if (!readable) return undefined;
    const snap: Snapshot = { readAtMs: Date.now(), byInode: new Map(), listening: new Set() };
    for (const row of rows) {
      if (row.inode !== 0) snap.byInode.set(row.inode, row);
      if (row.state === TCP_LISTEN) snap.listening.add(`${unmapIPv4(row.localIp)}|${row.localPort}`);
    }
    if (this.#snapshots.size >= MAX_CACHED_PIDS) this.#snapshots.clear();
    this.#snapshots.set(pid, snap);
    return snap;
  }
}

/**
 * The rows of /proc/net/tcp or tcp6 (`sl local_address rem_address st ... uid timeout inode`):
 * addresses are the kernel's 32-bit words printed in host byte order (little-endian here), ports
 * hex in host order. Lines that do not parse are skipped.
 */
export function parseTcpTable(text: string, family: 4 | 6): TcpTableRow[] {
  const rows: TcpTableRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = parseEndpoint(f[1]!, family);
    const remote = parseEndpoint(f[2]!, family);
    const state = parseInt(f[3]!, 16);
    const inode = Number(f[9]);
    if (local === null || remote === null || !Number.isInteger(state) || !Number.isSafeInteger(inode)) continue;
    rows.push({ family, localIp: local.ip, localPort: local.port, remoteIp: remote.ip, remotePort: remote.port, state, inode });
  }
  return rows;
}

function parseEndpoint(text: string, family: 4 | 6): { ip: string; port: number } | null {
  const colon = text.indexOf(':');
  const hexLen = family === 4 ? 8 : 32;
  if (colon !== hexLen || !/^[0-9A-Fa-f]+:[0-9A-Fa-f]{4}$/.test(text)) return null;
  const bytes = new Uint8Array(hexLen / 2);
  // Each 32-bit word was printed as a host-order (little-endian) number: its bytes come reversed.
  for (let w = 0; w < hexLen / 8; w++) {
    for (let b = 0; b < 4; b++) bytes[w * 4 + b] = parseInt(text.slice(w * 8 + (3 - b) * 2, w * 8 + (3 - b) * 2 + 2), 16);
  }
  const ip = family === 4 ? `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}` : formatIPv6(bytes, 0);
  return { ip, port: parseInt(text.slice(colon + 1), 16) };
}
