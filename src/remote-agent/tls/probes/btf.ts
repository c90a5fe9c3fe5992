/**
 * A reader of the kernel's BTF (/sys/kernel/btf/vmlinux): the type information the running kernel
 * describes itself with. The BPF programs are built without CO-RE, so the offsets of the kernel
 * struct members they read (task_struct.nsproxy, sock_common.skc_daddr, ...) come from here at load
 * time and go into the `config` map (layout.ts `encodeConfig`).
 *
 * Format (include/uapi/linux/btf.h): a header {magic 0xeB9F, version 1, flags, hdr_len, type_off,
 * type_len, str_off, str_len}, a type section of variable-length records numbered from 1, and a
 * string section. Only what is needed is decoded: struct/union members (walking anonymous members,
 * as skc_daddr sits in an anonymous struct in an anonymous union), the modifiers and typedefs in
 * front of a member's type, and FUNC names. The bytes are checked as they are read: a truncated or
 * inconsistent file gives a BtfError, never an out-of-range read or an endless walk.
 */
import { readFileSync } from 'node:fs';
import type { KernelOffsets } from './layout.ts';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;

const KIND_INT = 1;
const KIND_PTR = 2;
const KIND_ARRAY = 3;
const KIND_STRUCT = 4;
const KIND_UNION = 5;
const KIND_ENUM = 6;
const KIND_FWD = 7;
const KIND_TYPEDEF = 8;
const KIND_VOLATILE = 9;
const KIND_CONST = 10;
const KIND_RESTRICT = 11;
const KIND_FUNC = 12;
const KIND_FUNC_PROTO = 13;
const KIND_VAR = 14;
const KIND_DATASEC = 15;
const KIND_FLOAT = 16;
const KIND_DECL_TAG = 17;
const KIND_TYPE_TAG = 18;
const KIND_ENUM64 = 19;

/** Bytes after the 12-byte `struct btf_type` for each kind, as [fixed, per vlen entry]. */
const TRAILER: Readonly<Record<number, readonly [number, number]>> = {
  [KIND_INT]: [4, 0],
  [KIND_PTR]: [0, 0],
  [KIND_ARRAY]: [12, 0],
  [KIND_STRUCT]: [0, 12],
  [KIND_UNION]: [0, 12],
  [KIND_ENUM]: [0, 8],
  [KIND_FWD]: [0, 0],
  [KIND_TYPEDEF]: [0, 0],
  [KIND_VOLATILE]: [0, 0],
  [KIND_CONST]: [0, 0],
  [KIND_RESTRICT]: [0, 0],
  [KIND_FUNC]: [0, 0],
  [KIND_FUNC_PROTO]: [0, 8],
  [KIND_VAR]: [4, 0],
  [KIND_DATASEC]: [0, 12],
  [KIND_FLOAT]: [0, 0],
  [KIND_DECL_TAG]: [4, 0],
  [KIND_TYPE_TAG]: [0, 0],
  [KIND_ENUM64]: [0, 12],
};

/** Deepest nesting of anonymous members and modifier chains followed (real kernels use a handful). */
const MAX_DEPTH = 32;

/** The BTF cannot be read (bad magic, truncated, inconsistent) or lacks what is asked for. */
export class BtfError extends Error {
  readonly code: 'BTF_INVALID' | 'BTF_MISSING';

  constructor(code: 'BTF_INVALID' | 'BTF_MISSING', message: string) {
    super(message);
    this.name = 'BtfError';
    this.code = code;
  }
}

/** Where a struct member lies, in bits from the start of the outermost struct. */
export interface BtfMember {
  readonly bitOffset: number;
  /** 0 for an ordinary member; the width of a bitfield. */
  readonly bitSize: number;
  /** The member's type id (modifiers and typedefs not stripped). */
  readonly typeId: number;
}

export class Btf {
  readonly #name: string;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #typeStart: number;
  readonly #strStart: number;
  readonly #strLen: number;
  /** Byte offset in #bytes of each type record; index = type id (0 = void, unused). */
  readonly #offsets: Uint32Array;
  #byName: Map<string, number[]> | undefined;

