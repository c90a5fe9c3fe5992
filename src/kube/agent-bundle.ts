/**
 * The agent bundle (dist/agent, built by scripts/build-agent.ts) as a tar.gz in memory, uploaded
 * over exec and unpacked with `tar` in the capture container once its sha256 checks out. Written
 * in-process (ustar) so no `tar` is needed on the user's machine, and byte for byte the same for
 * the same files (sorted entries, the files' own times, zlib's fixed gzip header), so its hash
 * names the bundle.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { SharkError } from '../model/errors.ts';

/** dist/agent of this installation: src/kube/ (from source) or dist/src/kube/ (built) up to the package root. */
export function findAgentDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'dist', 'agent', 'agent.js');
    if (existsSync(candidate)) return dirname(candidate);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new SharkError('IO_ERROR', `the agent bundle dist/agent/agent.js is missing near ${from}: run npm run build`);
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, type: '0' | '5', mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new SharkError('IO_ERROR', `agent bundle path too long for tar: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(mtime, 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii');
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

/** A file put into the archive next to the folder's files (a user's file the agent reads, e.g. `--proto-descriptor`). */
export interface ExtraFile {
  /** A plain name at the archive's top level. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/**
 * A gzipped ustar archive of the folder's files and folders (symlinks are refused: the bundle is
 * self-contained), and `extra` files at its top level.
 */
export function tarGzFolder(root: string, extra: readonly ExtraFile[] = []): Buffer {
  const parts: Buffer[] = [];
  const walk = (rel: string): void => {
    const abs = rel === '' ? root : join(root, rel);
    for (const name of readdirSync(abs).sort()) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(root, childRel));
      const mtime = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) {
        parts.push(header(`${childRel}/`, 0, 0o755, '5', mtime));
        walk(childRel);
      } else if (st.isFile()) {
        const data = readFileSync(join(root, childRel));
        parts.push(header(childRel, data.length, st.mode & 0o111 ? 0o755 : 0o644, '0', mtime), data);
        const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
        if (pad > 0) parts.push(Buffer.alloc(pad));
      } else {
        throw new SharkError('IO_ERROR', `the agent bundle holds ${childRel}, which is not a plain file`);
      }
    }
  };
  walk('');
  for (const file of extra) {
    if (!/^[A-Za-z0-9._-]+$/.test(file.name) || existsSync(join(root, file.name))) throw new SharkError('IO_ERROR', `cannot add ${file.name} to the agent bundle`);
    // Time 0: the archive stays byte for byte the same for the same files.
    parts.push(header(file.name, file.bytes.length, 0o644, '0', 0), Buffer.from(file.bytes));
    const pad = (BLOCK - (file.bytes.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 6 });
}

let cached: { readonly extra: readonly ExtraFile[]; readonly archive: Buffer } | undefined;

/** The bundle archive with `extra` files, built once per run (the files are the same for the whole run). */
export function agentArchive(extra: readonly ExtraFile[] = []): Buffer {
  if (cached === undefined || !sameFiles(cached.extra, extra)) cached = { extra, archive: tarGzFolder(findAgentDir(), extra) };
  return cached.archive;
}

function sameFiles(a: readonly ExtraFile[], b: readonly ExtraFile[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]!.name && f.bytes === b[i]!.bytes);
}
