/**
 * The TLS probes as probe-api.ts promises them: bpf/tls.bpf.o loaded by our own loader, its scope
 * (`config`) written before anything can fire, the socket programs attached to raw tracepoints, the
 * ring drained from the event loop, and uprobes added per library file. Every kernel object is an fd
 * of this process: close(), exit or SIGKILL removes them all.
 */
import { readFileSync, statSync } from 'node:fs';
import { loadLibc, type Libc } from '../../live/libc.ts';
import type { TlsEvent, TlsProbeCounters } from '../events.ts';
import type { LibraryHookPlan, UprobeSpec } from '../hooks.ts';
import { TlsUnavailableError, type AttachResult, type TlsProbeOptions, type TlsProbes } from '../probe-api.ts';
import { parseBpfObject, type BpfObject } from './bpf-object.ts';
import { BPF_TRACE_UPROBE_MULTI, BpfCallError, BpfSyscalls, EACCES, ENOENT, ENOSYS, EPERM, fixedBytes } from './bpf-syscalls.ts';
import { decodeRecord, encodeConfig, rawTracepointSection, TLS_MAPS, TLS_RAW_TRACEPOINTS, uprobeSection, type KernelOffsets } from './layout.ts';
import { LoadedObject } from './load-object.ts';
import { findBpfObject, bpfObjectCandidates } from './object-file.ts';
import { possibleCpus } from './possible-cpus.ts';
import { PAGE_SIZE, RingBufferReader } from './ring-buffer.ts';
import { attachUprobe, readUprobePmu, type UprobePmu } from './uprobe-event.ts';
import { kernelHasUprobeMulti } from './uprobe-multi.ts';

/**
 * Records decoded per wake-up of the poll handle before yielding to the event loop (the handle is
 * level-triggered: what is left calls again on the next turn). 256 records are at most 4 MiB.
 */
export const RECORDS_PER_WAKE_UP = 256;

const REFUSED =
  'BPF is refused (needs CAP_BPF and CAP_PERFMON, or a privileged container: tap --tls does that)';

/** What the loader needs from the kernel's BTF (probes/btf.ts reads /sys/kernel/btf/vmlinux). */
export interface KernelBtf {
  /** Struct member offsets the programs read; throws when the kernel has no BTF. */
  kernelOffsets(): KernelOffsets;
}

/**
 * How uprobes are placed: `multi`, one uprobe_multi link per (program, file) (Linux 6.6); or
 * `perf-events`, a perf event and a link per uprobe (older kernels).
 */
export type UprobeLinks = 'multi' | 'perf-events';

export interface ProbeSources {
  readonly btf: KernelBtf;
  /** The BPF object; found next to the bundle or in bpf/ when absent. */
  readonly objectPath?: string;
  /** Forces one way of placing uprobes (tests run both); absent: multi when the kernel has it. */
  readonly uprobeLinks?: UprobeLinks;
}

