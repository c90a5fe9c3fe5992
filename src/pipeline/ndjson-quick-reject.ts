/**
 * `read F.ndjson --filter Q` without JSON.parse of the lines Q rejects: a validating scan of the
 * line that reads only the envelope (id, protocol, times, sizes, endpoints' addresses, the HTTP
 * method and status), then Q tested on that part of the entry. Most of a saved entry is its bodies
 * and headers, which the scan only checks for JSON validity, character by character, without
 * building strings or objects: several times cheaper than JSON.parse on the same line.
 *
 * The answer is exact or absent. `rejects(line)` is true only when the full path (JSON.parse, the
 * entry check, redaction, naming, the filter) would count the line as an entry and not hand it out:
 * - the scan accepts a subset of what JSON.parse accepts: any doubt (an escaped key, a control
 *   character, deep nesting, a number or literal it does not know) answers "don't know";
 * - duplicate keys keep the last value, as JSON.parse does;
 * - the query sees the entry through proxies: reading any field the scan did not keep (headers,
 *   bodies, names...), listing keys or asking for a prototype answers "don't know", so which fields
 *   a query reads never has to be worked out from its text (aliases, functions, protocol words);
 * - the kept fields are ones redaction and naming leave alone: naming writes only endpoints' names,
 *   and redaction never touches the envelope; the method and status are only shown for HTTP entries
 *   when redacting (other protocols may replace a request whole: Redis does for odd shapes, and an
 *   unknown protocol's request and response are replaced whole).
 * "Don't know" sends the line down the full path, so an input of odd lines costs what it did.
 */
import type { CompiledFilter } from '../kfl/index.ts';
import type { Entry } from '../model/entry.ts';
import { hasEntryShape } from './ndjson-entries.ts';

/** Nesting the scan follows before it answers "don't know" (entries are a few levels deep). */
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Top-level fields kept as values: none of them is changed by redaction or naming. */
const ROOT_VALUES: ReadonlySet<string> = new Set(['id', 'protocol', 'timestamp', 'startTime', 'elapsedTime', 'requestSize', 'responseSize', 'tls']);
/** Top-level objects looked into, and the fields kept of each (when the field is an object). */
const ENDPOINT_FIELDS: ReadonlySet<string> = new Set(['ip', 'port']);
const REQUEST_FIELDS: ReadonlySet<string> = new Set(['method']);
const RESPONSE_FIELDS: ReadonlySet<string> = new Set(['status']);
const INNER_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['src', ENDPOINT_FIELDS],
  ['dst', ENDPOINT_FIELDS],
  ['request', REQUEST_FIELDS],
  ['response', RESPONSE_FIELDS],
]);
const ROOT_FIELDS: ReadonlySet<string> = new Set([...ROOT_VALUES, ...INNER_FIELDS.keys()]);
/** The top level without request and response. */
const ENVELOPE_FIELDS: ReadonlySet<string> = new Set([...ROOT_VALUES, 'src', 'dst']);

/** Thrown (and caught in `rejects`) when the scan cannot be sure: the full path decides. */
class Doubt extends Error {}
const DOUBT = new Doubt();

/** A level of the kept entry: the values kept (by key) of an object whose other keys are unknown. */
interface Part {
  readonly values: Map<string, unknown>;
  readonly known: ReadonlySet<string>;
}

export interface QuickRejectOptions {
  /** True when entries are redacted before the filter (read's default). */
  readonly redacting: boolean;
}

export class NdjsonQuickReject {
  readonly #filter: CompiledFilter;
  readonly #redacting: boolean;
  #line = '';
  /** Set when the query touched what the scan did not keep. */
  #unknownRead = false;
  readonly #handler: ProxyHandler<Part>;

