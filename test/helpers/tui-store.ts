/**
 * Test doubles for the TUI tests: a small EntryStore over an array (filter, graph, notifications on
 * demand, no timers) and an entry preset with headers and bodies. Not used by the app.
 */
import type { CompiledFilter } from '../../src/kfl/api.ts';
import type { Entry } from '../../src/model/entry.ts';
import { ServiceGraphBuilder } from '../../src/pipeline/service-graph.ts';
import type { EntryStore, ServiceGraph, StoreSnapshot } from '../../src/pipeline/store-api.ts';
import { buildEntry } from './entries.ts';

/** HTTP's entry (src/tui may not import a protocol folder: the union names it). */
type HttpEntry = Extract<Entry, { readonly protocol: { readonly name: 'http' } }>;

export interface EntrySpec {
  readonly index?: number;
  readonly src?: string;
  readonly dst?: string;
  readonly method?: string;
  readonly url?: string;
  readonly status?: number | null;
  readonly elapsedMs?: number;
  readonly requestHeaders?: Record<string, string>;
  readonly requestBody?: { text: string; mimeType: string; encoding?: 'base64'; truncated?: boolean };
  readonly responseBody?: { text: string; mimeType: string; encoding?: 'base64'; truncated?: boolean; size?: number };
}

/** The TUI tests' entry: a sock-shop call, the index setting its id, port and time (the one builder, test/helpers/entries.ts). */
export function makeEntry(spec: EntrySpec = {}): HttpEntry {
  const index = spec.index ?? 0;
  const status = spec.status === undefined ? 200 : spec.status;
  const body = spec.responseBody ?? { text: '{"id":"1","name":"sock"}', mimeType: 'application/json' };
  return buildEntry({
    id: `${index}-0`,
    src: { port: 40000 + index, name: spec.src ?? 'front-end', namespace: 'sock-shop' },
    dst: { name: spec.dst ?? 'catalogue', namespace: 'sock-shop' },
    timestampUs: (1_764_000_000_000 + index * 1000) * 1000,
    elapsedMs: status === null ? 0 : (spec.elapsedMs ?? 12.5),
    requestSize: 120,
    responseSize: status === null ? 0 : 2048,
    method: spec.method ?? 'GET',
    url: spec.url ?? '/catalogue?size=5',
    requestHeaders: spec.requestHeaders ?? { Host: 'catalogue', 'User-Agent': 'curl/8.5' },
    postData: spec.requestBody ?? null,
    status,
    statusText: status !== null && status >= 500 ? 'Internal Server Error' : 'OK',
    responseHeaders: { 'Content-Type': body.mimeType },
    content: { size: body.size ?? body.text.length, mimeType: body.mimeType, text: body.text, ...(body.encoding ? { encoding: body.encoding } : {}), ...(body.truncated ? { truncated: true } : {}) },
    responseHeadersSize: 100,
  });
}

/** An EntryStore over an array: add() and setFilter() notify at once (tests have no frame timer). */
export class ArrayStore implements EntryStore {
  readonly entries: Entry[] = [];
  filter: CompiledFilter | null = null;
  readonly #listeners = new Set<() => void>();
  #snapshot: StoreSnapshot = this.#build(0);

  constructor(entries: readonly Entry[] = []) {
    this.entries.push(...entries);
    this.#snapshot = this.#build(1);
  }

  #view(): Entry[] {
    const filter = this.filter;
    return filter === null ? this.entries : this.entries.filter((entry) => filter.test(entry));
  }

  #build(version: number): StoreSnapshot {
    const total = this.entries.length;
    return { version, total, held: total, evicted: 0, shown: this.#view().length, entriesPerSec: 2.5, drops: 0, filter: this.filter?.query ?? '', ended: false };
  }

  #changed(): void {
    this.#snapshot = this.#build(this.#snapshot.version + 1);
    for (const listener of this.#listeners) listener();
  }

  add(...entries: Entry[]): void {
    this.entries.push(...entries);
    this.#changed();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): StoreSnapshot {
    return this.#snapshot;
  }

  rows(start: number, count: number): readonly Entry[] {
    return this.#view().slice(Math.max(0, start), Math.max(0, start) + Math.max(0, count));
  }

  row(index: number): Entry | undefined {
    return this.#view()[index];
  }

  setFilter(filter: CompiledFilter | null): void {
    this.filter = filter;
    this.#changed();
  }

  /** The real builder over the view, so the map in tests counts as the app's does. */
  graph(): ServiceGraph {
    const builder = new ServiceGraphBuilder();
    this.#view().forEach((entry, seq) => builder.add(entry, seq));
    return builder.graph();
  }
}

/** Lets React and Ink finish the work a keystroke or store change started (no clock involved). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Ink (8) holds a lone ESC for 20 ms before it reports the key, in case it is the start of a
 * sequence split across reads (ink/build/components/App.js); a test that presses escape waits it out.
 */
const LONE_ESCAPE_HOLD_MS = 40;

/** Writes each key as one read from the terminal and lets the app act on it before the next. */
export async function typeKeys(stdin: { write(data: string): unknown }, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    stdin.write(key);
    if (key === KEYS.escape) await new Promise<void>((resolve) => setTimeout(resolve, LONE_ESCAPE_HOLD_MS));
    await settle();
  }
}

/** Strips ANSI colour sequences from a frame. */
export function plain(frame: string | undefined): string {
  return (frame ?? '').replace(/\u001b\[[0-9;]*m/g, '');
}

/** Escape sequences as a terminal sends them, for stdin.write(). */
export const KEYS = {
  up: '\u001b[A',
  down: '\u001b[B',
  enter: '\r',
  escape: '\u001b',
  tab: '\t',
  backspace: '\u007f',
  pageUp: '\u001b[5~',
  pageDown: '\u001b[6~',
  ctrlC: '\u0003',
  ctrlU: '\u0015',
} as const;
