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
        const fd = sys.loadProgram({ name: def.target, type, license: object.license, instructions });
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
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#programs.values()) this.#sys.close(p.fd);
    for (const fd of this.#maps.values()) this.#sys.close(fd);
    this.#programs.clear();
    this.#maps.clear();
  }
}
