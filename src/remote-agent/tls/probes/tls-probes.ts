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
import { BpfCallError, BpfSyscalls, EACCES, ENOENT, ENOSYS, EPERM, fixedBytes } from './bpf-syscalls.ts';
import { decodeRecord, encodeConfig, rawTracepointSection, TLS_MAPS, TLS_RAW_TRACEPOINTS, uprobeSection, type KernelOffsets } from './layout.ts';
import { LoadedObject } from './load-object.ts';
import { findBpfObject, bpfObjectCandidates } from './object-file.ts';
import { possibleCpus } from './possible-cpus.ts';
import { PAGE_SIZE, RingBufferReader } from './ring-buffer.ts';
import { attachUprobe, detachUprobe, readUprobePmu, type AttachedUprobe, type UprobePmu } from './uprobe-event.ts';

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

export interface ProbeSources {
  readonly btf: KernelBtf;
  /** The BPF object; found next to the bundle or in bpf/ when absent. */
  readonly objectPath?: string;
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
  let loaded: LoadedObject | null = null;
  const tracepointLinks: number[] = [];
  let ring: RingBufferReader | null = null;
  try {
    loaded = LoadedObject.load(sys, object, {
      maxEntries: { [TLS_MAPS.events]: ringBytes },
      // Scope first: until `config` says ready, every program returns at once.
      beforePrograms: (maps) => sys.updateElem(maps.mapFd(TLS_MAPS.config), u32(0), encodeConfig({ ...namespaceIds(), offsets })),
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
    return new KernelTlsProbes(sys, pmu, loaded, tracepointLinks, ring, options);
  } catch (err) {
    ring?.close();
    for (const fd of tracepointLinks) sys.close(fd);
    loaded?.close();
    throw unavailable(err);
  }
}

class KernelTlsProbes implements TlsProbes {
  readonly #sys: BpfSyscalls;
  readonly #pmu: UprobePmu;
  readonly #loaded: LoadedObject;
  readonly #tracepointLinks: number[];
  readonly #ring: RingBufferReader;
  readonly #options: TlsProbeOptions;
  readonly #plans = new Map<string, AttachedUprobe[]>();
  readonly #lostFd: number;
  /** Wall-clock microseconds minus CLOCK_MONOTONIC microseconds, taken once. */
  readonly #clockOffsetUs: number;
  #events = 0;
  #bytes = 0;
  /** The lost count read at close(), when the map is gone. */
  #lastLost = 0;
  #closed = false;

  constructor(sys: BpfSyscalls, pmu: UprobePmu, loaded: LoadedObject, tracepointLinks: number[], ring: RingBufferReader, options: TlsProbeOptions) {
    this.#sys = sys;
    this.#pmu = pmu;
    this.#loaded = loaded;
    this.#tracepointLinks = tracepointLinks;
    this.#ring = ring;
    this.#options = options;
    this.#lostFd = loaded.mapFd(TLS_MAPS.lost);
    this.#clockOffsetUs = monotonicToWallUs();
    ring.startPolling(loaded.mapFd(TLS_MAPS.events), () => this.#drain());
  }

  attach(plan: LibraryHookPlan): AttachResult {
    if (this.#closed) return { ok: false, reason: 'the TLS probes are closed' };
    const existing = this.#plans.get(plan.key);
    if (existing !== undefined) return { ok: true, probes: existing.length };
    const attached: AttachedUprobe[] = [];
    for (const spec of plan.probes) {
      try {
        attached.push(this.#attachOne(spec));
      } catch (err) {
        for (const probe of attached) this.#detach(probe);
        return { ok: false, reason: `${describe(spec)}: ${err instanceof BpfCallError ? reasonOf(err) : messageOf(err)}` };
      }
    }
    this.#plans.set(plan.key, attached);
    return { ok: true, probes: attached.length };
  }

  counters(): TlsProbeCounters {
    return { events: this.#events, bytes: this.#bytes, lostEvents: this.#closed ? this.#lastLost : this.#readLost() };
  }

  close(): void {
    if (this.#closed) return;
    this.#lastLost = this.#readLost();
    this.#closed = true;
    this.#ring.close();
    for (const probes of this.#plans.values()) for (const probe of probes) this.#detach(probe);
    this.#plans.clear();
    for (const fd of this.#tracepointLinks) this.#sys.close(fd);
    this.#tracepointLinks.length = 0;
    this.#loaded.close();
  }

  #attachOne(spec: UprobeSpec): AttachedUprobe {
    const progFd = this.#loaded.programFd(uprobeSection(spec.program));
    if (progFd === undefined) throw new Error(`the BPF object has no program ${uprobeSection(spec.program)}`);
    return attachUprobe(this.#sys, this.#pmu, progFd, spec, spec.program);
  }

  #detach(probe: AttachedUprobe): void {
    detachUprobe(this.#sys, probe);
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
    if (this.#closed) return;
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
