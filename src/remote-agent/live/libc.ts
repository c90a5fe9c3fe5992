/**
 * The libc calls the agent needs, through koffi: the live capture's packet socket, the TLS probes'
 * bpf() and perf_event_open() (tls/probes/), and giving idle memory back (resident-memory.ts). This module is the one place that binds C functions;
 * packet-socket.ts and tls/probes/ use it. koffi is a native module: it is required on first use,
 * not at import, so code that only imports the capture types never loads it.
 *
 * Linux x86_64 only: the constants, struct layouts and the absence of memory barriers in the ring
 * walk (x86 keeps loads ordered) all assume it.
 */
import { createRequire } from 'node:module';
import type koffiModule from 'koffi';
import { SharkError } from '../../model/errors.ts';

type Koffi = typeof koffiModule;

export interface PollHandle {
  close(): void;
}

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, address: Uint8Array, length: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  /** `length` is in/out: the buffer size going in, the bytes written coming out. */
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, length: [number]): number;
  /** The mapped address, or MAP_FAILED. `offset` (bytes, a multiple of the page size) defaults to 0. */
  mmap(length: number, prot: number, flags: number, fd: number, offset?: number): bigint;
  munmap(address: bigint, length: number): number;
  close(fd: number): number;
  /**
   * close(2) on a thread of libuv's pool (koffi's async call): for fds whose release makes the kernel
   * wait (a uprobe's perf event waits for RCU grace periods), so the event loop does not.
   */
  closeOffThread(fd: number): Promise<number>;
  /** bpf(cmd, attr, attr.length): a new fd, 0, or -1 with errno. The kernel reads and may write `attr`. */
  bpf(cmd: number, attr: Uint8Array): number;
  /** perf_event_open(attr, pid, cpu, group_fd, flags): an fd or -1 with errno. */
  perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** ioctl(fd, request, arg) with an integer argument. */
  ioctl(fd: number, request: number, arg: number): number;
  /** 0 when there is no such interface. */
  ifNameToIndex(name: string): number;
  /** errno of the last call made through this module. */
  errno(): number;
  strerror(errno: number): string;
  /** Memory at `address` as an ArrayBuffer, without a copy. */
  view(address: bigint, length: number): ArrayBuffer;
  /** The address of a buffer's first byte (for pointers inside structs). */
  address(buffer: Uint8Array): bigint;
  /** Calls `onReadable` from the event loop whenever `fd` is readable (a libuv poll handle). */
  poll(fd: number, onReadable: () => void): PollHandle;
  /** madvise(address, length, advice): 0, or -1 with errno. */
  madvise(address: bigint, length: number, advice: number): number;
  /**
   * glibc's malloc_trim(0): free C-heap pages go back to the kernel. True when memory was released;
   * null where the C library has no such call (musl).
   */
  mallocTrim(): boolean | null;
}

export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl): glibc wraps neither call. */
const SYS_PERF_EVENT_OPEN = 298;
const SYS_BPF = 321;

let libc: Libc | undefined;

/** Throws FFI_UNAVAILABLE (with the cause) when this is not Linux x86_64, or koffi or libc cannot load. */
export function loadLibc(): Libc {
  if (libc !== undefined) return libc;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SharkError('FFI_UNAVAILABLE', `live capture needs Linux x86_64 (this is ${process.platform} ${process.arch})`, {
      platform: process.platform,
      arch: process.arch,
    });
  }
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (err) {
    throw new SharkError('FFI_UNAVAILABLE', `cannot load the koffi native module: ${messageOf(err)}`, {}, err);
  }
  try {
    libc = bind(koffi);
  } catch (err) {
    throw new SharkError('FFI_UNAVAILABLE', `cannot bind libc.so.6 through koffi: ${messageOf(err)}`, {}, err);
  }
  return libc;
}

function bind(koffi: Koffi): Libc {
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const bindFn = lib.func('int bind(int fd, const void *addr, uint32_t addrlen)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
  const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *value, _Inout_ uint32_t *len)');
  const mmap = lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
  const munmap = lib.func('int munmap(void *addr, size_t length)');
  const close = lib.func('int close(int fd)');
  // Variadic: each extra argument is passed as a (type, value) pair.
  const syscall = lib.func('long syscall(long number, ...)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *name)');
  const strerror = lib.func('const char *strerror(int errnum)');
  const madvise = lib.func('int madvise(void *addr, size_t length, int advice)');
  const mallocTrim = optionalFunc(() => lib.func('int malloc_trim(size_t pad)'));
  return {
    socket: (domain, type, protocol) => socket(domain, type, protocol) as number,
    bind: (fd, address, length) => bindFn(fd, address, length) as number,
    setsockopt: (fd, level, name, value, length) => setsockopt(fd, level, name, value, length) as number,
    getsockopt: (fd, level, name, value, length) => getsockopt(fd, level, name, value, length) as number,
    mmap: (length, prot, flags, fd, offset = 0) => {
      const address: unknown = mmap(null, length, prot, flags, fd, offset);
      return typeof address === 'bigint' ? address : address === null ? 0n : koffi.address(address);
    },
    munmap: (address, length) => munmap(address, length) as number,
    close: (fd) => close(fd) as number,
    closeOffThread: (fd) =>
      new Promise((resolve, reject) => {
        close.async(fd, (err: unknown, result: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result as number)));
      }),
    bpf: (cmd, attr) => Number(syscall(SYS_BPF, 'int', cmd, 'void *', attr, 'unsigned int', attr.length)),
    perfEventOpen: (attr, pid, cpu, groupFd, flags) =>
      Number(syscall(SYS_PERF_EVENT_OPEN, 'void *', attr, 'int', pid, 'int', cpu, 'int', groupFd, 'unsigned long', flags)),
    ioctl: (fd, request, arg) => ioctl(fd, request, 'unsigned long', arg) as number,
    ifNameToIndex: (name) => ifNameToIndex(name) as number,
    errno: () => koffi.errno(),
    strerror: (errno) => (strerror(errno) as string | null) ?? `errno ${errno}`,
    view: (address, length) => koffi.view(address, length),
    address: (buffer) => koffi.address(buffer),
    poll: (fd, onReadable) => koffi.node.poll(fd, { readable: true }, () => onReadable()),
    madvise: (address, length, advice) => madvise(address, length, advice) as number,
    mallocTrim: () => (mallocTrim === null ? null : (mallocTrim(0) as number) === 1),
  };
}

/** A function the C library may lack (glibc-only calls on musl): null then. */
function optionalFunc<F>(bindIt: () => F): F | null {
  try {
    return bindIt();
  } catch {
    return null;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
