/**
 * The binary layouts shared with the BPF programs (bpf/tls.h is the C side; layout.test.ts compiles
 * that header and compares every size and offset here with it): ring buffer records in, the
 * `config` map entry out, and the names the loader looks up in bpf/tls.bpf.o.
 *
 * Records come from the kernel, but the bytes they carry are captured plaintext and the ring is
 * shared memory: `decodeRecord` checks every bound and value and throws `TlsRecordError` on a
 * record it cannot read (a bug on one side, counted as internal by the loader), never reading past
 * the record it was given.
 */
import { formatIPv4, formatIPv6 } from '../../../model/ip-address.ts';
import type { TlsDirection, TlsEvent, TlsLibrary, TlsSocketTuple } from '../events.ts';
import type { TlsUprobeProgram } from '../hooks.ts';

/** Map names (ELF symbols in section `maps` of bpf/tls.bpf.o). */
export const TLS_MAPS = {
  config: 'config',
  events: 'events',
  lost: 'lost',
  sslCalls: 'ssl_calls',
  goCalls: 'go_calls',
  activeThreads: 'active_threads',
  threadSocks: 'thread_socks',
  connBytes: 'conn_bytes',
  scratch: 'scratch',
} as const;

/** Every uprobe program, in the order of hooks.ts `TlsUprobeProgram`. */
export const TLS_UPROBE_PROGRAMS: readonly TlsUprobeProgram[] = [
  'ssl_write_entry',
  'ssl_write_return',
  'ssl_write_ex_entry',
  'ssl_write_ex_return',
  'ssl_read_entry',
  'ssl_read_return',
  'ssl_read_ex_entry',
  'ssl_read_ex_return',
  'go_write_entry',
  'go_write_return',
  'go_read_entry',
  'go_read_return',
];

/** ELF section of a uprobe program (BPF_PROG_TYPE_KPROBE). */
export function uprobeSection(program: TlsUprobeProgram): string {
  return `uprobe/${program}`;
}

/**
 * Tracepoints with a socket program (BPF_PROG_TYPE_RAW_TRACEPOINT, attached by name with
 * BPF_RAW_TRACEPOINT_OPEN); the section is `raw_tp/<tracepoint>`. sock_send_length and
 * sock_recv_length name the socket a thread in a TLS call uses, inet_sock_set_state reports its
 * close. (Not fentry on tcp_sendmsg: a kernel in lockdown integrity mode refuses fentry programs.)
 */
export const TLS_RAW_TRACEPOINTS = ['sock_send_length', 'sock_recv_length', 'inet_sock_set_state'] as const;
export type TlsRawTracepoint = (typeof TLS_RAW_TRACEPOINTS)[number];

export function rawTracepointSection(tracepoint: TlsRawTracepoint): string {
  return `raw_tp/${tracepoint}`;
}

/** Plaintext bytes in one data record (TLS_CHUNK_MAX). */
export const TLS_CHUNK_MAX = 16384;
/** Data records per call before the rest becomes one skip record (TLS_CHUNKS_PER_CALL). */
export const TLS_CHUNKS_PER_CALL = 64;

/** struct tls_tuple (40 bytes). */
export const TUPLE = {
  size: 40,
  family: 0,
  localPort: 4,
  remotePort: 6,
  localIp: 8,
  remoteIp: 24,
} as const;

/** struct tls_record (the header; data follows at `size`). */
export const RECORD = {
  size: 88,
  tsNs: 0,
  connId: 8,
  streamOffset: 16,
  length: 24,
  pid: 32,
  tid: 36,
  fd: 40,
  kind: 44,
  library: 45,
  direction: 46,
  tuple: 48,
} as const;

