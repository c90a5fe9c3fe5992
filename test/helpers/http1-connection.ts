/**
 * Test support: a fake connection and context, scripted byte streams, and re-chunking so one
 * script can run whole, split at every offset and byte by byte.
 */
import type { Entry } from '../../src/model/entry.ts';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { newCaptureStats, type CaptureStats } from '../../src/remote-agent/stats.ts';
import type { CloseReason, ConnectionInfo, Direction, StreamHandler } from '../../src/remote-agent/tcp/stream.ts';
import { DEFAULT_DISSECT_OPTIONS, dissectContextFor, type DissectContext, type DissectOptions, type EntryMeta } from '../../src/remote-agent/dissect/dissector.ts';
import { http1Dissector } from '../../src/remote-agent/dissect/http1/index.ts';

export const CLIENT = { ip: '10.0.0.1', port: 40000 } as const;
export const SERVER = { ip: '10.0.0.2', port: 80 } as const;
/** 2024-01-01T00:00:00Z in µs. */
export const T0 = 1_704_067_200_000_000;

/** Sequence numbers of stream offset 0 in the fake connection: direction 0, then 1. */
export const SEQ_ORIGIN = [1_000_000, 2_000_000] as const;

export function fakeConn(over: Partial<ConnectionInfo> = {}): ConnectionInfo {
  const sequenceAt = (dir: Direction, offset: number): number => SEQ_ORIGIN[dir] + offset;
  return { index: 7, a: CLIENT, b: SERVER, aIsClientKnown: true, firstSeenUs: T0, sequenceAt, ...over };
}

export interface Recorder<E extends Entry = HttpEntry> {
  readonly ctx: DissectContext;
  /** The HTTP entries emitted. */
  readonly entries: HttpEntry[];
  /** Every entry emitted (after an upgrade, other protocols' too). */
  readonly all: Entry[];
  /** What was emitted with each entry of `all`, in the same order. */
  readonly metas: EntryMeta[];
  readonly stats: CaptureStats;
}

export function recorder(options: Partial<DissectOptions> = {}): Recorder {
  const entries: HttpEntry[] = [];
  const all: Entry[] = [];
  const metas: EntryMeta[] = [];
  const stats = newCaptureStats();
  const emit = (e: Entry, meta: EntryMeta): void => {
    if (isHttpEntry(e)) entries.push(e);
    all.push(e);
    metas.push(meta);
  };
  const ctx = dissectContextFor({ options: { ...DEFAULT_DISSECT_OPTIONS, ...options }, stats, emit }, http1Dissector.protocol);
  return { ctx, entries, all, metas, stats };
}

export type Step =
  | { readonly data: string | Uint8Array; readonly dir: Direction; readonly us?: number }
  | { readonly gap: number; readonly dir: Direction; readonly us?: number }
  | { readonly end: Direction; readonly us?: number }
  | { readonly close: CloseReason; readonly us?: number };

/** Client-to-server bytes (direction 0 when the client is `a`). */
export const c = (data: string | Uint8Array, us = 0): Step => ({ data, dir: 0, us });
/** Server-to-client bytes. */
export const s = (data: string | Uint8Array, us = 0): Step => ({ data, dir: 1, us });

export const bytesOf = (d: string | Uint8Array): Uint8Array => (typeof d === 'string' ? Buffer.from(d, 'latin1') : d);

/** How each data step is cut into chunks. */
export type Chunking = { readonly kind: 'whole' } | { readonly kind: 'split'; readonly at: number } | { readonly kind: 'bytes' };

function chunksOf(b: Uint8Array, how: Chunking): Uint8Array[] {
  if (how.kind === 'whole') return [b];
  if (how.kind === 'split') return [b.subarray(0, Math.min(how.at, b.length)), b.subarray(Math.min(how.at, b.length))].filter((x) => x.length > 0);
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.subarray(i, i + 1));
  return out;
}

/**
 * Feeds `steps` to `handler`; `us` is an offset from T0. Each chunk is copied into a scratch buffer
 * that is overwritten afterwards, to prove the handler copies what it keeps.
 */
export function play(handler: StreamHandler, steps: readonly Step[], how: Chunking = { kind: 'whole' }): void {
  for (const st of steps) {
    const us = T0 + (st.us ?? 0);
    if ('data' in st) {
      for (const chunk of chunksOf(bytesOf(st.data), how)) {
        const scratch = new Uint8Array(chunk.length + 2);
        scratch.set(chunk, 1);
        handler.data(st.dir, scratch.subarray(1, 1 + chunk.length), us);
        scratch.fill(0x5a);
      }
    } else if ('gap' in st) handler.gap(st.dir, st.gap, us);
    else if ('end' in st) handler.end(st.end, us);
    else handler.close(st.close, us);
  }
}

/** Longest data step, to know which split offsets are worth trying. */
export function longestData(steps: readonly Step[]): number {
  let n = 0;
  for (const st of steps) if ('data' in st) n = Math.max(n, bytesOf(st.data).length);
  return n;
}
