/**
 * The bpf() commands the loader uses, each one `union bpf_attr` laid out by hand (include/uapi/
 * linux/bpf.h; offsets in the comments) and passed through live/libc.ts. Every fd bpf() returns is
 * O_CLOEXEC (the kernel always opens map, program and link fds that way), and every one is ours: when
 * the process exits, by SIGKILL too, the kernel drops what the fds held.
 */
import type { Libc } from '../../live/libc.ts';

const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_PROG_LOAD = 5;
const BPF_RAW_TRACEPOINT_OPEN = 17;
const BPF_LINK_CREATE = 28;

export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_RINGBUF = 27;

export const BPF_PROG_TYPE_KPROBE = 2;
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;

export const BPF_PERF_EVENT = 41;
/**
 * enum bpf_attach_type in Linux 6.6's include/uapi/linux/bpf.h: BPF_TRACE_KPROBE_MULTI (42),
 * BPF_LSM_CGROUP, BPF_STRUCT_OPS, BPF_NETFILTER, BPF_TCX_INGRESS, BPF_TCX_EGRESS, then this (48).
 * Debian's linux-libc-dev headers stop before it; the kernel accepting it is the check.
 */
export const BPF_TRACE_UPROBE_MULTI = 48;
/** link_create.uprobe_multi.flags: return probes. */
export const BPF_F_UPROBE_MULTI_RETURN = 1;

/** BPF_ANY: create or replace. */
export const BPF_ANY = 0;

export const EPERM = 1;
export const ENOENT = 2;
export const EBADF = 9;
export const EACCES = 13;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOSYS = 38;

/** The verifier's log is read only after a refusal, into a buffer of this size (its tail says why). */
const VERIFIER_LOG_BYTES = 1 << 20;
/** How much of the verifier's log an error message keeps (the last lines name the refused instruction). */
const VERIFIER_LOG_TAIL = 2000;

/** A system call that failed: which step, and the kernel's errno. */
export class BpfCallError extends Error {
  readonly errno: number;
  readonly step: string;
  /** The verifier's log for a refused program, else ''. */
  readonly verifierLog: string;

  constructor(step: string, errno: number, text: string, verifierLog = '') {
    const tail = verifierLog.length > VERIFIER_LOG_TAIL ? `...${verifierLog.slice(-VERIFIER_LOG_TAIL)}` : verifierLog;
    super(`${step}: ${text} (errno ${errno})${tail === '' ? '' : `; verifier log:\n${tail.trimEnd()}`}`);
    this.name = 'BpfCallError';
    this.errno = errno;
    this.step = step;
    this.verifierLog = verifierLog;
  }
}

/**
 * Bytes whose address the kernel may be given. A `new Uint8Array(n)` can live inside the JS heap,
 * where the garbage collector moves it; an explicit ArrayBuffer's memory stays where it is.
 */
export function fixedBytes(length: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(length));
}

function fixedCopy(bytes: Uint8Array): Uint8Array {
  const copy = fixedBytes(bytes.length);
  copy.set(bytes);
  return copy;
}

/** A NUL-terminated copy of `text` at a fixed address. */
export function cString(text: string): Uint8Array {
  const encoded = new TextEncoder().encode(text);
  const bytes = fixedBytes(encoded.length + 1);
  bytes.set(encoded);
  return bytes;
}

/** Little-endian writer over a zeroed attribute block. */
class Attr {
  readonly bytes: Uint8Array;
  readonly #view: DataView;

  constructor(size: number) {
    this.bytes = fixedBytes(size);
    this.#view = new DataView(this.bytes.buffer);
  }

  u32(offset: number, value: number): this {
    this.#view.setUint32(offset, value >>> 0, true);
    return this;
  }

  u64(offset: number, value: bigint): this {
    this.#view.setBigUint64(offset, value, true);
    return this;
  }

  name(offset: number, text: string): this {
    // BPF_OBJ_NAME_LEN is 16 with the NUL; the kernel accepts [A-Za-z0-9_.] only.
    const clean = text.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15);
    this.bytes.set(new TextEncoder().encode(clean), offset);
    return this;
  }
}

export interface MapSpec {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

export class BpfSyscalls {
  readonly #libc: Libc;

  constructor(libc: Libc) {
    this.#libc = libc;
  }

  get libc(): Libc {
    return this.#libc;
  }

  createMap(spec: MapSpec): number {
    // map_type 0, key_size 4, value_size 8, max_entries 12, map_flags 16, map_name 28..44.
    const attr = new Attr(72).u32(0, spec.type).u32(4, spec.keySize).u32(8, spec.valueSize).u32(12, spec.maxEntries).u32(16, spec.flags).name(28, spec.name);
    return this.#call(BPF_MAP_CREATE, attr, `creating BPF map ${spec.name}`);
  }

  updateElem(mapFd: number, key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    const fixedKey = fixedCopy(key);
    const fixedValue = fixedCopy(value);
    this.#call(BPF_MAP_UPDATE_ELEM, this.#elemAttr(mapFd, fixedKey, fixedValue).u64(24, BigInt(flags)), `updating BPF map fd ${mapFd}`);
  }

  /** Fills `value` (for a per-CPU map: one 8-byte-aligned slot per possible CPU); false when there is no such key. */
  lookupElem(mapFd: number, key: Uint8Array, value: Uint8Array): boolean {
    const fixedKey = fixedCopy(key);
    const fixedValue = fixedBytes(value.length);
    const attr = this.#elemAttr(mapFd, fixedKey, fixedValue);
    if (this.#libc.bpf(BPF_MAP_LOOKUP_ELEM, attr.bytes) === 0) {
      value.set(fixedValue);
      return true;
    }
    const errno = this.#libc.errno();
    if (errno === ENOENT) return false;
    throw this.#error(`reading BPF map fd ${mapFd}`, errno);
  }

