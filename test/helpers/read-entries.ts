/** Runs capture files through the same pipeline as `kubectl shark read`, collecting the entries. */
import { createReadStream } from 'node:fs';
import type { Entry } from '../../src/model/entry.ts';
import { readCaptures, type ReadOptions, type ReadResult } from '../../src/pipeline/read-capture.ts';

export async function readEntries(
  files: readonly string[],
  options: ReadOptions = {},
): Promise<{ entries: Entry[]; result: ReadResult }> {
  const entries: Entry[] = [];
  const result = await readCaptures(
    files.map((file) => ({ label: file, chunks: createReadStream(file) })),
    (entry) => entries.push(entry),
    options,
  );
  return { entries, result };
}
