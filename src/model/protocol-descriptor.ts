/**
 * What a protocol tells everyone outside its folder (STYLE.md §9, "what to absorb" 1-10): the list
 * row, the detail sections, the dedup key, the service-map label, its KFL words and variables, its
 * redaction hooks and its stats. The TUI, pipeline, KFL, redaction and the agent's capabilities read
 * only this; none of them names a protocol. One frozen descriptor per protocol folder
 * (src/remote-agent/dissect/<protocol>/descriptor.ts), listed once in
 * src/remote-agent/dissect/descriptors.ts.
 *
 * A descriptor imports only src/model: KFL, the TUI and the pipeline load it without the parsers.
 */
import type { EntryEnvelope } from './entry-envelope.ts';

/** How a list row shows an entry: the protocol's method-like verb, its target and its outcome. */
export interface RowSummary {
  /** Method-like: `GET`, `Query`, `text`. Raw: the TUI sanitises before drawing. */
  readonly verb: string;
  /** Path-like: `/catalogue?id=3`, `api.example.com A`, `"hello" (5 B)`. */
  readonly target: string;
  /** Status-like: `200`, `NXDOMAIN`, `close 1000`; "" when the entry has no answer. */
  readonly outcome: string;
  /** How to colour the outcome. */
  readonly outcomeClass: OutcomeClass;
  /** What counts as an error for this protocol (HTTP >= 400 and no response, DNS rcode != 0 ...). */
  readonly isError: boolean;
  /** KFL queries that select entries with the same verb / target / outcome (built with kflString). */
  readonly verbQuery?: string;
  readonly targetQuery?: string;
  readonly outcomeQuery?: string;
  /**
   * Bytes of the answer's payload, shown beside the outcome by `read -o text` (HTTP: the decoded
   * response body); absent when there is no answer.
   */
  readonly payloadBytes?: number;
}

export type OutcomeClass = 'info' | 'success' | 'redirect' | 'client-error' | 'server-error' | 'none';

/** One field of a detail table; `selector` is the KFL path that reads it, when there is one. */
export interface DetailRow {
  readonly label: string;
  readonly value: string;
  readonly selector?: string;
}

/**
 * Typed detail sections (never JSON strings parsed again: STYLE.md §9, "what not to copy"), drawn
 * in order below the envelope (time, endpoints, sizes). A table with no rows is not drawn; its
 * title is followed by the number of distinct row labels.
 */
export type DetailSection =
  /**
   * A part of the exchange (`Request`, `Response`) and its first line (request line, status line),
   * coloured by `outcomeClass` when given. `absent`: the part is missing (a request that got no
   * answer) and `text` says so.
   */
  | {
      readonly kind: 'heading';
      readonly title: string;
      readonly text: string;
      readonly outcomeClass?: OutcomeClass;
      readonly absent?: boolean;
    }
  | { readonly kind: 'table'; readonly title: string; readonly rows: readonly DetailRow[] }
  | {
      readonly kind: 'body';
      readonly title: string;
      readonly mimeType: string;
      readonly text: string;
      /** 'base64' when `text` is base64 of bytes that are not UTF-8. */
      readonly encoding?: 'base64';
      readonly truncated?: boolean;
      /** Whole size in bytes (the kept text may be shorter). */
      readonly sizeBytes: number;
    };

/** The entry's `protocol` object as KFL hands it to a word: read from the entry, so unchecked. */
export type KflProtocolFields = { readonly name: unknown; readonly version: unknown; readonly abbr: unknown };

/** A bare KFL word (`dns`, `ws`, `http2`): true for entries of this protocol (or variant). */
export interface KflWord {
  readonly word: string;
  /** Reads only the entry's `protocol` object (name, version, abbr), as KFL hands it in. */
  matches(protocol: KflProtocolFields): boolean;
}