/** struct tls_config (the single value of the `config` map). */
export const CONFIG = {
  pidnsDev: 0,
  pidnsIno: 8,
  netnsIno: 16,
  ready: 20,
  offTaskNsproxy: 24,
  offNsproxyNetNs: 28,
  offNetNsInum: 32,
  offSkcFamily: 36,
  offSkcDaddr: 40,
  offSkcRcvSaddr: 44,
  offSkcDport: 48,
  offInetSport: 52,
  offSkcV6Daddr: 56,
  offSkcV6RcvSaddr: 60,
  offSkProtocol: 64,
  offSkcNet: 68,
  offTaskFiles: 72,
  offFilesFdt: 76,
  offFdtMaxFds: 80,
  offFdtFd: 84,
  offFilePrivateData: 88,
  offSocketFile: 92,
  offSocketSk: 96,
  pad: 100,
  size: 104,
} as const;

/** Sizes of the other structs in bpf/tls.h (map keys and values), for the loader's checks. */
export const STRUCT_SIZES = {
  /** The header, a chunk, then the chunk loop's state (two u64, never output). */
  tls_record_buf: RECORD.size + TLS_CHUNK_MAX + 16,
  /** With the Go call's socket (a tls_tuple) at entry. */
  tls_call: 80,
  tls_go_key: 16,
  tls_conn_key: 16,
  tls_conn_bytes: 16,
  tls_map_def: 20,
} as const;

const KIND_DATA = 1;
const KIND_SKIP = 2;
const KIND_CLOSE = 3;
const LIBRARIES: Readonly<Record<number, TlsLibrary>> = { 1: 'openssl', 2: 'go' };
const DIRECTIONS: Readonly<Record<number, TlsDirection>> = { 1: 'write', 2: 'read' };

/** Byte offsets of kernel struct members the programs read (from vmlinux BTF: probes/btf.ts). */
export interface KernelOffsets {
  /** task_struct.nsproxy */
  readonly taskNsproxy: number;
  /** nsproxy.net_ns */
  readonly nsproxyNetNs: number;
  /** net.ns + ns_common.inum */
  readonly netNsInum: number;
  readonly skcFamily: number;
  readonly skcDaddr: number;
  readonly skcRcvSaddr: number;
  readonly skcDport: number;
  /** inet_sock.inet_sport (the local port; sock_common.skc_num is 0 once the port is released at CLOSE) */
  readonly inetSport: number;
  readonly skcV6Daddr: number;
  readonly skcV6RcvSaddr: number;
  /** sock.sk_protocol (u16) */
  readonly skProtocol: number;
  /** sock_common.skc_net (possible_net_t: a struct net pointer) */
  readonly skcNet: number;
  /** task_struct.files: from here to socket.sk, a Go call's socket is read from its fd at call time */
  readonly taskFiles: number;
  /** files_struct.fdt */
  readonly filesFdt: number;
  /** fdtable.max_fds */
  readonly fdtMaxFds: number;
  /** fdtable.fd */
  readonly fdtFd: number;
  /** file.private_data */
  readonly filePrivateData: number;
  /** socket.file */
  readonly socketFile: number;
  /** socket.sk */
  readonly socketSk: number;
}

export interface TlsProbeConfig {
  /** `st_dev` of /proc/self/ns/pid as `fs.statSync(path, { bigint: true })` gives it (glibc encoding). */
  readonly pidNsDev: bigint;
  /** `st_ino` of /proc/self/ns/pid. */
  readonly pidNsIno: bigint;
  /** `st_ino` of /proc/self/ns/net. */
  readonly netNsIno: bigint;
  readonly offsets: KernelOffsets;
}

/** A record the decoder cannot read: a bug in the programs or the loader, not bad traffic. */
export class TlsRecordError extends Error {
  readonly code = 'TLS_BAD_RECORD';

  constructor(message: string) {
    super(`TLS probe record: ${message}`);
    this.name = 'TlsRecordError';
  }
}

/**
 * The kernel's dev_t (MKDEV: major << 20 | minor) of a user-space `st_dev` (glibc's encoding:
 * minor in bits 0-7 and 20-39, major in bits 8-19 and 40-63), which bpf_get_ns_current_pid_tgid
 * compares with the nsfs superblock's s_dev.
 */