  constructor(filter: CompiledFilter, options: QuickRejectOptions) {
    this.#filter = filter;
    this.#redacting = options.redacting;
    const unknown = (): undefined => {
      this.#unknownRead = true;
      return undefined;
    };
    this.#handler = {
      get: (part, key) => {
        if (typeof key === 'string' && part.known.has(key)) return part.values.get(key);
        return unknown();
      },
      has: () => unknown() ?? false,
      ownKeys: () => {
        this.#unknownRead = true;
        return [];
      },
      getOwnPropertyDescriptor: unknown,
      getPrototypeOf: () => {
        this.#unknownRead = true;
        return Object.prototype;
      },
      set: () => {
        this.#unknownRead = true;
        return false;
      },
      defineProperty: () => {
        this.#unknownRead = true;
        return false;
      },
      deleteProperty: () => {
        this.#unknownRead = true;
        return false;
      },
    };
  }

  /**
   * True when the line is certainly an entry that the filter does not keep; false when it may be
   * kept, is not an entry, or is not valid JSON (the caller parses it as before).
   */
  rejects(line: string): boolean {
    this.#line = line;
    let root: Map<string, unknown>;
    try {
      root = this.#scanLine();
    } catch (err) {
      if (err instanceof Doubt) return false;
      // A stack overflow or the like: the full path decides, as for any doubt.
      return false;
    }
    if (!hasEntryShape((key) => root.get(key))) return false;
    // Redaction may replace request and response whole for other protocols (and for an unknown
    // one): what was kept of them is then not what the filter would see.
    const sidesKept = !this.#redacting || protocolName(root.get('protocol')) === 'http';
    const entry = new Proxy<Part>({ values: root, known: sidesKept ? ROOT_FIELDS : ENVELOPE_FIELDS }, this.#handler);
    this.#unknownRead = false;
    const kept = this.#filter.test(entry as unknown as Entry);
    const sure = !this.#unknownRead;
    this.#unknownRead = false;
    return sure && !kept;
  }

  // ----- The scan: JSON over the line's UTF-16 units, keeping the envelope -----

  #scanLine(): Map<string, unknown> {
    const s = this.#line;
    let i = skipBlank(s, 0);
    if (s.charCodeAt(i) !== 0x7b) throw DOUBT;
    const root = new Map<string, unknown>();
    i = this.#object(i, (key, at) => {
      if (!ROOT_FIELDS.has(key)) return this.#skipValue(at, 2);
      const inner = INNER_FIELDS.get(key);
      if (inner !== undefined && s.charCodeAt(at) === 0x7b) {
        // Kept as a proxy over its kept fields: the rest of it is only validated.
        const values = new Map<string, unknown>();
        const end = this.#object(at, (k, vat) => {
          if (!inner.has(k)) return this.#skipValue(vat, 3);
          const vend = this.#skipValue(vat, 3);
          values.set(k, JSON.parse(s.slice(vat, vend)));
          return vend;
        });
        root.set(key, new Proxy<Part>({ values, known: inner }, this.#handler));
        return end;
      }
      const end = this.#skipValue(at, 2);
      root.set(key, JSON.parse(s.slice(at, end)));
      return end;
    });
    if (skipBlank(s, i) !== s.length) throw DOUBT;
    return root;
  }

  /** An object from its "{" at `i`; `member` reads each value (at its first unit) and returns its end. */
  #object(i: number, member: (key: string, at: number) => number): number {
    const s = this.#line;
    i = skipBlank(s, i + 1);
    if (s.charCodeAt(i) === 0x7d) return i + 1;
    for (;;) {
      if (s.charCodeAt(i) !== QUOTE) throw DOUBT;
      const keyEnd = this.#string(i);
      // A key with an escape may spell a kept field's name another way: not worth the doubt.
      const key = s.slice(i + 1, keyEnd - 1);
      if (key.indexOf('\\') !== -1) throw DOUBT;
      i = skipBlank(s, keyEnd);
      if (s.charCodeAt(i) !== 0x3a) throw DOUBT;
      i = member(key, skipBlank(s, i + 1));
      i = skipBlank(s, i);
      const c = s.charCodeAt(i);
      if (c === 0x7d) return i + 1;
      if (c !== 0x2c) throw DOUBT;
      i = skipBlank(s, i + 1);
    }
  }

  #skipValue(i: number, depth: number): number {
    const s = this.#line;
    const c = s.charCodeAt(i);
    if (c === QUOTE) return this.#string(i);
    if (c === 0x7b || c === 0x5b) {
      if (depth > MAX_DEPTH) throw DOUBT;
      if (c === 0x7b) return this.#object(i, (_key, at) => this.#skipValue(at, depth + 1));
      i = skipBlank(s, i + 1);
      if (s.charCodeAt(i) === 0x5d) return i + 1;
      for (;;) {
        i = skipBlank(s, this.#skipValue(i, depth + 1));
        const d = s.charCodeAt(i);
        if (d === 0x5d) return i + 1;
        if (d !== 0x2c) throw DOUBT;
        i = skipBlank(s, i + 1);
      }
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number(s, i);
    if (s.startsWith('true', i)) return i + 4;
    if (s.startsWith('false', i)) return i + 5;
    if (s.startsWith('null', i)) return i + 4;
    throw DOUBT;
  }

  /** A string from its opening quote at `i`; returns the index after its closing quote. */
  #string(i: number): number {
    const s = this.#line;
    const n = s.length;
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) return i + 1;
      if (c < 0x20) throw DOUBT;
      if (c === BACKSLASH) {
        const e = s.charCodeAt(++i);
        if (e === 0x75) {
          if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2)) || !isHex(s.charCodeAt(i + 3)) || !isHex(s.charCodeAt(i + 4))) throw DOUBT;
          i += 4;
        } else if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
          throw DOUBT;
        }
      }
    }
    throw DOUBT;
  }
}

function protocolName(protocol: unknown): unknown {
  return protocol !== null && typeof protocol === 'object' && !Array.isArray(protocol) ? (protocol as { name?: unknown }).name : undefined;
}

/** JSON whitespace only: anything else JSON.parse rejects, and so does the scan. */
function skipBlank(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A JSON number (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?) from `i`; returns its end. */
function number(s: string, i: number): number {
  if (s.charCodeAt(i) === 0x2d) i++;
  const first = s.charCodeAt(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) while (isDigit(s.charCodeAt(++i)));
  else throw DOUBT;
  if (s.charCodeAt(i) === 0x2e) {
    if (!isDigit(s.charCodeAt(++i))) throw DOUBT;
    while (isDigit(s.charCodeAt(++i)));
  }
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    const sign = s.charCodeAt(++i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!isDigit(s.charCodeAt(i))) throw DOUBT;
    while (isDigit(s.charCodeAt(++i)));
  }
  return i;
}
