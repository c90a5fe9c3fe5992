/**
 * `read F.ndjson --filter Q` without redacting and naming the entries Q drops. The full path
 * redacts every entry read back (redaction is idempotent and the file may hold secrets), names its
 * endpoints, then tests Q; redaction scans headers and bodies, and is most of the time spent on a
 * saved entry when Q is selective. Here Q is first tested on the entry as parsed, seen through
 * proxies that show only fields redaction and naming leave alone: the envelope (id, protocol,
 * times, sizes), the endpoints' addresses and ports, and the request and response fields the
 * protocol's descriptor says its redaction keeps (`keptByRedaction`: HTTP's method and status), or,
 * with redaction off, the request's method and the response's status. Naming writes only
 * endpoints' names, and other protocols may replace a request or response whole (Redis does for odd
 * shapes; an unknown protocol's request and response are replaced whole).
 *
 * The answer is exact or absent: `rejects(entry)` is true only when Q read nothing but those fields
 * and was false. Reading any other field, listing keys or asking for a prototype answers "don't
 * know", so which fields a query reads never has to be worked out from its text (aliases,
 * functions, protocol words), and the entry goes down the full path as before.
 *
 * Measured (CPU of readCaptures in-process, one core, best of 4, `response.status >= 404`):
 * 84 MB of saved HTTP entries 962 -> 559 ms, 65 MB of small ones 1004 -> 708 ms. A JSON scan in
 * TypeScript that skipped JSON.parse of dropped lines was tried first and was slower than V8's
 * JSON.parse on these lines (685 against 597 ms): parsing is not where the time goes, redaction is.
 * Tried again for issue 17 with strings skipped and checked by one sticky regular expression each
 * (compiled code, not a loop in TypeScript): still slower, 1.07-1.35 s against JSON.parse's
 * 0.57-0.70 s on 200 MB of saved HTTP entries. Their bodies are JSON text inside JSON strings, an
 * escaped quote every ~8 characters, and any scan that must tell escaped quotes from closing ones
 * (and check escapes, so that a line it drops is counted as JSON.parse would count it) does work
 * per escape that V8's parser does in C++. JSON.parse is the floor of this path in JavaScript.
 */
import type { CompiledFilter } from '../kfl/index.ts';
import type { Entry } from '../model/entry.ts';
import { DESCRIPTORS } from '../remote-agent/dissect/descriptors.ts';

/** Top-level fields shown as they are: none of them is changed by redaction or naming. */
const ROOT_VALUES = ['id', 'protocol', 'timestamp', 'startTime', 'elapsedTime', 'requestSize', 'responseSize', 'tls'] as const;
const ENDPOINT_FIELDS: ReadonlySet<string> = new Set(['ip', 'port']);
const REQUEST_FIELDS: ReadonlySet<string> = new Set(['method']);
const RESPONSE_FIELDS: ReadonlySet<string> = new Set(['status']);
const NOTHING: ReadonlySet<string> = new Set();
/** Top-level objects shown through a view of some of their fields. */
const ENDPOINTS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['src', ENDPOINT_FIELDS],
  ['dst', ENDPOINT_FIELDS],
]);
const SIDES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['src', ENDPOINT_FIELDS],
  ['dst', ENDPOINT_FIELDS],
  ['request', REQUEST_FIELDS],
  ['response', RESPONSE_FIELDS],
]);

export interface QuickRejectOptions {
  /** True when entries are redacted before the filter (read's default). */
  readonly redacting: boolean;
}

export class NdjsonQuickReject {
  readonly #filter: CompiledFilter;
  readonly #redacting: boolean;
  /** Set when the query touched what the views do not show. */
  #unknownRead = false;
  readonly #rootWithSides: ProxyHandler<object>;
  readonly #rootEnvelope: ProxyHandler<object>;
  /** Per protocol name, the root view while redacting: the sides its descriptor says redaction keeps. */
  readonly #rootRedacted = new Map<string, ProxyHandler<object>>();
  readonly #inner: Map<ReadonlySet<string>, ProxyHandler<object>>;
  readonly #root: (objects: ReadonlyMap<string, ReadonlySet<string>>) => ProxyHandler<object>;

