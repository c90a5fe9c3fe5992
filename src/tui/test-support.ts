/**
 * Test doubles for the TUI tests: a small EntryStore over an array (filter, graph, notifications on
 * demand, no timers) and an entry factory with headers and bodies. Not used by the app.
 */
import type { CompiledFilter } from '../kfl/api.ts';
import { isoFromMicros, type Entry } from '../model/entry.ts';

import { ServiceGraphBuilder } from '../pipeline/service-graph.ts';
import type { EntryStore, ServiceGraph, StoreSnapshot } from '../pipeline/store-api.ts';

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

export function makeEntry(spec: EntrySpec = {}): HttpEntry {
  const index = spec.index ?? 0;
  const status = spec.status === undefined ? 200 : spec.status;
  const url = spec.url ?? '/catalogue?size=5';
  const timestampMs = 1_764_000_000_000 + index * 1000;
  const body = spec.responseBody ?? { text: '{"id":"1","name":"sock"}', mimeType: 'application/json' };
  return {
    id: `${index}-0`,
    protocol: { name: 'http', version: '1.1', abbr: 'HTTP' },
    src: { ip: '10.0.0.1', port: 40000 + index, name: spec.src ?? 'front-end', namespace: 'sock-shop' },
    dst: { ip: '10.0.0.2', port: 80, name: spec.dst ?? 'catalogue', namespace: 'sock-shop' },
    timestamp: timestampMs,
    startTime: isoFromMicros(timestampMs * 1000),
    elapsedTime: status === null ? 0 : (spec.elapsedMs ?? 12.5),
    requestSize: 120,
    responseSize: status === null ? 0 : 2048,
    tls: false,
    request: {
      method: spec.method ?? 'GET',
      url,
      path: url.split('?')[0],
      httpVersion: 'HTTP/1.1',
      headers: spec.requestHeaders ?? { Host: 'catalogue', 'User-Agent': 'curl/8.5' },
      cookies: {},
      queryString: url.includes('?') ? Object.fromEntries(new URLSearchParams(url.split('?')[1])) : {},
      postData: spec.requestBody ?? null,
      headersSize: 100,
      bodySize: spec.requestBody?.text.length ?? 0,
    },
    response:
      status === null
        ? null
        : {
            status,
            statusText: status >= 500 ? 'Internal Server Error' : 'OK',
            httpVersion: 'HTTP/1.1',
            headers: { 'Content-Type': body.mimeType },
            cookies: {},
            content: { size: body.size ?? body.text.length, mimeType: body.mimeType, text: body.text, ...(body.encoding ? { encoding: body.encoding } : {}), ...(body.truncated ? { truncated: true } : {}) },
            headersSize: 100,
            bodySize: body.size ?? body.text.length,
          },
    error: status === null ? { type: 'pair-not-found', msg: 'no response' } : null,
  };
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
