/**
 * Test doubles for the store, graph and replay tests: a compact entry preset, a manual clock with
 * a timer queue (the store and replay take both by injection, so no test depends on real time),
 * and a CompiledFilter made from a predicate (the store only needs test(), query and redaction).
 */
import type { CompiledFilter } from '../../src/kfl/api.ts';
import type { Entry } from '../../src/model/entry.ts';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { buildEntry } from './entries.ts';

export interface TestEntrySpec {
  readonly id?: string;
  readonly src?: string;
  readonly dst?: string;
  readonly srcIp?: string;
  readonly dstIp?: string;
  readonly namespace?: string;
  /** Unix ms. */
  readonly timestamp?: number;
  /** null: no response. */
  readonly status?: number | null;
  readonly elapsedMs?: number;
  readonly path?: string;
}

/** The store tests' entry: a bare GET, named and timed as asked (the one builder, test/helpers/entries.ts). */
export function testEntry(spec: TestEntrySpec = {}): HttpEntry {
  const timestamp = spec.timestamp ?? 1_700_000_000_000;
  const endpoint = (ip: string | undefined, name: string | undefined) => ({ ...(ip === undefined ? {} : { ip }), name: name ?? '', namespace: spec.namespace ?? '' });
  return buildEntry({
    ...(spec.id === undefined ? {} : { id: spec.id }),
    src: endpoint(spec.srcIp, spec.src),
    dst: endpoint(spec.dstIp, spec.dst),
    timestampUs: timestamp * 1000 + 123,
    ...(spec.elapsedMs === undefined || spec.status === null ? {} : { elapsedMs: spec.elapsedMs }),
    url: spec.path ?? '/',
    path: spec.path ?? '/',
    queryString: {},
    status: spec.status === undefined ? 200 : spec.status,
  });
}

/** A filter on HTTP entries (the ones testEntry makes); entries of other protocols never pass. */
export function predicateFilter(query: string, test: (e: HttpEntry) => boolean): CompiledFilter {
  return { query, test: (e) => isHttpEntry(e) && test(e), limit: undefined, redactPaths: [], redact: (e) => e };
}

/** A manual clock: timers fire only from advance(), in due order, with the clock set to their time. */
export class ManualClock {
  #now: number;
  #timers: { at: number; fn: () => void; live: boolean }[] = [];
  /** Every delay passed to schedule() or sleep(), in call order. */
  readonly delays: number[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  readonly schedule = (fn: () => void, ms: number): { cancel(): void } => {
    this.delays.push(ms);
    const timer = { at: this.#now + ms, fn, live: true };
    this.#timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  };

  /** A sleep that resolves when advance() passes its end. */
  readonly sleep = (ms: number): Promise<void> => new Promise((resolve) => void this.schedule(resolve, ms));

  get pending(): number {
    return this.#timers.filter((t) => t.live).length;
  }

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.#now = due.at;
      due.fn();
    }
    this.#timers = this.#timers.filter((t) => t.live);
    this.#now = end;
  }
}
