/**
 * The entry: one request/response pair, defined once for agent, filter, TUI and outputs.
 *
 * Field names follow Kubeshark's entry JSON (see shared research, "Entry data model") so that
 * KFL filters written for Kubeshark keep working; request/response are HAR-shaped.
 *
 * Size conventions (HAR 1.2 and tshark's two HTTP body figures):
 * - `requestSize` / `responseSize`: bytes of the whole message on the wire (start line, headers,
 *   body with its transfer framing).
 * - `headersSize`: bytes of the start line and headers, including the blank line.
 * - `bodySize`: bytes of the message body after transfer decoding (chunked framing removed) but
 *   before content decoding (gzip/deflate/br still applied) — tshark's `response_body_size`.
 * - `content.size`: bytes of the body after content decoding — tshark's decoded size.
 * Bodies are kept up to a limit; the sizes always count the whole body.
 */

export interface Protocol {
  /** Kubeshark's protocol name: every HTTP variant is "http". */
  readonly name: string;
  readonly version: string;
  readonly abbr: string;
}

export interface Endpoint {
  ip: string;
  port: number;
  /**
   * Workload or host name when known, else "": from a cluster, the service's name when a service
   * covers the address, else the workload (Deployment) or pod name; from a capture file, its
   * name records.
   */
  name: string;
  namespace: string;
  /** From a cluster: the pod owning the address ("" when it is not a pod's). Absent otherwise. */
  pod?: string;
  /** From a cluster: the service whose address this is or whose endpoints include it, else "". */
  service?: string;
}

/** Header and cookie maps keep the original case of names; repeated headers are joined. */
export type HeaderMap = Record<string, string>;
/** Repeated query parameters become arrays. */
export type QueryMap = Record<string, string | string[]>;

export type BodyEncoding = 'base64';

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

export type EntryErrorType = 'timeout' | 'connection' | 'dissection' | 'pair-not-found';

export interface EntryError {
  type: EntryErrorType;
  msg: string;
}

export interface Entry {
  /** Deterministic: `<connection index>-<pair index within the connection>`. */
  id: string;
  protocol: Protocol;
  /** The client. */
  src: Endpoint;
  /** The server. */
  dst: Endpoint;
  /** Request start, Unix milliseconds (integer). */
  timestamp: number;
  /** Request start, ISO 8601 with microseconds. */
  startTime: string;
  /** Response start minus request start, milliseconds (float); 0 when there is no response. */
  elapsedTime: number;
  requestSize: number;
  responseSize: number;
  /** True when the plaintext came through eBPF TLS capture. */
  tls: boolean;
  request: HttpRequest;
  response: HttpResponse | null;
  error: EntryError | null;
}

export const HTTP1_0: Protocol = Object.freeze({ name: 'http', version: '1.0', abbr: 'HTTP' });
export const HTTP1_1: Protocol = Object.freeze({ name: 'http', version: '1.1', abbr: 'HTTP' });

/** ISO 8601 with microsecond precision from a capture time in microseconds. */
export function isoFromMicros(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  const micros = Math.floor(tsUs - ms * 1000);
  const iso = new Date(ms).toISOString(); // ...sss Z
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}
