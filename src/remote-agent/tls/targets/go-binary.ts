/**
 * Go programs: crypto/tls is compiled into the executable, so the probes go on the binary itself
 * at `crypto/tls.(*Conn).Write` and `(*Conn).Read`: at the entry, and at every RET for the
 * returns (never a uretprobe: it rewrites the return address on the stack, and Go copies stacks
 * when they grow, which crashes the program). The BPF programs read arguments and results from
 * registers, so only the register ABI (Go 1.17 and later on amd64) is supported.
 */
import { EM_X86_64, type Elf } from '../elf.ts';
import { loadX86Decoder, returnOffsets } from './x86-returns.ts';

export const GO_WRITE = 'crypto/tls.(*Conn).Write';
export const GO_READ = 'crypto/tls.(*Conn).Read';

/** A hooked function: file offsets of its entry and of each RET. */
export interface GoFunction {
  readonly symbol: typeof GO_WRITE | typeof GO_READ;
  readonly entryOffset: number;
  readonly returnOffsets: readonly number[];
}

export type GoInspection =
  | { readonly kind: 'not-go' }
  | { readonly kind: 'go'; readonly version: string; readonly hookable: false; readonly reason: string }
  | { readonly kind: 'go'; readonly version: string; readonly hookable: true; readonly functions: readonly GoFunction[] };

/** Larger than any real crypto/tls method: a hostile symbol size must not make us read megabytes. */
const MAX_FUNCTION_BYTES = 256 * 1024;
/** Go versions are short ("go1.19.8", "devel go1.22-abcdef Tue ..."); longer is not a version. */
const MAX_VERSION_BYTES = 128;
const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_BYTES = 32;

export const STRIPPED_REASON = 'stripped (built with -ldflags=-s -w?): no symbol table, crypto/tls cannot be found';

/** Whether `elf` is a Go executable, and if so what can be hooked in it. May throw ElfError. */
export async function inspectGoBinary(elf: Elf): Promise<GoInspection> {
  if (elf.section('.go.buildinfo') === undefined && elf.section('.note.go.buildid') === undefined) return { kind: 'not-go' };
  const version = goVersion(elf);
  if (version === null) return { kind: 'go', version: 'Go', hookable: false, reason: 'Go version unknown (no readable .go.buildinfo): not hooked' };
  const release = /go(\d+)\.(\d+)/.exec(version);
  const [major, minor] = release === null ? [0, 0] : [Number(release[1]), Number(release[2])];
  if (major < 1 || (major === 1 && minor < 17)) {
    return { kind: 'go', version, hookable: false, reason: `${version} passes arguments on the stack (Go < 1.17): not hooked` };
  }
  if (elf.machine !== EM_X86_64) return { kind: 'go', version, hookable: false, reason: `${version} binary is not x86-64 (machine ${elf.machine}): not hooked` };
  if (!elf.hasSymbolTable('.symtab')) return { kind: 'go', version, hookable: false, reason: `${version}: ${STRIPPED_REASON}` };
  const symbols = elf.findSymbols('.symtab', [GO_WRITE, GO_READ]);
  const write = symbols.get(GO_WRITE);
  const read = symbols.get(GO_READ);
  if (write === undefined || read === undefined) return { kind: 'go', version, hookable: false, reason: `${version}: does not use crypto/tls` };
  const iced = await loadX86Decoder();
  const functions: GoFunction[] = [];
  for (const [symbol, sym] of [
    [GO_WRITE, write],
    [GO_READ, read],
  ] as const) {
    const entryOffset = elf.fileOffsetOf(sym.value);
    if (entryOffset === null || sym.size === 0 || sym.size > MAX_FUNCTION_BYTES) {
      return { kind: 'go', version, hookable: false, reason: `${version}: ${symbol} has no code in the file (address 0x${sym.value.toString(16)}, ${sym.size} bytes): not hooked` };
    }
    const code = elf.readAt(entryOffset, sym.size, symbol);
    const rets = returnOffsets(iced, code, sym.value).map((at) => entryOffset + at);
    if (rets.length === 0) return { kind: 'go', version, hookable: false, reason: `${version}: no RET found in ${symbol}: not hooked` };
    functions.push({ symbol, entryOffset, returnOffsets: rets });
  }
  return { kind: 'go', version, hookable: true, functions };
}

/**
 * The Go version recorded by the linker in .go.buildinfo: a 32-byte header (magic, pointer size,
 * flags), then since Go 1.18 (flag 2) the version as a varint-length string; before, a pointer to
 * the Go string `runtime.buildVersion`, read through the load segments.
 */
export function goVersion(elf: Elf): string | null {
  const section = elf.section('.go.buildinfo');
  if (section === undefined || section.size < HEADER_BYTES) return null;
  const data = elf.readAt(section.offset, Math.min(section.size, HEADER_BYTES + 10 + MAX_VERSION_BYTES), '.go.buildinfo');
  if (!Buffer.from(data.buffer, data.byteOffset, BUILDINFO_MAGIC.length).equals(BUILDINFO_MAGIC)) return null;
  const ptrSize = data[14];
  const flags = data[15] ?? 0;
  if ((flags & 2) !== 0) {
    const { value: length, next } = uvarint(data, HEADER_BYTES);
    if (length === null || length === 0 || length > MAX_VERSION_BYTES || next + length > data.length) return null;
    return printable(data.subarray(next, next + length));
  }
  // Older layout: little-endian 64-bit pointers only (flag 1 is big-endian).
  if (ptrSize !== 8 || (flags & 1) !== 0) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerAt = elf.fileOffsetOf(Number(view.getBigUint64(16, true)));
  if (headerAt === null) return null;
  const headerBytes = elf.readAt(headerAt, 16, 'runtime.buildVersion');
  const hv = new DataView(headerBytes.buffer, headerBytes.byteOffset, 16);
  const pointer = hv.getBigUint64(0, true);
  const length = hv.getBigUint64(8, true);
  if (pointer > BigInt(Number.MAX_SAFE_INTEGER) || length === 0n || length > BigInt(MAX_VERSION_BYTES)) return null;
  const textAt = elf.fileOffsetOf(Number(pointer));
  if (textAt === null) return null;
  return printable(elf.readAt(textAt, Number(length), 'runtime.buildVersion text'));
}

function uvarint(data: Uint8Array, at: number): { value: number | null; next: number } {
  let value = 0;
  for (let i = 0; i < 5 && at + i < data.length; i++) {
    const b = data[at + i] ?? 0;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return { value: null, next: at };
}

/** The version as text, or null when it holds anything but printable ASCII (not a version). */
function printable(bytes: Uint8Array): string | null {
  for (const b of bytes) if (b < 0x20 || b > 0x7e) return null;
  return Buffer.from(bytes).toString('latin1');
}