export function kernelDevT(stDev: bigint): bigint {
  const major = ((stDev >> 8n) & 0xfffn) | ((stDev >> 32n) & ~0xfffn);
  const minor = (stDev & 0xffn) | ((stDev >> 12n) & ~0xffn);
  if (major >= 1n << 12n || minor >= 1n << 20n) {
    throw new RangeError(`device number ${stDev} does not fit the kernel's 32-bit dev_t`);
  }
  return (major << 20n) | minor;
}

/** The bytes of the `config` map's single value, `ready` set. */
export function encodeConfig(config: TlsProbeConfig): Uint8Array {
  const bytes = new Uint8Array(CONFIG.size);
  const v = new DataView(bytes.buffer);
  const o = config.offsets;
  v.setBigUint64(CONFIG.pidnsDev, kernelDevT(config.pidNsDev), true);
  v.setBigUint64(CONFIG.pidnsIno, config.pidNsIno, true);
  if (config.netNsIno < 0n || config.netNsIno > 0xffffffffn) {
    throw new RangeError(`network namespace inode ${config.netNsIno} does not fit 32 bits (ns_common.inum)`);
  }
  v.setUint32(CONFIG.netnsIno, Number(config.netNsIno), true);
  v.setUint32(CONFIG.ready, 1, true);
  const fields: readonly [number, number, string][] = [
    [CONFIG.offTaskNsproxy, o.taskNsproxy, 'taskNsproxy'],
    [CONFIG.offNsproxyNetNs, o.nsproxyNetNs, 'nsproxyNetNs'],
    [CONFIG.offNetNsInum, o.netNsInum, 'netNsInum'],
    [CONFIG.offSkcFamily, o.skcFamily, 'skcFamily'],
    [CONFIG.offSkcDaddr, o.skcDaddr, 'skcDaddr'],
    [CONFIG.offSkcRcvSaddr, o.skcRcvSaddr, 'skcRcvSaddr'],
    [CONFIG.offSkcDport, o.skcDport, 'skcDport'],
    [CONFIG.offInetSport, o.inetSport, 'inetSport'],
    [CONFIG.offSkcV6Daddr, o.skcV6Daddr, 'skcV6Daddr'],
    [CONFIG.offSkcV6RcvSaddr, o.skcV6RcvSaddr, 'skcV6RcvSaddr'],
    [CONFIG.offSkProtocol, o.skProtocol, 'skProtocol'],
    [CONFIG.offSkcNet, o.skcNet, 'skcNet'],
    [CONFIG.offTaskFiles, o.taskFiles, 'taskFiles'],
    [CONFIG.offFilesFdt, o.filesFdt, 'filesFdt'],
    [CONFIG.offFdtMaxFds, o.fdtMaxFds, 'fdtMaxFds'],
    [CONFIG.offFdtFd, o.fdtFd, 'fdtFd'],
    [CONFIG.offFilePrivateData, o.filePrivateData, 'filePrivateData'],
    [CONFIG.offSocketFile, o.socketFile, 'socketFile'],
    [CONFIG.offSocketSk, o.socketSk, 'socketSk'],
  ];
  for (const [at, value, name] of fields) {
    // A struct member offset; kernel structs are far smaller than 64 KiB.
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`kernel offset ${name} = ${value} is not a struct member offset`);
    v.setUint32(at, value, true);
  }
  return bytes;
}

