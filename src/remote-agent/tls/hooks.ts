/**
 * Which processes' TLS libraries get probes, and why not (contract between the target finder,
 * `targets/`, and the loader, `probes/`). A uprobe is placed on a file (an inode), not a process: it
 * fires in every process on the node that maps that file, so probes are planned once per library
 * inode and events are kept only for the agent's scope (probes/README: PID and network namespace,
 * checked in the kernel).
 */
import type { TlsLibrary } from './events.ts';

/** The BPF programs a uprobe can run (their ELF section names in bpf/tls.bpf.c are `uprobe/<name>`). */
export type TlsUprobeProgram =
  | 'ssl_write_entry'
  | 'ssl_write_return'
  | 'ssl_write_ex_entry'
  | 'ssl_write_ex_return'
  | 'ssl_read_entry'
  | 'ssl_read_return'
  | 'ssl_read_ex_entry'
  | 'ssl_read_ex_return'
  | 'go_write_entry'
  | 'go_write_return'
  | 'go_read_entry'
  | 'go_read_return';

/** One probe: `program` runs when any process executes the byte at `fileOffset` of the file at `path`. */
export interface UprobeSpec {
  readonly program: TlsUprobeProgram;
  /** Path the agent can open (through /proc/PID/root, the target container's filesystem). */
  readonly path: string;
  /** Offset in the file (not a virtual address) of the function entry or of one RET instruction. */
  readonly fileOffset: number;
  /** A uretprobe (OpenSSL returns only; Go returns are probed at each RET, never with uretprobes). */
  readonly retprobe: boolean;
  /** The symbol, for reports ("SSL_write", "crypto/tls.(*Conn).Write"). */
  readonly symbol: string;
}

/** The probes of one library file; `key` is `<st_dev>:<st_ino>`, so a file mapped by many processes is probed once. */
export interface LibraryHookPlan {
  readonly key: string;
  readonly library: TlsLibrary;
  /** "OpenSSL 3.0.22", "go1.19.8": for reports. */
  readonly version: string;
  readonly path: string;
  readonly probes: readonly UprobeSpec[];
}

/** What the agent did for one process it looked at, for the per-process report. */
export interface ProcessHookReport {
  /** In the agent's PID namespace. */
  readonly pid: number;
  /** /proc/PID/comm, sanitised by whoever prints it. */
  readonly comm: string;
  /** The library found (null: none found, e.g. a process without TLS). */
  readonly library: TlsLibrary | null;
  readonly hooked: boolean;
  /** Why, in a phrase: "libssl.so.3 (OpenSSL 3.0.22): SSL_read, SSL_write, SSL_read_ex, SSL_write_ex", "Go binary is stripped (no symbol table): crypto/tls cannot be found", ... */
  readonly reason: string;
  /** The plan's key when hooked (several processes share one). */
  readonly planKey: string | null;
}
