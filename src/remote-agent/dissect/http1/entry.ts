/**
 * The HTTP entry: Kubeshark's HAR-shaped request and response on the shared envelope
 * (src/model/entry-envelope.ts). Imports only src/model: the descriptor, KFL, the TUI and the
 * pipeline read these types without loading the parser.
 *
 * Size conventions (HAR 1.2 and tshark's two HTTP body figures):
 * - `requestSize` / `responseSize` (envelope): bytes of the whole message on the wire (start line,
 *   headers, body with its transfer framing).
 * - `headersSize`: bytes of the start line and headers, including the blank line.
 * - `bodySize`: bytes of the message body after transfer decoding (chunked framing removed) but
 *   before content decoding (gzip/deflate/br still applied) — tshark's `response_body_size`.
 * - `content.size`: bytes of the body after content decoding — tshark's decoded size.
 * Bodies are kept up to a limit; the sizes always count the whole body.
 */
import type { BodyEncoding, EntryEnvelope } from '../../../model/entry-envelope.ts';
import type { GrpcCall } from '../grpc/entry.ts';

/** An HTTP entry among entries of every protocol (tests and tools that look at HTTP only). */
export function isHttpEntry(entry: EntryEnvelope): entry is HttpEntry {
  return entry.protocol.name === 'http';
}

/** Header and cookie maps keep the original case of names; repeated headers are joined. */
export type HeaderMap = Record<string, string>;
/** Repeated query parameters become arrays. */
export type QueryMap = Record<string, string | string[]>;

export interface PostData {
  mimeType: string;
  text: string;
  /** Present when `text` is base64 because the decoded body is not UTF-8. */
  encoding?: BodyEncoding;
  /** Present and true when only the first `--max-body` bytes are kept in `text`. */
  truncated?: boolean;
}

export interface HttpRequest {
  method: string;
  /** The request target as sent (origin-form path with query, or absolute-form). */
  url: string;
  /** The path without the query string. */
  path: string;
  httpVersion: string;
  headers: HeaderMap;
  cookies: HeaderMap;
  queryString: QueryMap;
  postData: PostData | null;
  headersSize: number;
  bodySize: number;
}

export interface ResponseContent {
  /** Decoded body length in bytes (whole body, not only the kept part). */
  size: number;
  mimeType: string;
  text: string;
  encoding?: BodyEncoding;
  truncated?: boolean;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: HeaderMap;
  cookies: HeaderMap;
  content: ResponseContent;
  headersSize: number;
  bodySize: number;
  /** HTTP/2: the trailer fields (a HEADERS block after the body), when the stream had them. */
  trailers?: HeaderMap;
}

/** RST_STREAM (RFC 9113 §6.4) of an HTTP/2 stream: who sent it and its error code. */
export interface Http2Reset {
  by: 'client' | 'server';
  /** The error code (RFC 9113 §7). */
  code: number;
  /** Its name: `CANCEL`, `PROTOCOL_ERROR`, ...; `0x<hex>` for a code RFC 9113 does not define. */
  name: string;
}

/** What an HTTP/2 exchange adds: the stream it was carried on. */
export interface Http2Stream {
  streamId: number;
  /** Present when the stream was reset (the entry's `error` says so too). */
  reset?: Http2Reset;
}

/**
 * Kubeshark's protocol name: every HTTP variant (1.x, 2, gRPC, GraphQL) is "http". HTTP/2 entries
 * (`protocol.version` "2.0", `request.httpVersion` "HTTP/2.0") add `http2`; gRPC calls (`abbr`
 * "gRPC") add `grpc` too.
 */
export type HttpEntry = EntryEnvelope<'http', HttpRequest, HttpResponse> & {
  http2?: Http2Stream;
  grpc?: GrpcCall;
};

export const HTTP1_0: HttpEntry['protocol'] = Object.freeze({ name: 'http', version: '1.0', abbr: 'HTTP' } as const);
export const HTTP1_1: HttpEntry['protocol'] = Object.freeze({ name: 'http', version: '1.1', abbr: 'HTTP' } as const);
export const HTTP2: HttpEntry['protocol'] = Object.freeze({ name: 'http', version: '2.0', abbr: 'HTTP/2' } as const);
/** Kubeshark's gRPC: HTTP/2 whose content type is `application/grpc` (or `application/grpc+...`). */
export const GRPC: HttpEntry['protocol'] = Object.freeze({ name: 'http', version: '2.0', abbr: 'gRPC' } as const);