/** The 16 bytes at `off` are ::ffff:a.b.c.d. */
function isV4Mapped(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

function decodeTuple(b: Uint8Array, v: DataView, at: number): TlsSocketTuple | null {
  const family = b[at + TUPLE.family];
  const localPort = v.getUint16(at + TUPLE.localPort, true);
  const remotePort = v.getUint16(at + TUPLE.remotePort, true);
  const local = at + TUPLE.localIp;
  const remote = at + TUPLE.remoteIp;
  if (family === 0) return null;
  if (family === 4) {
    return { family: 4, localIp: formatIPv4(b, local), localPort, remoteIp: formatIPv4(b, remote), remotePort };
  }
  if (family === 6) {
    // A dual-stack socket talking IPv4: on the wire (and in packet capture) this is an IPv4 connection.
    if (isV4Mapped(b, local) && isV4Mapped(b, remote)) {
      return { family: 4, localIp: formatIPv4(b, local + 12), localPort, remoteIp: formatIPv4(b, remote + 12), remotePort };
    }
    return { family: 6, localIp: formatIPv6(b, local), localPort, remoteIp: formatIPv6(b, remote), remotePort };
  }
  throw new TlsRecordError(`socket family ${family} is not 0, 4 or 6`);
}

/**
 * One ring buffer record (`length` bytes at `offset` of `view`) as an event; the plaintext is copied
 * out (the ring's memory is reused). `clockOffsetUs` turns the kernel's CLOCK_MONOTONIC into
 * wall-clock microseconds.
 */
export function decodeRecord(view: DataView, offset: number, length: number, clockOffsetUs: number): TlsEvent {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > view.byteLength) {
    throw new TlsRecordError(`record of ${length} bytes at offset ${offset} is outside the ${view.byteLength}-byte view`);
  }
  if (length < RECORD.size) throw new TlsRecordError(`record of ${length} bytes is shorter than its ${RECORD.size}-byte header`);
  const b = new Uint8Array(view.buffer, view.byteOffset + offset, length);
  const v = new DataView(b.buffer, b.byteOffset, length);
  const kind = b[RECORD.kind];
  const tsUs = Number(v.getBigUint64(RECORD.tsNs, true) / 1000n) + clockOffsetUs;
  const pid = v.getUint32(RECORD.pid, true);
  const tid = v.getUint32(RECORD.tid, true);
  const dataLength = v.getBigUint64(RECORD.length, true);
  const tuple = decodeTuple(b, v, RECORD.tuple);

  if (kind === KIND_CLOSE) {
    if (tuple === null) throw new TlsRecordError('close record without a socket tuple');
    if (length !== RECORD.size) throw new TlsRecordError(`close record of ${length} bytes, not ${RECORD.size}`);
    return { kind: 'close', tsUs, pid, tuple };
  }
  if (kind !== KIND_DATA && kind !== KIND_SKIP) throw new TlsRecordError(`unknown record kind ${kind}`);

  const library = LIBRARIES[b[RECORD.library]];
  if (library === undefined) throw new TlsRecordError(`unknown library ${b[RECORD.library]}`);
  const direction = DIRECTIONS[b[RECORD.direction]];
  if (direction === undefined) throw new TlsRecordError(`unknown direction ${b[RECORD.direction]}`);
  const connId = v.getBigUint64(RECORD.connId, true);
  const fd = v.getInt32(RECORD.fd, true);
  const streamOffsetBig = v.getBigUint64(RECORD.streamOffset, true);
  if (streamOffsetBig > BigInt(Number.MAX_SAFE_INTEGER)) throw new TlsRecordError(`stream offset ${streamOffsetBig} is past 2^53`);
  const streamOffset = Number(streamOffsetBig);
  const common = { tsUs, pid, tid, library, direction, connId, fd: fd < 0 ? -1 : fd, tuple, streamOffset };

  if (kind === KIND_SKIP) {
    if (length !== RECORD.size) throw new TlsRecordError(`skip record of ${length} bytes, not ${RECORD.size}`);
    if (dataLength === 0n || dataLength > BigInt(Number.MAX_SAFE_INTEGER)) throw new TlsRecordError(`skip record losing ${dataLength} bytes`);
    return { kind: 'skip', ...common, lostBytes: Number(dataLength) };
  }
  if (dataLength === 0n || dataLength > BigInt(TLS_CHUNK_MAX)) throw new TlsRecordError(`data record of ${dataLength} bytes (1..${TLS_CHUNK_MAX})`);
  if (BigInt(length - RECORD.size) !== dataLength) {
    throw new TlsRecordError(`data record says ${dataLength} bytes but carries ${length - RECORD.size}`);
  }
  return { kind: 'data', ...common, bytes: b.slice(RECORD.size) };
}
