/**
 * Runs capture files through the same pipeline as `kubectl shark read`, collecting the entries:
 * `all` of every protocol, `entries` the HTTP ones (what most tests look at).
 */
import { createReadStream } from 'node:fs';
import type { Entry } from '../../src/model/entry.ts';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { readCaptures, type ReadOptions, type ReadResult } from '../../src/pipeline/read-capture.ts';
import { entriesOf, type EntryOf } from './entries-of.ts';

/**
 * `entries`: the HTTP entries (what most tests look at); `all`: every entry, whatever its protocol
 * (the captures hold DNS lookups too).
 */
export async function readEntries(
  files: readonly string[],
  options: ReadOptions = {},
): Promise<{ entries: HttpEntry[]; all: Entry[]; result: ReadResult }> {
  const all: Entry[] = [];
  const result = await readCaptures(
    files.map((file) => ({ label: file, chunks: createReadStream(file) })),
    (entry) => all.push(entry),
    options,
  );
  assertNoInternalErrors(result, files.join(', '));
  return { entries: all.filter(isHttpEntry), all, result };
}

/** Every test that reads captures fails on a bug met on the way, even one the capture survived. */
export function assertNoInternalErrors(result: ReadResult, what: string): void {
  if (result.stats.internalErrors === 0) return;
  const reports = result.warnings.filter((w) => w.code === 'INTERNAL_ERROR').map((w) => w.message);
  throw new Error(`${result.stats.internalErrors} internal errors reading ${what}:\n${reports.join('\n')}`);
}
