/**
 * FilterRun, apart from the compiler (issue 17): the read pipeline imports it whether or not a
 * filter is given, and importing it from index.ts loaded the lexer, parser and re2js for every
 * `read`; the compiler is loaded only when there is a query to compile (cmd/read.ts).
 */
import type { Entry } from '../model/entry.ts';
import type { CompiledFilter } from './api.ts';

/** One filter applied to a stream of entries: counts matches, stops at limit(), redacts. */
export class FilterRun {
  readonly #filter: CompiledFilter;
  #matched = 0;

  constructor(filter: CompiledFilter) {
    this.#filter = filter;
  }

  /** The (redacted) entry when it matches and the limit is not reached, else undefined. */
  offer(entry: Entry): Entry | undefined {
    if (this.exhausted || !this.#filter.test(entry)) return undefined;
    this.#matched++;
    return this.#filter.redact(entry);
  }

  /** The limit is reached: callers may stop reading. */
  get exhausted(): boolean {
    const limit = this.#filter.limit;
    return limit !== undefined && this.#matched >= limit;
  }

  get matched(): number {
    return this.#matched;
  }
}
