/**
 * A uprobe as a perf event of the kernel's `uprobe` PMU (no tracefs, nothing named on the machine):
 * perf_event_open with the PMU's type, config1 = the file's path, config2 = the offset in the file,
 * the return-probe bit from the PMU's format when it is a uretprobe. The probe lives as long as the
 * fd: closing it, or the process dying, removes it.
 */
import { readFileSync } from 'node:fs';
import type { Libc } from '../../live/libc.ts';
import { BPF_PERF_EVENT, BpfCallError, cString, fixedBytes, type BpfSyscalls } from './bpf-syscalls.ts';

const UPROBE_PMU = '/sys/bus/event_source/devices/uprobe';
/** PERF_ATTR_SIZE_VER5: every field we set is in the first 112 bytes. */
const PERF_ATTR_SIZE = 112;
const PERF_FLAG_FD_CLOEXEC = 8;
/** perf_event_attr.flags bit 0: created disabled, enabled once the program is attached. */
const ATTR_DISABLED = 1n;
/** _IO('$', 0) */
const PERF_EVENT_IOC_ENABLE = 0x2400;

export interface UprobePmu {
  readonly type: number;
  /** The config bit that makes a probe a return probe. */
  readonly retprobeBit: number;
}

/** Throws with the file it could not read or understand. */
export function readUprobePmu(root = UPROBE_PMU): UprobePmu {
  const type = Number(readFileSync(`${root}/type`, 'utf8').trim());
  const format = readFileSync(`${root}/format/retprobe`, 'utf8').trim();
  const m = /^config:(\d+)$/.exec(format);
  if (!Number.isInteger(type) || type <= 0 || m === null) {
    throw new Error(`${root}: unexpected type or format/retprobe (${JSON.stringify(format)})`);
  }
  return { type, retprobeBit: Number(m[1]) };
}

export interface UprobeTarget {
  readonly path: string;
  readonly fileOffset: number;
  readonly retprobe: boolean;
}

/** Opens the (disabled) perf event of one uprobe: every process, on CPU 0's context, as libbpf does. */
export function openUprobeEvent(libc: Libc, pmu: UprobePmu, target: UprobeTarget): number {
  // The kernel copies the path during the call; `path` stays referenced until it returns.
  const path = cString(target.path);
  const attr = fixedBytes(PERF_ATTR_SIZE);
  const view = new DataView(attr.buffer);
  // type 0, size 4, config 8, flags 40, config1 56, config2 64.
  view.setUint32(0, pmu.type, true);
  view.setUint32(4, PERF_ATTR_SIZE, true);
  view.setBigUint64(8, target.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n, true);
  view.setBigUint64(40, ATTR_DISABLED, true);
  view.setBigUint64(56, libc.address(path), true);
  view.setBigUint64(64, BigInt(target.fileOffset), true);
  const fd = libc.perfEventOpen(attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    const errno = libc.errno();
    throw new BpfCallError(`perf_event_open of a ${target.retprobe ? 'uretprobe' : 'uprobe'} at ${target.path}+0x${target.fileOffset.toString(16)}`, errno, libc.strerror(errno));
  }
  return fd;
}

/** A uprobe with its program: the perf event and the BPF link that ties `progFd` to it. */
export interface AttachedUprobe {
  readonly perfFd: number;
  readonly linkFd: number;
}

/**
 * Opens the uprobe, links the program to it (BPF_LINK_CREATE with BPF_PERF_EVENT: the link is an fd
 * too, listed by `bpftool link`) and enables it. Closes what it opened when a step fails.
 */
export function attachUprobe(sys: BpfSyscalls, pmu: UprobePmu, progFd: number, target: UprobeTarget, name: string): AttachedUprobe {
  const perfFd = openUprobeEvent(sys.libc, pmu, target);
  let linkFd = -1;
  try {
    linkFd = sys.createLink(progFd, perfFd, BPF_PERF_EVENT, `attaching ${name}`);
    enablePerfEvent(sys.libc, perfFd, `enabling ${name}`);
  } catch (err) {
    sys.close(linkFd);
    sys.close(perfFd);
    throw err;
  }
  return { perfFd, linkFd };
}

/** Closes the link, then the event: the probe is gone from the file. */
export function detachUprobe(sys: BpfSyscalls, probe: AttachedUprobe): void {
  sys.close(probe.linkFd);
  sys.close(probe.perfFd);
}

function enablePerfEvent(libc: Libc, fd: number, step: string): void {
  if (libc.ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
    const errno = libc.errno();
    throw new BpfCallError(step, errno, libc.strerror(errno));
  }
}
