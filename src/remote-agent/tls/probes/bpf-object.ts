/**
 * Reads a BPF object file (clang -target bpf: ELF64, little-endian, EM_BPF, relocatable) into what
 * the loader needs, under the conventions of bpf/README.md: legacy map definitions (one
 * `struct { u32 type, key_size, value_size, max_entries, map_flags; }` per symbol in section
 * `maps`), programs in sections `uprobe/<name>` and `raw_tp/<tracepoint>`, and in each `.rel<section>`
 * only R_BPF_64_64 entries that point an `ld_imm64` at a map. Anything else (`.rodata`, BPF-to-BPF
 * calls, BTF relocations) is refused with what was found where, rather than loaded half right.
 */
import { EM_BPF, ET_REL, SHT_REL, parseElf, type Elf, type ElfSection } from '../elf.ts';

const R_BPF_64_64 = 1;
const MAP_DEF_BYTES = 20;
const INSN_BYTES = 8;
const BPF_LD_IMM64 = 0x18;

export type BpfProgramKind = 'uprobe' | 'raw_tp';

export interface BpfMapDefinition {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

export interface BpfProgramDefinition {
  /** The ELF section, `uprobe/ssl_write_entry`, `raw_tp/sock_send_length`. */
  readonly section: string;
  readonly kind: BpfProgramKind;
  /** What follows the slash: the program's name (uprobe) or the kernel tracepoint (raw_tp). */
  readonly target: string;
  readonly instructions: Uint8Array;
  /** Instruction indexes of `ld_imm64` that must get a map's fd, and which map. */
  readonly mapReferences: readonly { readonly instruction: number; readonly map: string }[];
}

export interface BpfObject {
  readonly license: string;
  readonly maps: ReadonlyMap<string, BpfMapDefinition>;
  readonly programs: ReadonlyMap<string, BpfProgramDefinition>;
}

export class BpfObjectError extends Error {
  readonly code = 'BPF_OBJECT_INVALID';

  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'BpfObjectError';
  }
}

export function parseBpfObject(bytes: Uint8Array, file: string): BpfObject {
  const elf = parseElf(bytes, file);
  const fail = (message: string): never => {
    throw new BpfObjectError(file, message);
  };
  if (elf.machine !== EM_BPF || elf.type !== ET_REL) fail(`not a BPF object (machine ${elf.machine}, type ${elf.type}; want EM_BPF ${EM_BPF}, ET_REL ${ET_REL})`);

  const licenseSection = elf.section('license');
  const licenseBytes = licenseSection === undefined ? new Uint8Array(0) : elf.sectionData(licenseSection);
  const nul = licenseBytes.indexOf(0);
  const license = Buffer.from(licenseBytes.subarray(0, nul < 0 ? licenseBytes.length : nul)).toString('latin1');
  if (license === '') fail('no license section (GPL-only helpers need one)');

  const symbols = elf.symbols('.symtab');
  const mapsSection = elf.section('maps');
  const maps = new Map<string, BpfMapDefinition>();
  const mapAt = new Map<number, string>(); // offset in `maps` -> map name
  if (mapsSection !== undefined) {
    const data = elf.sectionData(mapsSection);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (const sym of symbols) {
      if (sym.sectionIndex !== mapsSection.index || sym.name === '') continue;
      if (sym.value + MAP_DEF_BYTES > data.length) fail(`map ${sym.name} at ${sym.value} runs past section maps (${data.length} bytes)`);
      const at = sym.value;
      maps.set(sym.name, {
        name: sym.name,
        type: view.getUint32(at, true),
        keySize: view.getUint32(at + 4, true),
        valueSize: view.getUint32(at + 8, true),
        maxEntries: view.getUint32(at + 12, true),
        flags: view.getUint32(at + 16, true),
      });
      mapAt.set(at, sym.name);
    }
  }

  const programs = new Map<string, BpfProgramDefinition>();
  for (const section of elf.sections) {
    const m = /^(uprobe|raw_tp)\/(.+)$/.exec(section.name);
    if (m === null) continue;
    // A copy (a Buffer's slice() would share the file's memory).
    const instructions = new Uint8Array(elf.sectionData(section));
    if (instructions.length === 0 || instructions.length % INSN_BYTES !== 0) fail(`section ${section.name}: ${instructions.length} bytes is not a whole number of instructions`);
    const mapReferences = relocationsOf(elf, section, symbols, mapsSection, mapAt, instructions, fail);
    programs.set(section.name, { section: section.name, kind: m[1] as BpfProgramKind, target: m[2]!, instructions, mapReferences });
  }
  for (const section of elf.sections) {
    // Data the programs would read through relocations we do not apply.
    if (/^\.(rodata|data|bss)(\.|$)/.test(section.name) && section.size > 0) fail(`section ${section.name}: global data is not supported by this loader (bpf/README.md)`);
  }
  return { license, maps, programs };
}

function relocationsOf(
  elf: Elf,
  section: ElfSection,
  symbols: ReturnType<Elf['symbols']>,
  mapsSection: ElfSection | undefined,
  mapAt: ReadonlyMap<number, string>,
  instructions: Uint8Array,
  fail: (message: string) => never,
): { instruction: number; map: string }[] {
  const rel = elf.sections.find((s) => s.type === SHT_REL && s.info === section.index);
  if (rel === undefined) return [];
  const out: { instruction: number; map: string }[] = [];
  for (const r of elf.relocations(rel)) {
    const where = `${rel.name} at ${r.offset}`;
    if (r.type !== R_BPF_64_64) fail(`${where}: relocation type ${r.type} (only R_BPF_64_64 to a map is supported: no BPF-to-BPF calls, no global data)`);
    const sym = symbols[r.symbolIndex];
    if (sym === undefined) fail(`${where}: symbol ${r.symbolIndex} does not exist`);
    if (mapsSection === undefined || sym!.sectionIndex !== mapsSection.index) fail(`${where}: refers to ${sym!.name || `section ${sym!.sectionIndex}`}, not a map in section maps`);
    const map = mapAt.get(sym!.value);
    if (map === undefined) fail(`${where}: no map defined at offset ${sym!.value} of section maps`);
    if (r.offset % INSN_BYTES !== 0 || r.offset + 2 * INSN_BYTES > instructions.length) fail(`${where}: not an instruction of ${section.name}`);
    if (instructions[r.offset] !== BPF_LD_IMM64) fail(`${where}: instruction ${r.offset / INSN_BYTES} is not ld_imm64 (opcode 0x${instructions[r.offset]!.toString(16)})`);
    out.push({ instruction: r.offset / INSN_BYTES, map: map! });
  }
  return out;
}

/**
 * A copy of `program`'s instructions with each map reference turned into `ld_imm64 dst, map_fd`
 * (src_reg BPF_PSEUDO_MAP_FD, imm = the fd), as the kernel expects from a loader.
 */
export function patchMapFds(program: BpfProgramDefinition, fdOf: (map: string) => number): Uint8Array {
  const out = new Uint8Array(program.instructions);
  const view = new DataView(out.buffer);
  const BPF_PSEUDO_MAP_FD = 1;
  for (const ref of program.mapReferences) {
    const at = ref.instruction * INSN_BYTES;
    out[at + 1] = (BPF_PSEUDO_MAP_FD << 4) | (out[at + 1]! & 0x0f);
    view.setInt32(at + 4, fdOf(ref.map), true);
    view.setInt32(at + INSN_BYTES + 4, 0, true); // the upper half of the 64-bit immediate
  }
  return out;
}
