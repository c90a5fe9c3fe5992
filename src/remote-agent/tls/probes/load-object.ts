/**
 * Puts a parsed BPF object into the kernel: one map per definition (a size can be overridden, as
 * the ring's is by `ringBytes`), then every program with its map references patched to the maps'
 * fds. Nothing is attached here. All or nothing: a failure closes what was made before it.
 */
import type { BpfObject, BpfProgramDefinition } from './bpf-object.ts';
import { patchMapFds } from './bpf-object.ts';
import { BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_RAW_TRACEPOINT, type BpfSyscalls } from './bpf-syscalls.ts';

export interface LoadOptions {
  /** max_entries to use instead of the object's, per map name. */
  readonly maxEntries?: Readonly<Record<string, number>>;
  /** Called after the maps exist and before any program is loaded (fill configuration maps here). */
  readonly beforePrograms?: (maps: LoadedObject) => void;
  /** expected_attach_type of the uprobe programs: BPF_TRACE_UPROBE_MULTI for uprobe_multi links; 0 (perf events) when absent. */
  readonly uprobeAttachType?: number;
}

export class LoadedObject {
  readonly #sys: BpfSyscalls;
  readonly #maps = new Map<string, number>();
  readonly #programs = new Map<string, { readonly fd: number; readonly definition: BpfProgramDefinition }>();
  #closed = false;

  private constructor(sys: BpfSyscalls) {
    this.#sys = sys;
  }

  static load(sys: BpfSyscalls, object: BpfObject, options: LoadOptions): LoadedObject {
    const loaded = new LoadedObject(sys);
    try {
      for (const def of object.maps.values()) {
        const maxEntries = options.maxEntries?.[def.name] ?? def.maxEntries;
        loaded.#maps.set(def.name, sys.createMap({ ...def, maxEntries }));
      }
      options.beforePrograms?.(loaded);
      for (const def of object.programs.values()) {
        const instructions = patchMapFds(def, (name) => loaded.mapFd(name));
        // Uprobe programs are kprobe programs (ctx: struct pt_regs); raw tracepoint programs get the
        // tracepoint's arguments as u64s. (fentry would need BTF ids, and lockdown refuses it here.)
        const type = def.kind === 'uprobe' ? BPF_PROG_TYPE_KPROBE : BPF_PROG_TYPE_RAW_TRACEPOINT;
        const expectedAttachType = def.kind === 'uprobe' ? (options.uprobeAttachType ?? 0) : 0;
        const fd = sys.loadProgram({ name: def.target, type, license: object.license, instructions, expectedAttachType });
        loaded.#programs.set(def.section, { fd, definition: def });
      }
    } catch (err) {
      loaded.close();
      throw err;
    }
    return loaded;
  }

  mapFd(name: string): number {
    const fd = this.#maps.get(name);
    if (fd === undefined) throw new Error(`the BPF object has no map ${name}`);
    return fd;
  }

  /** The fd of the program in ELF section `section`, or undefined. */
  programFd(section: string): number | undefined {
    return this.#programs.get(section)?.fd;
  }

  /** Loaded programs of one kind, with their fds. */
  programs(kind: BpfProgramDefinition['kind']): { readonly fd: number; readonly definition: BpfProgramDefinition }[] {
    return [...this.#programs.values()].filter((p) => p.definition.kind === kind);
  }

  /** Closes every program and map fd; idempotent. */
  close(): void {
    for (const fd of this.release()) this.#sys.close(fd);
  }

  /** Every program and map fd, handed to the caller to close (here they are forgotten); idempotent. */
  release(): number[] {
    if (this.#closed) return [];
    this.#closed = true;
    const fds = [...[...this.#programs.values()].map((p) => p.fd), ...this.#maps.values()];
    this.#programs.clear();
    this.#maps.clear();
    return fds;
  }
}