export function openProbes(options: TlsProbeOptions, sources: ProbeSources): TlsProbes {
  const ringBytes = options.ringBytes;
  if (!Number.isInteger(ringBytes) || ringBytes < PAGE_SIZE || (ringBytes & (ringBytes - 1)) !== 0) {
    throw new RangeError(`ringBytes ${ringBytes} is not a power of two of at least ${PAGE_SIZE} bytes`);
  }
  let libc: Libc;
  try {
    libc = loadLibc();
  } catch (err) {
    throw new TlsUnavailableError(`TLS capture cannot load its system calls: ${messageOf(err)}`, { cause: err });
  }
  const object = readObject(sources.objectPath);
  const pmu = readPmu();
  let offsets: KernelOffsets;
  try {
    offsets = sources.btf.kernelOffsets();
  } catch (err) {
    throw new TlsUnavailableError(`TLS capture needs the kernel's BTF type information: ${messageOf(err)}`, { cause: err });
  }

  const sys = new BpfSyscalls(libc);
  let uprobeLinks: UprobeLinks;
  try {
    uprobeLinks = sources.uprobeLinks ?? (kernelHasUprobeMulti(sys) ? 'multi' : 'perf-events');
  } catch (err) {
    throw unavailable(err);
  }
  let loaded: LoadedObject | null = null;
  const tracepointLinks: number[] = [];
  let ring: RingBufferReader | null = null;
  try {
    loaded = LoadedObject.load(sys, object, {
      maxEntries: { [TLS_MAPS.events]: ringBytes },
      // Scope first: until `config` says ready, every program returns at once.
      beforePrograms: (maps) => sys.updateElem(maps.mapFd(TLS_MAPS.config), u32(0), encodeConfig({ ...namespaceIds(), offsets })),
      // A program loaded for uprobe_multi links cannot be a perf event's, and the other way round.
      ...(uprobeLinks === 'multi' ? { uprobeAttachType: BPF_TRACE_UPROBE_MULTI } : {}),
    });
    for (const name of TLS_RAW_TRACEPOINTS) {
      const fd = loaded.programFd(rawTracepointSection(name));
      if (fd === undefined) throw new TlsUnavailableError(`the BPF object has no program ${rawTracepointSection(name)}: rebuild bpf/tls.bpf.o (bpf/build.sh)`);
      try {
        tracepointLinks.push(sys.openRawTracepoint(name, fd));
      } catch (err) {
        if (!(err instanceof BpfCallError) || err.errno !== ENOENT) throw err;
        // sock_send_length and sock_recv_length came with Linux 6.3.
        throw new TlsUnavailableError(`this kernel has no tracepoint ${name} (TLS capture needs Linux 6.3 or later): ${err.message}`, { cause: err });
      }
    }
    ring = RingBufferReader.open(libc, loaded.mapFd(TLS_MAPS.events), ringBytes);
    return new KernelTlsProbes(sys, { pmu, uprobeLinks }, loaded, tracepointLinks, ring, options);
  } catch (err) {
    ring?.close();
    for (const fd of tracepointLinks) sys.close(fd);
    loaded?.close();
    throw unavailable(err);
  }
}

/** A plan's uprobes in the kernel: how many, and the fds that hold them (links, perf events). */
interface AttachedPlan {
  readonly probes: number;
  readonly fds: readonly number[];
}

class KernelTlsProbes implements TlsProbes {
  readonly #sys: BpfSyscalls;
  readonly #pmu: UprobePmu;
  readonly #uprobeLinks: UprobeLinks;
  readonly #loaded: LoadedObject;
  readonly #tracepointLinks: number[];
  readonly #ring: RingBufferReader;
  readonly #options: TlsProbeOptions;
  readonly #plans = new Map<string, AttachedPlan>();
  readonly #lostFd: number;
  /** Wall-clock microseconds minus CLOCK_MONOTONIC microseconds, taken once. */
  readonly #clockOffsetUs: number;
  #events = 0;
  #bytes = 0;
  /** The lost count read at close(), when the map is gone. */
  #lastLost = 0;
  #closing: Promise<void> | null = null;
  /** Fds of refused plans being closed on the thread pool; close() waits for them too. */
  readonly #releasing = new Set<Promise<void>>();

