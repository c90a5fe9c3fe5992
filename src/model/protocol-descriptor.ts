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
}

export type OutcomeClass = 'info' | 'success' | 'redirect' | 'client-error' | 'server-error' | 'none';

/** One field of a detail table; `selector` is the KFL path that reads it, when there is one. */
export interface DetailRow {
  readonly label: string;
  readonly value: string;
  readonly selector?: string;
}

/** Typed detail sections (never JSON strings parsed again: STYLE.md §9, "what not to copy"). */
export type DetailSection =
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

/** A bare KFL word (`dns`, `ws`, `http2`): true for entries of this protocol (or variant). */
export interface KflWord {
  readonly word: string;
  /** Reads only the entry's `protocol` object (name, version, abbr), as KFL hands it in. */
  matches(protocol: { readonly name: unknown; readonly version: unknown; readonly abbr: unknown }): boolean;
}

/** A KFL2 flat variable (`dns_questions`, `ws_opcode`): a dotted entry path or a computed value. */
export type KflVariable =
  | { readonly name: string; readonly kind: 'path'; readonly path: string }
  | { readonly name: string; readonly kind: 'computed'; readonly get: (entry: unknown) => unknown };

/**
 * Redaction the protocol asks for, applied in the agent before anything leaves the pod. The
 * redaction stage implements these primitives once (src/remote-agent/redact); a protocol only says
 * which of its fields are headers, bodies, URLs or parameter maps.
 */
export interface PayloadRedactor {
  /** Values of sensitive header names masked; returns a new map. */
  headers(headers: Readonly<Record<string, string>>): Record<string, string>;
  /** Sensitive keys/values masked in a body of this MIME type (text or base64 as kept). */
  body(mimeType: string, text: string, encoding?: 'base64'): string;
  /** Sensitive query parameters and userinfo masked in a URL or request target. */
  url(url: string): string;
  /** Sensitive keys of a parameter map masked. */
  params<V extends string | string[]>(params: Readonly<Record<string, V>>): Record<string, V>;
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
  readonly kfl: { readonly words: readonly KflWord[]; readonly variables: readonly KflVariable[] };
  /** Returns the entry with its payloads redacted (a new object; the input is not changed). */
  redact(entry: E, redactor: PayloadRedactor): E;
}
