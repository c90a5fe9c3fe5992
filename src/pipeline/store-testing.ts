/**
 * Test doubles for the store, graph and replay tests: a compact entry factory, a manual clock with
 * a timer queue (the store and replay take both by injection, so no test depends on real time),
 * and a CompiledFilter made from a predicate (the store only needs test(), query and redaction).
 */
import type { CompiledFilter } from '../kfl/api.ts';
import { isoFromMicros } from '../model/entry.ts';
import type { HttpEntry as Entry } from '../remote-agent/dissect/http1/entry.ts';

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

export function testEntry(spec: TestEntrySpec = {}): Entry {
  const timestamp = spec.timestamp ?? 1_700_000_000_000;
  const status = spec.status === undefined ? 200 : spec.status;
  return {
    id: spec.id ?? '0-0',
    protocol: { name: 'http', version: '1.1', abbr: 'HTTP' },
    src: { ip: spec.srcIp ?? '10.0.0.1', port: 40000, name: spec.src ?? '', namespace: spec.namespace ?? '' },
    dst: { ip: spec.dstIp ?? '10.0.0.2', port: 80, name: spec.dst ?? '', namespace: spec.namespace ?? '' },
    timestamp,
    startTime: isoFromMicros(timestamp * 1000 + 123),
    elapsedTime: status === null ? 0 : (spec.elapsedMs ?? 1),
    requestSize: 100,
    responseSize: status === null ? 0 : 200,
    tls: false,
    request: {
      method: 'GET', url: spec.path ?? '/', path: spec.path ?? '/', httpVersion: 'HTTP/1.1',
      headers: {}, cookies: {}, queryString: {}, postData: null, headersSize: 100, bodySize: 0,
    },
    response: status === null ? null : {
      status, statusText: '', httpVersion: 'HTTP/1.1', headers: {}, cookies: {},
      content: { size: 0, mimeType: '', text: '' }, headersSize: 200, bodySize: 0,
    },
    error: status === null ? { type: 'pair-not-found', msg: 'no response' } : null,
  };
}

export function predicateFilter(query: string, test: (e: Entry) => boolean): CompiledFilter {
  return { query, test, limit: undefined, redactPaths: [], redact: (e) => e };
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