  /** Parses `bytes` (a BTF blob); `name` says where it came from, in errors. */
  constructor(bytes: Uint8Array, name: string) {
    this.#name = name;
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < HEADER_MIN) this.#invalid(`${bytes.length} bytes is shorter than a BTF header`);
    const magic = this.#view.getUint16(0, true);
    if (magic !== BTF_MAGIC) this.#invalid(`bad magic 0x${magic.toString(16)} (want 0xeb9f little-endian): not BTF, or another byte order`);
    const version = bytes[2];
    if (version !== 1) this.#invalid(`BTF version ${version} is not 1`);
    const hdrLen = this.#view.getUint32(4, true);
    if (hdrLen < HEADER_MIN || hdrLen > bytes.length) this.#invalid(`header length ${hdrLen} is out of range`);
    const typeOff = this.#view.getUint32(8, true);
    const typeLen = this.#view.getUint32(12, true);
    const strOff = this.#view.getUint32(16, true);
    const strLen = this.#view.getUint32(20, true);
    const body = bytes.length - hdrLen;
    if (typeOff + typeLen > body) this.#invalid(`type section (${typeOff}+${typeLen}) runs past the end (${body} bytes after the header)`);
    if (strOff + strLen > body) this.#invalid(`string section (${strOff}+${strLen}) runs past the end (${body} bytes after the header)`);
    this.#typeStart = hdrLen + typeOff;
    this.#strStart = hdrLen + strOff;
    this.#strLen = strLen;
    this.#offsets = this.#indexTypes(this.#typeStart, typeLen);
  }

  /** Reads and parses a BTF file (by default the running kernel's). */
  static open(path: string = VMLINUX_BTF): Btf {
    return new Btf(readFileSync(path), path);
  }

  /** Number of types (ids 1..count). */
  get count(): number {
    return this.#offsets.length - 1;
  }

  #invalid(message: string): never {
    throw new BtfError('BTF_INVALID', `${this.#name}: ${message}`);
  }

  #indexTypes(start: number, len: number): Uint32Array {
    // A type record is at least 12 bytes: this bounds the index without a first pass.
    const offsets = new Uint32Array(Math.floor(len / 12) + 1);
    let at = start;
    const end = start + len;
    let id = 1;
    while (at < end) {
      if (at + 12 > end) this.#invalid(`type ${id} at byte ${at} is cut short`);
      const info = this.#view.getUint32(at + 4, true);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const trailer = TRAILER[kind];
      if (trailer === undefined) this.#invalid(`type ${id} has unknown kind ${kind}`);
      const size = 12 + trailer[0] + trailer[1] * vlen;
      if (at + size > end) this.#invalid(`type ${id} (kind ${kind}, ${vlen} entries) runs past the type section`);
      offsets[id++] = at;
      at += size;
    }
    return offsets.subarray(0, id);
  }

  #at(id: number): number {
    if (!Number.isInteger(id) || id < 1 || id >= this.#offsets.length) this.#invalid(`type id ${id} is out of range (1..${this.#offsets.length - 1})`);
    return this.#offsets[id];
  }

  kind(id: number): number {
    return (this.#view.getUint32(this.#at(id) + 4, true) >>> 24) & 0x1f;
  }

  /** The type's name ('' for anonymous types). */
  name(id: number): string {
    return this.#string(this.#view.getUint32(this.#at(id), true));
  }

  #string(off: number): string {
    if (off >= this.#strLen) this.#invalid(`string offset ${off} is past the string section (${this.#strLen} bytes)`);
    const start = this.#strStart + off;
    const limit = this.#strStart + this.#strLen;
    let end = start;
    while (end < limit && this.#bytes[end] !== 0) end++;
    if (end === limit) this.#invalid(`string at offset ${off} is not terminated`);
    return new TextDecoder().decode(this.#bytes.subarray(start, end));
  }

  /** Ids of the named types (any kind), built on first use. */
  #named(name: string): readonly number[] {
    if (this.#byName === undefined) {
      const byName = new Map<string, number[]>();
      for (let id = 1; id < this.#offsets.length; id++) {
        const nameOff = this.#view.getUint32(this.#offsets[id], true);
        if (nameOff === 0) continue;
        const n = this.name(id);
        const list = byName.get(n);
        if (list) list.push(id);
        else byName.set(n, [id]);
      }
      this.#byName = byName;
    }
    return this.#byName.get(name) ?? [];
  }

  /** The id of the struct (or union) named `name`, with its members (not a forward declaration). */
  structId(name: string): number {
    const id = this.#named(name).find((i) => {
      const k = this.kind(i);
      return k === KIND_STRUCT || k === KIND_UNION;
    });
    if (id === undefined) throw new BtfError('BTF_MISSING', `${this.#name} has no struct ${name}`);
    return id;
  }

  /** The BTF id of the function `name` (BTF_KIND_FUNC): what an fentry program's attach_btf_id names. */
  funcBtfId(name: string): number {
    const id = this.#named(name).find((i) => this.kind(i) === KIND_FUNC);
    if (id === undefined) throw new BtfError('BTF_MISSING', `${this.#name} has no function ${name}`);
    return id;
  }

  /** Follows typedefs and modifiers (const, volatile, restrict, type tags) to the type they name. */
  resolve(id: number): number {
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const k = this.kind(id);
      if (k !== KIND_TYPEDEF && k !== KIND_VOLATILE && k !== KIND_CONST && k !== KIND_RESTRICT && k !== KIND_TYPE_TAG) return id;
      id = this.#view.getUint32(this.#at(id) + 8, true);
    }
    this.#invalid(`type ${id}: more than ${MAX_DEPTH} typedefs/modifiers in a row (a loop?)`);
  }

  /**
   * The member at `path` of struct `struct` ("skc_daddr", "ns.inum", "__sk_common.skc_dport"): each
   * dotted step names a member of the previous one's struct type, found directly or inside
   * anonymous struct/union members at any depth.
   */
  member(struct: string, path: string): BtfMember {
    let typeId = this.structId(struct);
    let bitOffset = 0;
    let found: BtfMember | null = null;
    let where = `struct ${struct}`;
    for (const step of path.split('.')) {
      if (found !== null) {
        typeId = this.resolve(found.typeId);
        const k = this.kind(typeId);
        if (k !== KIND_STRUCT && k !== KIND_UNION) throw new BtfError('BTF_MISSING', `${this.#name}: ${where} is not a struct or union, so it has no member ${step}`);
      }
      found = this.#findMember(typeId, step, bitOffset, 0);
      if (found === null) throw new BtfError('BTF_MISSING', `${this.#name}: ${where} has no member ${step}`);
      bitOffset = found.bitOffset;
      where = `${where}.${step}`;
    }
    if (found === null) throw new BtfError('BTF_MISSING', `${this.#name}: empty member path for struct ${struct}`);
    return found;
  }

  /** Byte offset of the member at `path` of struct `struct`; a bitfield has none and is refused. */
  memberOffset(struct: string, path: string): number {
    const m = this.member(struct, path);
    if (m.bitSize !== 0 || m.bitOffset % 8 !== 0) {
      throw new BtfError('BTF_MISSING', `${this.#name}: struct ${struct} member ${path} is a bitfield (bit ${m.bitOffset}, ${m.bitSize} bits), not byte-addressable`);
    }
    return m.bitOffset / 8;
  }

  #findMember(typeId: number, name: string, base: number, depth: number): BtfMember | null {
    if (depth > MAX_DEPTH) this.#invalid(`type ${typeId}: anonymous members nested more than ${MAX_DEPTH} deep (a loop?)`);
    const at = this.#at(typeId);
    const info = this.#view.getUint32(at + 4, true);
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const anonymous: BtfMember[] = [];
    for (let i = 0; i < vlen; i++) {
      const m = at + 12 + i * 12;
      const nameOff = this.#view.getUint32(m, true);
      const memberType = this.#view.getUint32(m + 4, true);
      const raw = this.#view.getUint32(m + 8, true);
      // With kind_flag the offset word is bitfield_size << 24 | bit_offset; else the bit offset.
      const bitOffset = base + (kindFlag ? raw & 0xffffff : raw);
      const bitSize = kindFlag ? raw >>> 24 : 0;
      if (nameOff === 0) {
        anonymous.push({ bitOffset, bitSize, typeId: memberType });
        continue;
      }
      if (this.#string(nameOff) === name) return { bitOffset, bitSize, typeId: memberType };
    }
    for (const a of anonymous) {
      const t = this.resolve(a.typeId);
      const k = this.kind(t);
      if (k !== KIND_STRUCT && k !== KIND_UNION) continue;
      const inner = this.#findMember(t, name, a.bitOffset, depth + 1);
      if (inner !== null) return inner;
    }
    return null;
  }
}