/** What a protocol adds to KFL: its words and variables, and what helps queries on its fields. */
export interface KflVocabulary {
  readonly words: readonly KflWord[];
  readonly variables: readonly KflVariable[];
  /** Dotted paths of its request/response fields: known to "did you mean" (no unknown-field warning). */
  readonly paths?: readonly string[];
  /** Maps whose keys match in any case (HTTP header and cookie maps). */
  readonly caseInsensitiveMaps?: readonly string[];
  /** Maps with arbitrary keys (a query string): no unknown-field warning below them. */
  readonly openMaps?: readonly string[];
  /**
   * Hand-written readers for the paths its queries use most, each its own function literal: V8
   * keeps property-access feedback per literal, so one reader shared by every path turns
   * megamorphic (src/kfl/direct.ts). A path read by two protocols reads the same fields either way.
   */
  readonly readers?: ReadonlyMap<string, (entry: unknown) => unknown>;
}

/** A KFL2 flat variable (`dns_questions`, `ws_opcode`): a dotted entry path or a computed value. */
export type KflVariable =
  | { readonly name: string; readonly kind: 'path'; readonly path: string }
  | { readonly name: string; readonly kind: 'computed'; readonly get: (entry: unknown) => unknown };

/** What a field holds, for PayloadRedactor.redactField. */
export type PayloadFieldKind = 'headers' | 'cookies' | 'query' | 'url' | 'body';

/**
 * Redaction the protocol asks for, applied in the agent before anything leaves the pod. The
 * redaction stage implements these primitives once (src/remote-agent/redact); a protocol only says
 * which of its fields are headers, bodies, URLs or parameter maps.
 */
export interface PayloadRedactor {
  /** What replaces a value that is hidden whole (`[REDACTED]`), for a protocol's own fields. */
  readonly redacted: string;
  /**
   * In place: `owner[field]` redacted as a `kind` (a body is `{ mimeType, text, encoding? }`).
   * Never throws: a value of an unexpected shape (a map that is not a record, a body that is not
   * an object), a getter that throws or a scan that fails replaces the value whole; a frozen owner
   * is left as it is. What the agent's hot path uses: nothing is copied when nothing is secret.
   */
  redactField(owner: object, field: string, kind: PayloadFieldKind): void;
  /**
   * The rules for one request whose target is `url` with path `path` (unchecked values, as read):
   * at an OAuth redirect endpoint (`/callback?code=...`) a `code` parameter is a secret.
   */
  forRequestTarget(url: unknown, path: unknown): PayloadRedactor;
  /** Values of sensitive header names masked; returns a new map. */
  headers(headers: Readonly<Record<string, string>>): Record<string, string>;
  /** Sensitive keys/values masked in a body of this MIME type (text or base64 as kept). */
  body(mimeType: string, text: string, encoding?: 'base64'): string;
  /** Sensitive query parameters and userinfo masked in a URL or request target. */
  url(url: string): string;
  /** Sensitive keys of a parameter map masked. */
  params<V extends string | string[]>(params: Readonly<Record<string, V>>): Record<string, V>;
}

/**
 * A variant of a protocol whose entries share its `protocol.name` and so its registry line (gRPC
 * among HTTP's, as Kubeshark names them), described in the variant's own folder
 * (`<variant>/descriptor.ts`, importing only src/model and that folder) and composed with its
 * family's descriptor by the registry (src/model/protocol-variants.ts): the family's descriptor
 * never imports the variant's folder. Chosen per entry by `appliesTo`. What a variant leaves out,
 * the family's descriptor does (dedup key, edge label, body sizes...).
 *
 * Function-valued properties rather than methods, so the compiler checks the variant's entry type
 * contravariantly: a variant typed for a shape the family's entries do not have does not compose.
 */
export interface ProtocolVariant<E extends EntryEnvelope = EntryEnvelope> {
  /** `protocol.abbr` of its entries: `gRPC`. */
  readonly abbr: string;
  /** True for an entry of this variant, from what its dissector set (gRPC: `entry.grpc`). Cheap: called per row drawn. */
  readonly appliesTo: (entry: E) => boolean;
  /** Its list row; the family's when absent. */
  readonly summarize?: (entry: E) => RowSummary;
  /** Its detail sections, given the family's: it may add to them, reorder them or leave some out. */
  readonly represent?: (entry: E, family: readonly DetailSection[]) => readonly DetailSection[];
  /** KFL words, variables, paths and readers it adds to the family's (one meaning per name, as ever). */
  readonly kfl?: KflVocabulary;
  /**
   * Redaction, in place, of the fields only it has, after the family's redaction of the entry (on
   * what that returned). Never throws.
   */
  readonly redact?: (entry: E, redactor: PayloadRedactor) => void;
  /** Characters of payload text its own fields hold, added to the family's `heldChars`. */
  readonly heldChars?: (entry: E) => number;
}

