/**
 * A capture file named by path, read as a stream of chunks. The file is opened once and what was
 * opened is checked: a directory is a usage error that says what to name instead (not an EISDIR
 * from deep inside a read); anything else that reads as a stream is read as one (a FIFO, /dev/null,
 * /dev/stdin). File-system errors become SharkErrors naming the path and what to check.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SharkError } from '../../model/errors.ts';

export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

export async function* readCaptureFile(path: string, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fileError(err, path);
  }
  try {
    if ((await handle.stat()).isDirectory()) {
      throw new SharkError('USAGE', `${path} is a directory, not a capture file: name the capture files in it (e.g. ${path.replace(/\/+$/, '')}/*.pcap)`, { input: path });
    }
    for (;;) {
      // A fresh buffer per chunk: parsers may keep views of what they were given.
      const buffer = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } catch (err) {
    throw err instanceof SharkError ? err : fileError(err, path);
  } finally {
    await handle.close();
  }
}

const HINTS: Readonly<Record<string, string>> = {
  ENOENT: 'check the path',
  ENOTDIR: 'check the path',
  ELOOP: 'check the symbolic links on the path',
  EACCES: 'check its permissions',
  EPERM: 'check its permissions',
};

/** An fs error as a SharkError: "cannot read PATH: CODE (what to check)". */
export function fileError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string') return err;
  const hint = HINTS[code] ?? (err instanceof Error ? err.message : 'check the file');
  return new SharkError('IO_ERROR', `cannot read ${path}: ${code} (${hint})`, { input: path, errno: code }, err);
}
