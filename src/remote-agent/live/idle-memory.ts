/**
 * Giving memory back while the agent idles (issue 17, goal 3: what it costs the tapped pod).
 *
 * Most of an idle agent's RSS is not its data. Measured on an idle agent (/proc/<pid>/smaps, Node
 * 24): 70.3 MB, of which 39.7 MB are pages of the node executable itself (a bare `node` touches 31
 * of them), 14.7 MB the V8 heap, 7 MB the C heap (malloc) and 4 MiB the packet ring. Start-up
 * touched most of the executable's pages (parsing and compiling the bundle, loading koffi) and freed
 * most of the C heap it used, yet both stay resident until the kernel needs the memory. So, once
 * the capture has been idle a while:
 *
 * - every read-only file mapping (the code and constant data of node, libc, libstdc++, koffi) gets
 *   MADV_PAGEOUT (Linux 5.4): the kernel drops those pages now, and reads back from the file the
 *   ones used again (a page fault each; nothing is lost: they are the file's bytes, never written).
 *   Pages another process maps too are left alone by the kernel (so a node the app runs is not
 *   slowed down); in the pod the agent's image holds its own node. Writable mappings, the heaps and
 *   the ring are never named: they hold data.
 * - glibc's malloc_trim(0) returns the free pages of the C heap.
 *
 * Measured on the same idle agent: 71.6 -> 37.0 MB (executable 39.7 -> 10.8 MB, C heap 8.1 ->
 * 2.4 MB), still ~37 MB 10 s later. Both calls are hints: where the kernel or the C library
 * refuses them (older kernels answer EINVAL; musl has no malloc_trim) nothing changes.
 */
import { readFileSync } from 'node:fs';
import { loadLibc, type Libc } from './libc.ts';

/** <linux/mman.h>: reclaim the range now (file pages are dropped, to be read again when used). */
export const MADV_PAGEOUT = 21;

export interface FileMapping {
  readonly start: bigint;
  readonly length: number;
  readonly path: string;
}

export interface IdleMemoryRelease {
  /** Read-only file mappings the kernel was asked to page out, and their size in bytes. */
  readonly mappings: number;
  readonly bytes: number;
  /** madvise calls the kernel refused (EINVAL before Linux 5.4, EPERM), counted and otherwise ignored. */
  readonly refused: number;
  /** malloc_trim's answer: true when C-heap pages were returned; null without glibc. */
  readonly cHeapTrimmed: boolean | null;
}

/**
 * The read-only file-backed mappings of a /proc/<pid>/maps text: `r--p` and `r-xp` mappings whose
 * name is an absolute path (not `[heap]`, `[vdso]`, a socket such as the packet ring, or an
 * anonymous mapping). Lines that do not parse are skipped.
 */
export function readOnlyFileMappings(maps: string): FileMapping[] {
  const out: FileMapping[] = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (r-[-x]p) [0-9a-f]+ \S+ \d+\s+(\/.*)$/.exec(line);
    if (m === null) continue;
    const start = BigInt(`0x${m[1]!}`);
    const end = BigInt(`0x${m[2]!}`);
    if (end <= start) continue;
    out.push({ start, length: Number(end - start), path: m[4]! });
  }
  return out;
}

/** Pages out this process's read-only file mappings and trims the C heap (see above). */
export function releaseIdleMemory(libc: Libc = loadLibc(), maps: string = readFileSync('/proc/self/maps', 'utf8')): IdleMemoryRelease {
  let mappings = 0;
  let bytes = 0;
  let refused = 0;
  for (const mapping of readOnlyFileMappings(maps)) {
    if (libc.madvise(mapping.start, mapping.length, MADV_PAGEOUT) === 0) {
      mappings++;
      bytes += mapping.length;
    } else refused++;
  }
  return { mappings, bytes, refused, cHeapTrimmed: libc.mallocTrim() };
}