/**
 * What a protocol's `lost` tally (ProtocolTally.lost) counts, told to people: `tap` says it once per
 * pod that has some ("pod shop/web: 12 <many> not shown: <why>; <remedy>"), its TUI's empty list in
 * short ("12 <many> not shown (<brief>)").
 */
export interface LostExchanges {
  /** The unit counted: `HTTP/2 stream`, `HTTP/2 streams`. */
  readonly one: string;
  readonly many: string;
  /** Why they could not be shown, as a clause. */
  readonly why: string;
  /** What to do to see such calls. */
  readonly remedy: string;
  /** Why and what to do in a few words. */
  readonly brief: string;
}

/** Why a descriptor is typed by its own entry shape: everything it reads is checked by the compiler. */
export interface ProtocolDescriptor<E extends EntryEnvelope = EntryEnvelope> {
  /** `protocol.name` of its entries (the union tag), e.g. "http", "dns", "websocket". */
  readonly name: E['protocol']['name'];
  /** Short label for lists and legends: `HTTP`, `DNS`, `WS`. */
  readonly abbr: string;
  readonly longName: string;
  /** Ports tried first (hints only; detection is by content). */
  readonly defaultPorts: readonly number[];
  readonly referenceUrl: string;
  summarize(entry: E): RowSummary;
  represent(entry: E): readonly DetailSection[];
  /**
   * What names one call seen from both ends (two tapped pods), beyond the client address and
   * the stream position the pipeline adds: HTTP method and URL, DNS id and question, ...
   * Bounded in length (a key is kept in memory for the dedup window).
   */
  dedupKey(entry: E): string;
  /** Service-map edge label, by variant (`HTTP`, `HTTP/2`, `gRPC`, `DNS`), never the family name. */
  edgeLabel(entry: E): string;
  readonly kfl: KflVocabulary;
  /**
   * Returns the entry with its payloads redacted: the same object changed in place (cheap in the
   * agent) or a new one, so callers use the result. Never throws, whatever the entry holds.
   */
  redact(entry: E, redactor: PayloadRedactor): E;
  /**
   * Payload bytes of each side (HTTP: the bodies after transfer decoding), shown beside the wire
   * sizes in the detail pane; absent for protocols without such a notion. `response` is null when
   * there is no response.
   */
  bodySizes?(entry: E): { readonly request: number; readonly response: number | null };
  /**
   * Characters of payload text the entry holds (its kept bodies), for the memory bounds of buffers
   * that hold entries (src/pipeline/timestamp-order.ts); absent when it holds none worth counting.
   */
  heldChars?(entry: E): number;
  /**
   * A shell command that sends the request again (HTTP: curl), for the TUI's copy key; absent
   * when the protocol has no such command. Quoted for POSIX sh, safe to paste.
   */
  replayCommand?(entry: E): string;
  /**
   * Rewrites, in place, the ids the entry holds of other entries of its capture (a WebSocket
   * message's `upgradeId`) with `rename`: tap makes ids unique across pods and merges the two
   * sightings of a call, and links must follow. Absent when the protocol's entries hold none.
   */
  relinkIds?(entry: E, rename: (id: string) => string): void;
  /** What its lost tally counts, for people; absent when its dissectors count none lost. */
  readonly lost?: LostExchanges;
  /**
   * Fields of `request` and `response` that `redact` never changes nor replaces (HTTP: the method
   * and the status), which `read F.ndjson --filter` may test before redacting to drop entries
   * early (src/pipeline/ndjson-quick-reject.ts). Absent: none, the sides are shown only redacted.
   */
  readonly keptByRedaction?: { readonly request: readonly string[]; readonly response: readonly string[] };
}