  constructor(filter: CompiledFilter, options: QuickRejectOptions) {
    this.#filter = filter;
    this.#redacting = options.redacting;
    const inner = new Map<ReadonlySet<string>, ProxyHandler<object>>();
    for (const fields of [ENDPOINT_FIELDS, REQUEST_FIELDS, RESPONSE_FIELDS, NOTHING]) {
      inner.set(fields, this.#handler((target, key) => (fields.has(key) ? Reflect.get(target, key) : this.#unknown())));
    }
    this.#inner = inner;
    this.#root = (objects) =>
      this.#handler((target, key) => {
        const fields = objects.get(key);
        if (fields !== undefined) return this.#view(Reflect.get(target, key), fields);
        return (ROOT_VALUES as readonly string[]).includes(key) ? Reflect.get(target, key) : this.#unknown();
      });
    this.#rootWithSides = this.#root(SIDES);
    this.#rootEnvelope = this.#root(ENDPOINTS);
    for (const [name, descriptor] of Object.entries(DESCRIPTORS)) {
      const kept = descriptor.keptByRedaction;
      if (kept === undefined) continue;
      const request = this.#fieldSet(kept.request);
      const response = this.#fieldSet(kept.response);
      this.#rootRedacted.set(name, this.#root(new Map([...ENDPOINTS, ['request', request], ['response', response]])));
    }
  }

  /** The inner view showing `fields`, made once per field list. */
  #fieldSet(fields: readonly string[]): ReadonlySet<string> {
    const set: ReadonlySet<string> = new Set(fields);
    this.#inner.set(set, this.#handler((target, key) => (set.has(key) ? Reflect.get(target, key) : this.#unknown())));
    return set;
  }

  /**
   * True when the entry (as parsed, before redaction and naming) is certainly one the filter does
   * not keep once redacted and named; false when it may be kept or the views cannot tell.
   */
  rejects(entry: Entry): boolean {
    const protocol: unknown = entry.protocol;
    const name = protocol !== null && typeof protocol === 'object' ? (protocol as { name?: unknown }).name : undefined;
    const root = !this.#redacting ? this.#rootWithSides : ((typeof name === 'string' ? this.#rootRedacted.get(name) : undefined) ?? this.#rootEnvelope);
    this.#unknownRead = false;
    const kept = this.#filter.test(new Proxy(entry, root) as Entry);
    const sure = !this.#unknownRead;
    this.#unknownRead = false;
    return sure && !kept;
  }

  /** An object through a view of `fields` (an array: of nothing); other values as they are. */
  #view(value: unknown, fields: ReadonlySet<string>): unknown {
    if (value === null || typeof value !== 'object') return value;
    return new Proxy(value, this.#inner.get(Array.isArray(value) ? NOTHING : fields)!);
  }

  #unknown(): undefined {
    this.#unknownRead = true;
    return undefined;
  }

  /** A handler that answers string keys with `get` and marks every other question as unknown. */
  #handler(get: (target: object, key: string) => unknown): ProxyHandler<object> {
    const unknown = (): void => {
      this.#unknownRead = true;
    };
    return {
      get: (target, key) => (typeof key === 'string' ? get(target, key) : this.#unknown()),
      has: (target, key) => (unknown(), Reflect.has(target, key)),
      ownKeys: (target) => (unknown(), Reflect.ownKeys(target)),
      getOwnPropertyDescriptor: (target, key) => (unknown(), Reflect.getOwnPropertyDescriptor(target, key)),
      getPrototypeOf: (target) => (unknown(), Reflect.getPrototypeOf(target)),
      set: () => (unknown(), false),
      defineProperty: () => (unknown(), false),
      deleteProperty: () => (unknown(), false),
    };
  }
}
