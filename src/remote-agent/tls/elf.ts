/**
 * The one ELF reader of kubectl-shark (ELF64, little-endian: x86-64 libraries and executables, and
 * BPF objects from clang). Used by `targets/` to find TLS functions in libssl and Go binaries of
 * other containers, and by `probes/` to read bpf/tls.bpf.o.
 *
 * The files are not ours (a container's /usr/lib can hold anything), so every offset, size and
 * count is checked against the file before it is used; a broken or hostile file gives one
 * `ElfError` (code ELF_INVALID) saying what and where, never a RangeError, an out-of-bounds read or
 * unbounded work. Reads are positional and bounded (`ElfSource`): a 20 MB Go binary costs the
 * headers and the few sections asked for, not a whole-file read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** A broken, truncated or unsupported ELF file (bad input, not a bug). */
export class ElfError extends Error {
  readonly code = 'ELF_INVALID';
  /** What was read ("/proc/42/root/usr/lib/libssl.so.3", "bpf/tls.bpf.o"). */
  readonly file: string;

  constructor(file: string, message: string) {
    super(`${file}: not a readable ELF64 little-endian file: ${message}`);
    this.name = 'ElfError';
    this.file = file;
  }
}

/** Positional reads over an ELF file's bytes. */
export interface ElfSource {
  /** For messages. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset` (the caller has checked the range against `size`). */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export interface ElfLimits {
  /** Largest section or segment read at once (a Go binary's .symtab is a few MB). */
  readonly maxReadBytes: number;
  /** Most section headers, program headers or notes looked at. */
  readonly maxHeaders: number;
}

export const DEFAULT_ELF_LIMITS: ElfLimits = { maxReadBytes: 64 * 1024 * 1024, maxHeaders: 65_535 };

// ELF constants (System V gABI; only those used).
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;
export const EM_BPF = 247;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

export interface ElfProgramHeader {
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** st_shndx (SHN_UNDEF = 0 for an undefined symbol; SHN_ABS and others as in the file). */
  readonly sectionIndex: number;
  /** STT_* (low 4 bits of st_info). */
  readonly type: number;
  /** STB_* (high 4 bits of st_info). */
  readonly bind: number;
}

export interface ElfNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

export interface ElfRelocation {
  readonly offset: number;
  readonly symbolIndex: number;
  readonly type: number;
  /** RELA only (0 for REL). */
  readonly addend: bigint;
}

export type SymbolTable = '.symtab' | '.dynsym';

/** Opens `path` for bounded positional reads; close the returned `Elf` when done. */
export function openElfFile(path: string, limits: ElfLimits = DEFAULT_ELF_LIMITS): Elf {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new ElfError(path, `cannot open (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ElfError(path, 'not a regular file');
    return new Elf(fileSource(path, fd, st.size), limits);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** An ELF file already in memory (a BPF object, a test input). */
export function parseElf(bytes: Uint8Array, name = 'ELF image', limits: ElfLimits = DEFAULT_ELF_LIMITS): Elf {
  return new Elf(bufferSource(name, bytes), limits);
}

function fileSource(name: string, fd: number, size: number): ElfSource {
  let open = true;
  return {
    name,
    size,
    read(offset, length) {
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        let n: number;
        try {
          n = readSync(fd, buf, done, length - done, offset + done);
        } catch (err) {
          throw new ElfError(name, `read failed at offset ${offset + done} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
        // The file shrank under us (replaced while we read): truncated from here on.
        if (n === 0) throw new ElfError(name, `file ends at ${offset + done}, expected ${length} bytes at ${offset}`);
        done += n;
      }
      return buf;
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

function bufferSource(name: string, bytes: Uint8Array): ElfSource {
  return {
    name,
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
    close() {},
  };
}

export class Elf {
  readonly name: string;
  /** ET_REL, ET_EXEC, ET_DYN. */
  readonly type: number;
  /** EM_X86_64, EM_BPF, ... */
  readonly machine: number;
  readonly entry: number;
  readonly sections: readonly ElfSection[];
  readonly programHeaders: readonly ElfProgramHeader[];
  readonly #source: ElfSource;
  readonly #limits: ElfLimits;
  readonly #byName = new Map<string, ElfSection>();

  constructor(source: ElfSource, limits: ElfLimits = DEFAULT_ELF_LIMITS) {
    this.#source = source;
    this.#limits = limits;
    this.name = source.name;
    if (source.size < EHDR_SIZE) this.#fail(`${source.size} bytes is shorter than an ELF64 header`);
    const h = view(source.read(0, EHDR_SIZE));
    if (h.getUint32(0, false) !== 0x7f454c46) this.#fail('no ELF magic');
    if (h.getUint8(4) !== ELFCLASS64) this.#fail(`class ${h.getUint8(4)} is not ELF64`);
    if (h.getUint8(5) !== ELFDATA2LSB) this.#fail(`data encoding ${h.getUint8(5)} is not little-endian`);
    this.type = h.getUint16(16, true);
    this.machine = h.getUint16(18, true);
    this.entry = this.#u64(h, 24, 'e_entry');
    this.programHeaders = this.#readProgramHeaders(h);
    this.sections = this.#readSections(h);
    for (const s of this.sections) if (!this.#byName.has(s.name)) this.#byName.set(s.name, s);
  }

  close(): void {
    this.#source.close();
  }

  /** The first section of that name. */
  section(name: string): ElfSection | undefined {
    return this.#byName.get(name);
  }

  /** The section's bytes (empty for SHT_NOBITS). */
  sectionData(section: ElfSection): Uint8Array {
    if (section.type === SHT_NOBITS) return new Uint8Array(0);
    return this.readAt(section.offset, section.size, `section ${section.name || section.index}`);
  }

  /** `length` bytes at file `offset`, checked against the file and the read limit. */
  readAt(offset: number, length: number, what: string): Uint8Array {
    if (length > this.#limits.maxReadBytes) this.#fail(`${what}: ${length} bytes is more than the ${this.#limits.maxReadBytes} read limit`);
    if (offset < 0 || length < 0 || offset > this.#source.size || length > this.#source.size - offset) {
      this.#fail(`${what}: bytes ${offset}..${offset + length} are past the end of the file (${this.#source.size} bytes)`);
    }
    return this.#source.read(offset, length);
  }

  /** Every symbol of `.symtab` or `.dynsym` (none when the table is absent), index 0 included as in the file. */
  symbols(table: SymbolTable): ElfSymbol[] {
    const out: ElfSymbol[] = [];
    this.#eachSymbol(table, (sym) => {
      out.push(sym);
      return false;
    });
    return out;
  }

  /**
   * The defined symbols named in `names` (first definition of each): for a Go binary's tens of
   * thousands of symbols this decodes only the names it compares, not an object per symbol.
   */
  findSymbols(table: SymbolTable, names: Iterable<string>): Map<string, ElfSymbol> {
    const wanted = new Map<string, Uint8Array>();
    for (const n of names) wanted.set(n, Buffer.from(n, 'utf8'));
    const found = new Map<string, ElfSymbol>();
    if (wanted.size === 0) return found;
    this.#eachSymbol(
      table,
      (sym) => {
        if (sym.sectionIndex !== SHN_UNDEF && !found.has(sym.name)) found.set(sym.name, sym);
        return found.size === wanted.size;
      },
      (strtab, start, end) => {
        for (const bytes of wanted.values()) if (equalBytes(strtab, start, end, bytes)) return true;
        return false;
      },
    );
    return found;
  }

  /** Whether the file has that symbol table (a stripped binary has no `.symtab`). */
  hasSymbolTable(table: SymbolTable): boolean {
    const s = this.#byName.get(table);
    return s !== undefined && s.type === (table === '.symtab' ? SHT_SYMTAB : SHT_DYNSYM);
  }

  /** The file offset of a virtual address inside a PT_LOAD segment's file bytes, or null. */
  fileOffsetOf(vaddr: number): number | null {
    for (const ph of this.programHeaders) {
      if (ph.type !== PT_LOAD) continue;
      if (vaddr >= ph.vaddr && vaddr - ph.vaddr < ph.filesz) return ph.offset + (vaddr - ph.vaddr);
    }
    return null;
  }

  /** Notes of SHT_NOTE sections (or of PT_NOTE segments when the file has no section headers). */
  notes(): ElfNote[] {
    const out: ElfNote[] = [];
    const noteSections = this.sections.filter((s) => s.type === SHT_NOTE);
    const areas =
      noteSections.length > 0
        ? noteSections.map((s) => ({ offset: s.offset, size: s.size, what: `note section ${s.name}` }))
        : this.programHeaders.filter((p) => p.type === PT_NOTE).map((p) => ({ offset: p.offset, size: p.filesz, what: 'PT_NOTE segment' }));
    for (const area of areas) {
      const bytes = this.readAt(area.offset, area.size, area.what);
      const v = view(bytes);
      let at = 0;
      while (at + 12 <= bytes.length) {
        if (out.length >= this.#limits.maxHeaders) this.#fail(`more than ${this.#limits.maxHeaders} notes`);
        const namesz = v.getUint32(at, true);
        const descsz = v.getUint32(at + 4, true);
        const type = v.getUint32(at + 8, true);
        const nameAt = at + 12;
        const descAt = nameAt + align4(namesz);
        const end = descAt + align4(descsz);
        if (descAt + descsz > bytes.length || namesz > bytes.length || descsz > bytes.length) {
          this.#fail(`${area.what}: note at ${area.offset + at} runs past its end`);
        }
        // The name's size counts its NUL terminator.
        const nameEnd = namesz > 0 && bytes[nameAt + namesz - 1] === 0 ? nameAt + namesz - 1 : nameAt + namesz;
        out.push({ name: Buffer.from(bytes.buffer, bytes.byteOffset + nameAt, nameEnd - nameAt).toString('latin1'), type, desc: bytes.subarray(descAt, descAt + descsz) });
        at = end;
      }
    }
    return out;
  }

  /** The entries of a SHT_REL or SHT_RELA section. */
  relocations(section: ElfSection): ElfRelocation[] {
    const rela = section.type === SHT_RELA;
    if (!rela && section.type !== SHT_REL) this.#fail(`section ${section.name} (type ${section.type}) holds no relocations`);
    const size = rela ? RELA_SIZE : REL_SIZE;
    const entsize = section.entsize === 0 ? size : section.entsize;
    if (entsize < size) this.#fail(`section ${section.name}: entry size ${entsize} is below ${size}`);
    const bytes = this.sectionData(section);
    const v = view(bytes);
    const out: ElfRelocation[] = [];
    for (let at = 0; at + size <= bytes.length; at += entsize) {
      const info = v.getBigUint64(at + 8, true);
      out.push({
        offset: this.#u64(v, at, `${section.name} r_offset`),
        symbolIndex: Number(info >> 32n),
        type: Number(info & 0xffffffffn),
        addend: rela ? v.getBigInt64(at + 16, true) : 0n,
      });
    }
    return out;
  }

  #eachSymbol(
    table: SymbolTable,
    visit: (sym: ElfSymbol) => boolean,
    nameFilter?: (strtab: Uint8Array, start: number, end: number) => boolean,
  ): void {
    const section = this.#byName.get(table);
    if (section === undefined || section.type !== (table === '.symtab' ? SHT_SYMTAB : SHT_DYNSYM)) return;
    const entsize = section.entsize === 0 ? SYM_SIZE : section.entsize;
    if (entsize < SYM_SIZE) this.#fail(`${table}: symbol size ${entsize} is below ${SYM_SIZE}`);
    const strSection = this.sections[section.link];
    if (strSection === undefined || strSection.type !== SHT_STRTAB) this.#fail(`${table}: sh_link ${section.link} is not a string table`);
    const strtab = this.sectionData(strSection);
    const bytes = this.sectionData(section);
    const v = view(bytes);
    for (let at = 0; at + SYM_SIZE <= bytes.length; at += entsize) {
      const nameOff = v.getUint32(at, true);
      if (nameOff >= strtab.length && nameOff !== 0) this.#fail(`${table}: symbol at ${section.offset + at} names offset ${nameOff}, past its string table`);
      const nameEnd = nameOff === 0 && strtab.length === 0 ? 0 : cstringEnd(strtab, nameOff);
      if (nameFilter !== undefined && !nameFilter(strtab, nameOff, nameEnd)) continue;
      const info = v.getUint8(at + 4);
      const sym: ElfSymbol = {
        name: Buffer.from(strtab.buffer, strtab.byteOffset + nameOff, nameEnd - nameOff).toString('utf8'),
        type: info & 0xf,
        bind: info >> 4,
        sectionIndex: v.getUint16(at + 6, true),
        value: this.#u64(v, at + 8, `${table} st_value`),
        size: this.#u64(v, at + 16, `${table} st_size`),
      };
      if (visit(sym)) return;
    }
  }

  #readProgramHeaders(h: DataView): ElfProgramHeader[] {
    const phoff = this.#u64(h, 32, 'e_phoff');
    const phentsize = h.getUint16(54, true);
    const phnum = h.getUint16(56, true);
    if (phnum === 0) return [];
    if (phentsize < PHDR_SIZE) this.#fail(`program header size ${phentsize} is below ${PHDR_SIZE}`);
    const v = view(this.readAt(phoff, phnum * phentsize, 'program headers'));
    const out: ElfProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      out.push({
        type: v.getUint32(at, true),
        flags: v.getUint32(at + 4, true),
        offset: this.#u64(v, at + 8, 'p_offset'),
        vaddr: this.#u64(v, at + 16, 'p_vaddr'),
        filesz: this.#u64(v, at + 32, 'p_filesz'),
        memsz: this.#u64(v, at + 40, 'p_memsz'),
      });
    }
    return out;
  }

  #readSections(h: DataView): ElfSection[] {
    const shoff = this.#u64(h, 40, 'e_shoff');
    const shentsize = h.getUint16(58, true);
    let shnum = h.getUint16(60, true);
    let shstrndx = h.getUint16(62, true);
    if (shoff === 0) return [];
    if (shentsize < SHDR_SIZE) this.#fail(`section header size ${shentsize} is below ${SHDR_SIZE}`);
    // More than 0xff00 sections: the real count and string table index sit in section 0.
    if (shnum === 0 || shstrndx === SHN_XINDEX) {
      const first = view(this.readAt(shoff, SHDR_SIZE, 'section header 0'));
      if (shnum === 0) shnum = this.#u64(first, 32, 'section count');
      if (shstrndx === SHN_XINDEX) shstrndx = first.getUint32(40, true);
    }
    if (shnum > this.#limits.maxHeaders) this.#fail(`${shnum} sections is more than the ${this.#limits.maxHeaders} limit`);
    const v = view(this.readAt(shoff, shnum * shentsize, 'section headers'));
    const raw: (Omit<ElfSection, 'name'> & { nameOff: number })[] = [];
    for (let i = 0; i < shnum; i++) {
      const at = i * shentsize;
      const type = v.getUint32(at + 4, true);
      const offset = this.#u64(v, at + 24, 'sh_offset');
      const size = this.#u64(v, at + 32, 'sh_size');
      // Section 0 of a file with many sections carries counts in its size field, not bytes.
      if (i > 0 && type !== SHT_NOBITS && (offset > this.#source.size || size > this.#source.size - offset)) {
        this.#fail(`section ${i} (bytes ${offset}..${offset + size}) runs past the end of the file (${this.#source.size} bytes)`);
      }
      raw.push({
        index: i,
        nameOff: v.getUint32(at, true),
        type,
        flags: this.#u64(v, at + 8, 'sh_flags'),
        addr: this.#u64(v, at + 16, 'sh_addr'),
        offset,
        size,
        link: v.getUint32(at + 40, true),
        info: v.getUint32(at + 44, true),
        addralign: this.#u64(v, at + 48, 'sh_addralign'),
        entsize: this.#u64(v, at + 56, 'sh_entsize'),
      });
    }
    let names: Uint8Array = new Uint8Array(0);
    if (shstrndx !== SHN_UNDEF && shstrndx < SHN_LORESERVE) {
      const strSection = raw[shstrndx];
      if (strSection === undefined) this.#fail(`section name table index ${shstrndx} is not a section (${shnum} sections)`);
      if (strSection.type === SHT_NOBITS) this.#fail('section name table has no bytes');
      names = this.readAt(strSection.offset, strSection.size, 'section name table');
    }
    return raw.map(({ nameOff, ...s }) => {
      if (nameOff !== 0 && nameOff >= names.length) this.#fail(`section ${s.index} name offset ${nameOff} is past the section name table`);
      const end = names.length === 0 ? 0 : cstringEnd(names, nameOff);
      return { ...s, name: Buffer.from(names.buffer, names.byteOffset + nameOff, end - nameOff).toString('latin1') };
    });
  }

  /** A 64-bit field as a number; past 2^53 it cannot be an offset or size in a real file. */
  #u64(v: DataView, at: number, what: string): number {
    const value = v.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.#fail(`${what} 0x${value.toString(16)} is out of range`);
    return Number(value);
  }

  #fail(message: string): never {
    throw new ElfError(this.name, message);
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Index of the NUL ending the string at `start` (or the table's end when it has none). */
function cstringEnd(table: Uint8Array, start: number): number {
  const end = table.indexOf(0, start);
  return end === -1 ? table.length : end;
}

function equalBytes(table: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (table[start + i] !== want[i]) return false;
  return true;
}