  constructor(sys: BpfSyscalls, uprobes: { readonly pmu: UprobePmu; readonly uprobeLinks: UprobeLinks }, loaded: LoadedObject, tracepointLinks: number[], ring: RingBufferReader, options: TlsProbeOptions) {
    this.#sys = sys;
    this.#pmu = uprobes.pmu;
    this.#uprobeLinks = uprobes.uprobeLinks;
    this.#loaded = loaded;
    this.#tracepointLinks = tracepointLinks;
    this.#ring = ring;
    this.#options = options;
    this.#lostFd = loaded.mapFd(TLS_MAPS.lost);
    this.#clockOffsetUs = monotonicToWallUs();
    ring.startPolling(loaded.mapFd(TLS_MAPS.events), () => this.#drain());
  }

  attach(plan: LibraryHookPlan): AttachResult {
    if (this.#closing !== null) return { ok: false, reason: 'the TLS probes are closed' };
    const existing = this.#plans.get(plan.key);
    if (existing !== undefined) return { ok: true, probes: existing.probes };
    const placed = this.#uprobeLinks === 'multi' ? this.#attachMulti(plan.probes) : this.#attachPerfEvents(plan.probes);
    if (!placed.ok) return placed;
    this.#plans.set(plan.key, { probes: plan.probes.length, fds: placed.fds });
    return { ok: true, probes: plan.probes.length };
  }

  counters(): TlsProbeCounters {
    return { events: this.#events, bytes: this.#bytes, lostEvents: this.#closing !== null ? this.#lastLost : this.#readLost() };
  }

  /**
   * Events stop at once (the ring's poll handle and mapping go now); the fds are closed on libuv's
   * thread pool, since the kernel removes a uprobe synchronously in close(2) and waits for RCU grace
   * periods doing so (~70 ms per uprobe perf event on Linux 6.18). The promise resolves when every
   * fd is closed; a process that exits before that loses nothing: the kernel closes the rest.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#lastLost = this.#readLost();
    this.#ring.close();
    // Links and perf events first: they hold the programs, and their release is the slow part.
    const fds = [...[...this.#plans.values()].flatMap((p) => p.fds), ...this.#tracepointLinks, ...this.#loaded.release()];
    this.#plans.clear();
    this.#tracepointLinks.length = 0;
    this.#closing = Promise.all([...fds.map((fd) => this.#sys.libc.closeOffThread(fd)), ...this.#releasing]).then(() => undefined);
    return this.#closing;
  }

  /** Closes what a refused plan placed, off the event loop (perf events: ~70 ms each). */
  #release(fds: readonly number[]): void {
    const done = Promise.all(fds.map((fd) => this.#sys.libc.closeOffThread(fd))).then(() => undefined);
    this.#releasing.add(done);
    const forget = (): void => void this.#releasing.delete(done);
    done.then(forget, forget);
  }

  /** One uprobe_multi link per (program, return or not) with all its offsets in the file. */
  #attachMulti(specs: readonly UprobeSpec[]): { ok: true; fds: number[] } | { ok: false; reason: string } {
    const groups = new Map<string, UprobeSpec[]>();
    for (const spec of specs) {
      const key = `${spec.program}\0${spec.retprobe}\0${spec.path}`;
      groups.set(key, [...(groups.get(key) ?? []), spec]);
    }
    const fds: number[] = [];
    for (const group of groups.values()) {
      try {
        fds.push(this.#linkMulti(group));
      } catch (err) {
        this.#release(fds);
        // The kernel refuses a link as a whole: ask again per offset to name the probe it refuses.
        const culprit = group.length === 1 ? { spec: group[0]!, err } : this.#refusedOffset(group);
        if (culprit === null) return { ok: false, reason: `${describeGroup(group)}: ${explain(err)}` };
        return { ok: false, reason: `${describe(culprit.spec)}: ${explain(culprit.err)}` };
      }
    }
    return { ok: true, fds };
  }

  #linkMulti(group: readonly UprobeSpec[]): number {
    const first = group[0]!;
    const progFd = this.#programFd(first);
    const where = group.length === 1 ? `${first.path}+0x${first.fileOffset.toString(16)}` : `${group.length} offsets of ${first.path}`;
    const step = `uprobe_multi link of ${first.retprobe ? 'uretprobes' : 'uprobes'} at ${where}`;
    return this.#sys.createUprobeMultiLink(progFd, { path: first.path, offsets: group.map((s) => s.fileOffset), retprobe: first.retprobe }, step);
  }

  /** The first probe of a refused group the kernel refuses on its own, or null (then the group is the reason). */
  #refusedOffset(group: readonly UprobeSpec[]): { spec: UprobeSpec; err: unknown } | null {
    for (const spec of group) {
      try {
        this.#sys.close(this.#linkMulti([spec]));
      } catch (err) {
        return { spec, err };
      }
    }
    return null;
  }

  /** A perf event and a link per uprobe (kernels before 6.6). */
  #attachPerfEvents(specs: readonly UprobeSpec[]): { ok: true; fds: number[] } | { ok: false; reason: string } {
    const fds: number[] = [];
    for (const spec of specs) {
      try {
        const probe = attachUprobe(this.#sys, this.#pmu, this.#programFd(spec), spec, spec.program);
        fds.push(probe.linkFd, probe.perfFd);
      } catch (err) {
        this.#release(fds);
        return { ok: false, reason: `${describe(spec)}: ${explain(err)}` };
      }
    }
    return { ok: true, fds };
  }

  #programFd(spec: UprobeSpec): number {
    const progFd = this.#loaded.programFd(uprobeSection(spec.program));
    if (progFd === undefined) throw new Error(`the BPF object has no program ${uprobeSection(spec.program)}`);
    return progFd;
  }

  /** The kernel's per-CPU count of records the ring refused, summed. */
  #readLost(): number {
    const cpus = possibleCpus();
    const values = fixedBytes(8 * cpus);
    if (!this.#sys.lookupElem(this.#lostFd, u32(0), values)) return 0;
    const view = new DataView(values.buffer);
    let total = 0n;
    for (let cpu = 0; cpu < cpus; cpu += 1) total += view.getBigUint64(cpu * 8, true);
    return Number(total);
  }

  /** One wake-up: at most RECORDS_PER_WAKE_UP records, delivered as one batch. */
  #drain(): void {
    if (this.#closing !== null) return;
    const batch: TlsEvent[] = [];
    try {
      this.#ring.read(RECORDS_PER_WAKE_UP, (view, offset, length) => {
        let event: TlsEvent;
        try {
          event = decodeRecord(view, offset, length, this.#clockOffsetUs);
        } catch (err) {
          this.#options.onInternalError(err);
          return;
        }
        this.#events += 1;
        if (event.kind === 'data') this.#bytes += event.bytes.length;
        batch.push(event);
      });
    } catch (err) {
      // A ring whose positions make no sense (the kernel's side broken): report it once and stop
      // reading, keep what was read; polling on would call back at once, forever.
      this.#options.onInternalError(err);
      this.#ring.stopPolling();
    }
    if (batch.length === 0) return;
    try {
      this.#options.onEvents(batch);
    } catch (err) {
      this.#options.onInternalError(err);
    }
  }
}

