/**
 * Reading /proc for the target finder: bounded reads (a process with thousands of mappings has a
 * maps file of megabytes; captured processes are not ours to trust) and the parsed maps lines.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Reads at most `maxBytes` of a file whose size stat cannot tell (/proc files say 0). */
export function readBounded(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < maxBytes) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** One line of /proc/PID/maps that maps a file. */
export interface FileMapping {
  /** "7f741b42e000-7f741b48b000": also the name of the mapping in /proc/PID/map_files. */
  readonly range: string;
  readonly executable: boolean;
  readonly inode: number;
  /** The path in the process's mount namespace, without the " (deleted)" mark. */
  readonly path: string;
  /** The kernel marks a mapped file removed (or replaced by rename) since with " (deleted)". */
  readonly deleted: boolean;
}

const DELETED = ' (deleted)';

/**
 * The file mappings of a maps text (anonymous, [heap], [stack] and partial last lines left out).
 * Line format (proc(5)): `start-end perms offset dev inode   path`.
 */
export function parseMaps(text: string): FileMapping[] {
  const out: FileMapping[] = [];
  const lines = text.split('\n');
  // A bounded read can end inside a line: only complete lines count.
  if (!text.endsWith('\n')) lines.pop();
  for (const line of lines) {
    const m = /^([0-9a-f]+-[0-9a-f]+) (\S{4}) [0-9a-f]+ \S+ (\d+) +(\/.*)$/.exec(line);
    if (m === null) continue;
    const [, range = '', perms = '', inode = '0', rawPath = ''] = m;
    if (inode === '0') continue;
    const deleted = rawPath.endsWith(DELETED);
    out.push({ range, executable: perms[2] === 'x', inode: Number(inode), path: deleted ? rawPath.slice(0, -DELETED.length) : rawPath, deleted });
  }
  return out;
}

/** The last path component. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
