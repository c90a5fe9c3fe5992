/**
 * A capture file named by path, read as a stream of chunks. The file is opened once and what was
 * opened is checked: a directory is a usage error that says what to name instead (not an EISDIR
 * from deep inside a read); anything else that reads as a stream is read as one (a FIFO, /dev/null,
 * /dev/stdin). File-system errors become SharkErrors naming the path and what to check.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { SharkError } from '../../model/errors.ts';

/**
 * Bytes per read. `read` releases finished entries to the output between chunks, so a chunk's
 * entries live at least as long as it takes to dissect it: at 1 MiB (about 0.4 s of a busy
 * capture, 30 ms of CPU) they outlived V8's young-generation collections and were copied and
 * promoted. 256 KiB: `read -o json` 5-15% less CPU and a third less peak RSS on 67 MB captures
 * (issue 17). Saved NDJSON, whose chunks are handed back, goes on in RECYCLED_CHUNK_BYTES.
 */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

export function readCaptureFile(path: string, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  return readChunks(path, () => Buffer.allocUnsafe(chunkBytes));
}

/**
 * Bytes per read once the consumer hands chunks back, which only a reader that copies what it
 * keeps does (NDJSON). One buffer read into again and again costs no fresh memory whatever its
 * size, and bigger reads split fewer lines across chunks.
 */
export const RECYCLED_CHUNK_BYTES = 1024 * 1024;

/** A file's chunks, with a way to hand a chunk back once nothing keeps a view of its bytes. */
export interface RecyclableChunks {
  readonly chunks: AsyncGenerator<Uint8Array>;
  /**
   * The consumer keeps nothing of this chunk (it copied what it needs): its buffer is read into
   * again for the next chunk. A chunk never handed back is never overwritten.
   */
  recycle(chunk: Uint8Array): void;
}

/**
 * readCaptureFile whose buffers can be reused. Reading and splitting 200 MB of NDJSON into lines
 * took 150-170 ms of CPU with a fresh 1 MiB buffer per chunk and 85-105 ms with one reused buffer
 * (fresh memory is page-faulted in by the kernel on every read); `read F.ndjson --filter Q` on it
 * 0.71-0.84 -> 0.68-0.77 CPU-s (one core, shared machine, interleaved runs).
 */
export function recyclableCaptureFile(path: string, chunkBytes = DEFAULT_CHUNK_BYTES, recycledChunkBytes = RECYCLED_CHUNK_BYTES): RecyclableChunks {
  let lent: Buffer | undefined;
  let spare: Buffer | undefined;
  let recycling = false;
  const chunks = readChunks(path, () => {
    // Never from Buffer's shared pool (small sizes): a buffer is known by its own memory.
    lent = spare ?? Buffer.allocUnsafeSlow(recycling ? recycledChunkBytes : chunkBytes);
    spare = undefined;
    return lent;
  });
  return {
    chunks,
    recycle: (chunk) => {
      // Only the chunk last handed out, whose buffer no one else was given.
      if (lent === undefined || chunk.buffer !== lent.buffer || chunk.byteOffset !== lent.byteOffset) return;
      recycling = true;
      // A first, smaller buffer is let go: the next read takes one of the recycled size.
      spare = lent.length >= recycledChunkBytes ? lent : undefined;
    },
  };
}

async function* readChunks(path: string, buffer: () => Buffer): AsyncGenerator<Uint8Array> {
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
      // A fresh buffer per chunk unless the last one was handed back: parsers may keep views of
      // what they were given.
      const into = buffer();
      const { bytesRead } = await handle.read(into, 0, into.length, null);
      if (bytesRead === 0) return;
      yield into.subarray(0, bytesRead);
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