function readObject(path: string | undefined): BpfObject {
  const file = path ?? findBpfObject();
  if (file === null) {
    throw new TlsUnavailableError(`the TLS probes' BPF object is missing (looked for ${bpfObjectCandidates().join(' and ')}): rebuild the agent (npm run build)`);
  }
  try {
    return parseBpfObject(readFileSync(file), file);
  } catch (err) {
    throw new TlsUnavailableError(`the TLS probes' BPF object cannot be read: ${messageOf(err)}`, { cause: err });
  }
}

function readPmu(): UprobePmu {
  try {
    return readUprobePmu();
  } catch (err) {
    throw new TlsUnavailableError(`this kernel has no uprobe perf event source (CONFIG_UPROBE_EVENTS): ${messageOf(err)}`, { cause: err });
  }
}

/** The agent's own PID and network namespaces: events of any other are dropped in the kernel. */
function namespaceIds(): { pidNsDev: bigint; pidNsIno: bigint; netNsIno: bigint } {
  const pid = statSync('/proc/self/ns/pid', { bigint: true });
  const net = statSync('/proc/self/ns/net', { bigint: true });
  return { pidNsDev: pid.dev, pidNsIno: pid.ino, netNsIno: net.ino };
}

/**
 * bpf_ktime_get_ns() is CLOCK_MONOTONIC, and so is process.hrtime (libuv's uv_hrtime); the wall
 * clock is performance.timeOrigin + performance.now(), read back to back with it.
 */
function monotonicToWallUs(): number {
  const monoUs = Number(process.hrtime.bigint() / 1000n);
  const wallUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return wallUs - monoUs;
}

function unavailable(err: unknown): TlsUnavailableError {
  if (err instanceof TlsUnavailableError) return err;
  if (err instanceof BpfCallError) {
    if (err.verifierLog !== '') return new TlsUnavailableError(`the kernel's verifier refused the TLS probes (${err.message})`, { cause: err });
    if (err.errno === EPERM || err.errno === EACCES) return new TlsUnavailableError(`${REFUSED}: ${err.step} failed`, { cause: err });
    if (err.errno === ENOSYS) return new TlsUnavailableError('this kernel has no bpf() system call (CONFIG_BPF_SYSCALL): TLS capture cannot run here', { cause: err });
    return new TlsUnavailableError(`TLS probes cannot be loaded: ${err.message}`, { cause: err });
  }
  return new TlsUnavailableError(`TLS probes cannot be loaded: ${messageOf(err)}`, { cause: err });
}

function reasonOf(err: BpfCallError): string {
  if (err.errno === EPERM || err.errno === EACCES) return `${err.message}; ${REFUSED}`;
  return err.message;
}

function explain(err: unknown): string {
  return err instanceof BpfCallError ? reasonOf(err) : messageOf(err);
}

function describeGroup(group: readonly UprobeSpec[]): string {
  const first = group[0]!;
  return `${group.length} ${first.retprobe ? 'return probes' : 'probes'} ${first.program} on ${group.map((s) => s.symbol).join(', ')} (${first.path})`;
}

function describe(spec: UprobeSpec): string {
  return `${spec.retprobe ? 'return probe' : 'probe'} ${spec.program} on ${spec.symbol} (${spec.path}+0x${spec.fileOffset.toString(16)})`;
}

function u32(value: number): Uint8Array {
  const bytes = fixedBytes(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