let vmlinux: Btf | undefined;

/** The running kernel's BTF, parsed once. */
export function kernelBtf(): Btf {
  vmlinux ??= Btf.open(VMLINUX_BTF);
  return vmlinux;
}

/** The vmlinux BTF id of the kernel function `name` (for an fentry program's attach_btf_id). */
export function funcBtfId(name: string): number {
  return kernelBtf().funcBtfId(name);
}

/** The kernel struct offsets the BPF programs read (bpf/tls.h struct tls_config), from `btf`. */
export function kernelOffsets(btf: Btf = kernelBtf()): KernelOffsets {
  const sk = (field: string): number => btf.memberOffset('sock', `__sk_common.${field}`);
  return {
    taskNsproxy: btf.memberOffset('task_struct', 'nsproxy'),
    nsproxyNetNs: btf.memberOffset('nsproxy', 'net_ns'),
    netNsInum: btf.memberOffset('net', 'ns.inum'),
    skcFamily: sk('skc_family'),
    skcDaddr: sk('skc_daddr'),
    skcRcvSaddr: sk('skc_rcv_saddr'),
    skcDport: sk('skc_dport'),
    inetSport: btf.memberOffset('inet_sock', 'inet_sport'),
    skcV6Daddr: sk('skc_v6_daddr'),
    skcV6RcvSaddr: sk('skc_v6_rcv_saddr'),
    skProtocol: btf.memberOffset('sock', 'sk_protocol'),
    skcNet: sk('skc_net'),
    taskFiles: btf.memberOffset('task_struct', 'files'),
    filesFdt: btf.memberOffset('files_struct', 'fdt'),
    fdtMaxFds: btf.memberOffset('fdtable', 'max_fds'),
    fdtFd: btf.memberOffset('fdtable', 'fd'),
    filePrivateData: btf.memberOffset('file', 'private_data'),
    socketFile: btf.memberOffset('socket', 'file'),
    socketSk: btf.memberOffset('socket', 'sk'),
  };
}
