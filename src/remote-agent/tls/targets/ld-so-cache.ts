/**
 * glibc's /etc/ld.so.cache (written by ldconfig): which shared object file the dynamic linker loads
 * for a soname. Read from a container's filesystem, so hostile: every offset is checked against the
 * bytes, the entry count against the file size, and strings end at a NUL within the file.
 *
 * Layout (glibc 2.32+ writes the new format alone; older ones put it after the old "ld.so-1.7.0"
 * table): magic "glibc-ld.so.cache" + version "1.1" (20 bytes), nlibs u32, len_strings u32,
 * flags u8 + 3 padding, extension_offset u32, 3 unused u32 (48 bytes), then nlibs entries of 24
 * bytes: flags i32, key u32, value u32, osversion u32, hwcap u64. key (soname) and value (path) are
 * offsets from the start of the new-format header. Little-endian on x86-64 (ldconfig writes host order).
 */

const NEW_MAGIC = Buffer.from('glibc-ld.so.cache1.1', 'latin1');
const OLD_MAGIC = Buffer.from('ld.so-1.7.0', 'latin1');
const NEW_HEADER_BYTES = 48;
const NEW_ENTRY_BYTES = 24;
/** Old header: magic (11 bytes, padded to 12) + nlibs u32; old entries: flags, key, value (i32 each). */
const OLD_HEADER_BYTES = 16;
const OLD_ENTRY_BYTES = 12;
/** FLAG_ELF_LIBC6 | FLAG_X8664_LIB64: a 64-bit x86 library (i386 and x32 ones are not ours to hook). */
const X86_64_LIBC6 = 0x0303;
/** Longest soname or path read (PATH_MAX). */
const MAX_STRING_BYTES = 4096;

export interface LdCacheEntry {
  readonly soname: string;
  readonly path: string;
}

/** The x86-64 entries whose soname `wanted` accepts; [] for anything that is not a readable cache. */
export function ldCacheEntries(bytes: Uint8Array, wanted: (soname: string) => boolean): LdCacheEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = newFormatStart(buf);
  if (start === null || buf.length < start + NEW_HEADER_BYTES) return [];
  const nlibs = buf.readUInt32LE(start + 20);
  // The count is the file's word: no more entries than the bytes hold.
  if (nlibs > (buf.length - start - NEW_HEADER_BYTES) / NEW_ENTRY_BYTES) return [];
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const at = start + NEW_HEADER_BYTES + i * NEW_ENTRY_BYTES;
    if (buf.readInt32LE(at) !== X86_64_LIBC6) continue;
    const soname = stringAt(buf, start + buf.readUInt32LE(at + 4));
    if (soname === null || !wanted(soname)) continue;
    const path = stringAt(buf, start + buf.readUInt32LE(at + 8));
    if (path === null || !path.startsWith('/')) continue;
    out.push({ soname, path });
  }
  return out;
}

/** Where the new-format header starts: 0, after an old-format table, or null (not a cache). */
function newFormatStart(buf: Buffer): number | null {
  if (hasAt(buf, 0, NEW_MAGIC)) return 0;
  if (!hasAt(buf, 0, OLD_MAGIC) || buf.length < OLD_HEADER_BYTES) return null;
  const oldEntries = buf.readUInt32LE(12);
  if (oldEntries > buf.length / OLD_ENTRY_BYTES) return null;
  // The new header follows, aligned to its own alignment (8: it holds a u64).
  const start = Math.ceil((OLD_HEADER_BYTES + oldEntries * OLD_ENTRY_BYTES) / 8) * 8;
  return hasAt(buf, start, NEW_MAGIC) ? start : null;
}

function hasAt(buf: Buffer, at: number, magic: Buffer): boolean {
  return at + magic.length <= buf.length && buf.subarray(at, at + magic.length).equals(magic);
}

/** A NUL-terminated string within the file, or null (out of bounds, unterminated, too long). */
function stringAt(buf: Buffer, at: number): string | null {
  if (at >= buf.length) return null;
  const end = buf.indexOf(0, at);
  if (end === -1 || end - at > MAX_STRING_BYTES) return null;
  return buf.toString('latin1', at, end);
}