  /**
   * Loads a program; when the verifier refuses it, loads it again with a log buffer so the error
   * carries the verifier's reasons (libbpf does the same: the log costs nothing on success).
   */
  loadProgram(program: {
    readonly name: string;
    readonly type: number;
    readonly instructions: Uint8Array;
    readonly license: string;
    /** expected_attach_type (BPF_TRACE_UPROBE_MULTI for programs attached by uprobe_multi links); 0 otherwise. */
    readonly expectedAttachType?: number;
  }): number {
    const insns = fixedCopy(program.instructions);
    const license = cString(program.license);
    const build = (log: Uint8Array | null): Attr => {
      // prog_type 0, insn_cnt 4, insns 8, license 16, log_level 24, log_size 28, log_buf 32,
      // prog_name 48..64, expected_attach_type 68; the rest (BTF) stays zero for our programs.
      const attr = new Attr(144)
        .u32(0, program.type)
        .u32(4, insns.length / 8)
        .u64(8, this.#libc.address(insns))
        .u64(16, this.#libc.address(license))
        .name(48, program.name)
        .u32(68, program.expectedAttachType ?? 0);
      if (log !== null) attr.u32(24, 1).u32(28, log.length).u64(32, this.#libc.address(log));
      return attr;
    };
    const step = `loading BPF program ${program.name}`;
    const fd = this.#libc.bpf(BPF_PROG_LOAD, build(null).bytes);
    if (fd >= 0) return fd;
    const errno = this.#libc.errno();
    if (errno === EPERM) throw this.#error(step, errno); // refused for want of privilege: no log to read
    const log = fixedBytes(VERIFIER_LOG_BYTES);
    const retry = this.#libc.bpf(BPF_PROG_LOAD, build(log).bytes);
    if (retry >= 0) return retry; // refused once, accepted with a log: take it
    const text = new TextDecoder().decode(log.subarray(0, Math.max(0, log.indexOf(0))));
    throw this.#error(step, errno, text);
  }

  /** BPF_LINK_CREATE: attaches `progFd` to `targetFd` (here: a uprobe's perf event, BPF_PERF_EVENT). */
  createLink(progFd: number, targetFd: number, attachType: number, step: string): number {
    // prog_fd 0, target_fd 4, attach_type 8, flags 12, then the per-type union (all zero here).
    const attr = new Attr(48).u32(0, progFd).u32(4, targetFd).u32(8, attachType);
    return this.#call(BPF_LINK_CREATE, attr, step);
  }

  /**
   * BPF_LINK_CREATE with BPF_TRACE_UPROBE_MULTI (Linux 6.6): one link places `progFd` at every offset
   * of one file, in every process (pid 0), as return probes when `retprobe`. `progFd` must have been
   * loaded with expectedAttachType BPF_TRACE_UPROBE_MULTI. One fd, one `bpftool link`, no perf event.
   */
  createUprobeMultiLink(progFd: number, target: { readonly path: string; readonly offsets: readonly number[]; readonly retprobe: boolean }, step: string): number {
    const path = cString(target.path);
    const offsets = fixedBytes(8 * target.offsets.length);
    const view = new DataView(offsets.buffer);
    target.offsets.forEach((offset, i) => view.setBigUint64(i * 8, BigInt(offset), true));
    // prog_fd 0, target_fd 4, attach_type 8, flags 12, then uprobe_multi: path 16, offsets 24,
    // ref_ctr_offsets 32, cookies 40 (both none), cnt 48, flags 52, pid 56 (0: every process).
    const attr = new Attr(64)
      .u32(0, progFd)
      .u32(8, BPF_TRACE_UPROBE_MULTI)
      .u64(16, this.#libc.address(path))
      .u64(24, this.#libc.address(offsets))
      .u32(48, target.offsets.length)
      .u32(52, target.retprobe ? BPF_F_UPROBE_MULTI_RETURN : 0);
    return this.#call(BPF_LINK_CREATE, attr, step);
  }

  /**
   * BPF_RAW_TRACEPOINT_OPEN: runs `progFd` on the kernel tracepoint `name` ("sock_send_length");
   * returns a link fd (`bpftool link`), nothing in tracefs.
   */
  openRawTracepoint(name: string, progFd: number): number {
    const tracepoint = cString(name);
    // name 0 (a pointer), prog_fd 8, then cookie (zero).
    const attr = new Attr(24).u64(0, this.#libc.address(tracepoint)).u32(8, progFd);
    return this.#call(BPF_RAW_TRACEPOINT_OPEN, attr, `attaching raw tracepoint ${name}`);
  }

  /** close(2), ignoring errors: used on clean-up paths only. */
  close(fd: number): void {
    if (fd >= 0) this.#libc.close(fd);
  }

  #elemAttr(mapFd: number, key: Uint8Array, value: Uint8Array): Attr {
    // map_fd 0, key 8, value 16, flags 24.
    return new Attr(32).u32(0, mapFd).u64(8, this.#libc.address(key)).u64(16, this.#libc.address(value));
  }

  #call(cmd: number, attr: Attr, step: string): number {
    const result = this.#libc.bpf(cmd, attr.bytes);
    if (result < 0) throw this.#error(step, this.#libc.errno());
    return result;
  }

  #error(step: string, errno: number, verifierLog = ''): BpfCallError {
    return new BpfCallError(step, errno, this.#libc.strerror(errno), verifierLog);
  }
}
