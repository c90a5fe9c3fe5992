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
}

/** Kubeshark's protocol name: every HTTP variant (1.x, 2, gRPC, GraphQL) is "http". */
export type HttpEntry = EntryEnvelope<'http', HttpRequest, HttpResponse>;

export const HTTP1_0: HttpEntry['protocol'] = Object.freeze({ name: 'http', version: '1.0', abbr: 'HTTP' } as const);
export const HTTP1_1: HttpEntry['protocol'] = Object.freeze({ name: 'http', version: '1.1', abbr: 'HTTP' } as const);
