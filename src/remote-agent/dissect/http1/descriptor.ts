/**
 * What HTTP tells everyone outside this folder (src/model/protocol-descriptor.ts): its list row,
 * detail sections, dedup key, service-map label, KFL vocabulary and redaction. Every HTTP variant
 * Kubeshark names "http" (1.0, 1.1, and the words for HTTP/2, gRPC and GraphQL) is described here.
 * Imports only src/model and this folder's entry.ts and descriptor helpers: KFL, the TUI and the
 * pipeline load it without the parser.
 */
import { kflString } from '../../../model/kfl-string.ts';
import type { DetailRow, DetailSection, KflVariable, KflWord, OutcomeClass, PayloadRedactor, ProtocolDescriptor, RowSummary } from '../../../model/protocol-descriptor.ts';
import { curlCommand } from './curl-command.ts';
import type { HeaderMap, Http2Stream, HttpEntry, QueryMap } from './entry.ts';
import { HTTP_KFL_READERS } from './kfl-readers.ts';

/** Long URLs are keyed by a prefix and their length: enough to tell calls apart, bounded in memory. */
const URL_KEY_CHARS = 256;

/** RFC 9110 §15 status classes; a number outside 100-599 (hostile traffic) has none. */
function statusClassOf(status: number | undefined): OutcomeClass {
  if (status === undefined || status <= 0 || status >= 600) return 'none';
  if (status < 200) return 'info';
  if (status < 300) return 'success';
  if (status < 400) return 'redirect';
  if (status < 500) return 'client-error';
  return 'server-error';
}

/** One row per value: repeated query parameters are arrays, and Set-Cookie fields are joined with LF. */
function mapRows(side: 'request' | 'response', field: string, map: HeaderMap | QueryMap): DetailRow[] {
  const rows: DetailRow[] = [];
  for (const name of Object.keys(map)) {
    const value = map[name];
    const selector = `${side}.${field}[${kflString(name)}]`;
    for (const one of Array.isArray(value) ? value : [value]) {
      for (const text of name.toLowerCase() === 'set-cookie' ? String(one).split('\n') : [String(one)]) rows.push({ label: name, value: text, selector });
    }
  }
  return rows;
}

/**
 * An HTTP row. A class, so a summary is cheap to make (rows are summarised for every frame drawn)
 * and its KFL queries are built only when asked for (on a click), by getters on the prototype.
 */
class HttpSummary implements RowSummary {
  readonly verb: string;
  readonly target: string;
  readonly outcome: string;
  readonly outcomeClass: OutcomeClass;
  readonly isError: boolean;
  readonly payloadBytes: number | undefined;
  readonly #entry: HttpEntry;

  constructor(entry: HttpEntry) {
    const { request, response } = entry;
    this.#entry = entry;
    this.verb = request.method;
    this.target = request.url;
    this.outcome = response === null ? '' : String(response.status);
    this.outcomeClass = response === null ? 'none' : statusClassOf(response.status);
    // A stream reset (HTTP/2 RST_STREAM) cut the exchange short, whatever its status said.
    this.isError = response === null || response.status >= 400 || entry.http2?.reset !== undefined;
    this.payloadBytes = response === null ? undefined : response.content.size;
  }

  get verbQuery(): string {
    return `request.method == ${kflString(String(this.#entry.request.method))}`;
  }

  get targetQuery(): string {
    return `request.url == ${kflString(String(this.#entry.request.url))}`;
  }

  get outcomeQuery(): string | undefined {
    const response = this.#entry.response;
    return response === null ? undefined : `response.status == ${statusLiteral(response.status)}`;
  }
}

/** The stream an HTTP/2 exchange was carried on, and its reset (who sent RST_STREAM, with which code). */
function http2Rows(stream: Http2Stream): DetailRow[] {
  const rows: DetailRow[] = [{ label: 'Id', value: String(stream.streamId), selector: 'http2.streamId' }];
  const reset = stream.reset;
  if (reset !== undefined) rows.push({ label: 'Reset', value: `by the ${reset.by}: ${reset.name} (0x${reset.code.toString(16)})`, selector: 'http2.reset.name' });
  return rows;
}

/** A status as a KFL literal: a number as it is, anything else NDJSON input may hold as a string. */
const statusLiteral = (status: unknown): string => (typeof status === 'number' && Number.isFinite(status) ? String(status) : kflString(String(status)));

const version = (httpVersion: string): string => httpVersion.replace(/^HTTP\//, '');

function represent(entry: HttpEntry): readonly DetailSection[] {
  const { request, response } = entry;
  const sections: DetailSection[] = [
    { kind: 'heading', title: 'Request', text: `${request.method} ${request.url} HTTP/${version(request.httpVersion)}` },
    { kind: 'table', title: 'Headers', rows: mapRows('request', 'headers', request.headers) },
    { kind: 'table', title: 'Query', rows: mapRows('request', 'queryString', request.queryString) },
    { kind: 'table', title: 'Cookies', rows: mapRows('request', 'cookies', request.cookies) },
  ];
  if (response === null) {
    sections.push({ kind: 'heading', title: 'Response', text: 'no response', outcomeClass: 'server-error', absent: true });
  } else {
    sections.push(
      {
        kind: 'heading',
        title: 'Response',
        text: `HTTP/${version(response.httpVersion)} ${response.status} ${response.statusText}`.trimEnd(),
        outcomeClass: statusClassOf(response.status),
      },
      { kind: 'table', title: 'Headers', rows: mapRows('response', 'headers', response.headers) },
      { kind: 'table', title: 'Cookies', rows: mapRows('response', 'cookies', response.cookies) },
    );
    if (response.trailers !== undefined) sections.push({ kind: 'table', title: 'Trailers', rows: mapRows('response', 'trailers', response.trailers) });
  }
  if (entry.http2 !== undefined) sections.push({ kind: 'table', title: 'HTTP/2 stream', rows: http2Rows(entry.http2) });
  const body = request.postData;
  if (body !== null) {
    sections.push({
      kind: 'body', title: 'Request body', mimeType: body.mimeType, text: body.text, sizeBytes: request.bodySize,
      ...(body.encoding !== undefined ? { encoding: body.encoding } : {}),
      ...(body.truncated !== undefined ? { truncated: body.truncated } : {}),
    });
  }
  const content = response?.content;
  if (content !== undefined && (content.text !== '' || content.size > 0)) {
    sections.push({
      kind: 'body', title: 'Response body', mimeType: content.mimeType, text: content.text, sizeBytes: content.size,
      ...(content.encoding !== undefined ? { encoding: content.encoding } : {}),
      ...(content.truncated !== undefined ? { truncated: content.truncated } : {}),
    });
  }
  return sections;
}

/**
 * Kubeshark's HTTP macros: every variant has protocol name "http", so `http` covers them all; the
 * others tell variants apart by version or abbreviation as Kubeshark's entries carry them.
 */
const WORDS: readonly KflWord[] = [
  { word: 'http', matches: (p) => p.name === 'http' },
  { word: 'http1', matches: (p) => p.name === 'http' && (p.version === '1.1' || p.version === '1.0') },
  { word: 'http2', matches: (p) => p.name === 'http' && p.version === '2.0' },
  { word: 'gql', matches: (p) => p.abbr === 'GQL' },
  { word: 'gqlv1', matches: (p) => p.abbr === 'GQL' && typeof p.version === 'string' && p.version.startsWith('1') },
  { word: 'gqlv2', matches: (p) => p.abbr === 'GQL' && p.version === '2.0' },
];

/** KFL2's HTTP variables. */
const VARIABLES: readonly KflVariable[] = (
  [
    ['method', 'request.method'],
    ['url', 'request.url'],
    ['path', 'request.path'],
    ['status_code', 'response.status'],
    ['http_version', 'request.httpVersion'],
    ['query_string', 'request.queryString'],
    ['request_body_size', 'request.bodySize'],
    ['response_body_size', 'response.bodySize'],
    ['request_headers_size', 'request.headersSize'],
    ['response_headers_size', 'response.headersSize'],
  ] as const
).map(([name, path]): KflVariable => ({ name, kind: 'path', path }));

/** Header and cookie names are case-insensitive (RFC 9110 §5.1, RFC 6265 §5.2 lets senders vary). */
const CASE_INSENSITIVE_MAPS = ['request.headers', 'response.headers', 'request.cookies', 'response.cookies', 'response.trailers'];

const PATHS: readonly string[] = [
  'request.method', 'request.url', 'request.path', 'request.httpVersion', 'request.headers',
  'request.cookies', 'request.queryString', 'request.postData', 'request.postData.mimeType', 'request.postData.text',
  'request.postData.encoding', 'request.postData.truncated', 'request.headersSize', 'request.bodySize',
  'response.status', 'response.statusText', 'response.httpVersion', 'response.headers', 'response.cookies',
  'response.content', 'response.content.size', 'response.content.mimeType', 'response.content.text',
  'response.content.encoding', 'response.content.truncated', 'response.headersSize', 'response.bodySize',
  'response.trailers', 'http2', 'http2.streamId', 'http2.reset', 'http2.reset.by', 'http2.reset.code', 'http2.reset.name',
];

/**
 * HTTP/2's request pseudo-header fields (RFC 9113 §8.3.1) hold the request target: `:path` is
 * redacted as the URL is (query secrets), and `:authority`, which must not carry userinfo, loses
 * any it carries anyway, read with `:scheme` as the URL it is part of.
 */
function redactPseudoHeaders(request: object, rules: PayloadRedactor): void {
  let headers: unknown;
  try {
    headers = (request as { readonly headers?: unknown }).headers;
  } catch {
    return; // A throwing getter: redactField above has replaced what it could.
  }
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return;
  const map = headers as Record<string, unknown>;
  if (typeof map[':path'] === 'string') rules.redactField(map, ':path', 'url');
  const authority = map[':authority'];
  if (typeof authority === 'string' && authority.includes('@')) {
    const scheme = typeof map[':scheme'] === 'string' ? map[':scheme'] : 'http';
    const prefix = `${scheme}://`;
    const redacted = rules.url(`${prefix}${authority}`);
    try {
      if (redacted !== prefix + authority) map[':authority'] = redacted.startsWith(prefix) ? redacted.slice(prefix.length) : rules.redacted;
    } catch {
      // A frozen map: nothing can be changed in place.
    }
  }
}

export const httpDescriptor: ProtocolDescriptor<HttpEntry> = Object.freeze({
  name: 'http',
  abbr: 'HTTP',
  longName: 'Hypertext Transfer Protocol',
  defaultPorts: Object.freeze([80, 8080, 8000, 3000, 5000, 8888]),
  referenceUrl: 'https://www.rfc-editor.org/rfc/rfc9112',
  summarize: (entry: HttpEntry): RowSummary => new HttpSummary(entry),
  represent,
  dedupKey(entry: HttpEntry) {
    const url = entry.request.url;
    const urlKey = url.length > URL_KEY_CHARS ? `${url.slice(0, URL_KEY_CHARS)}…${url.length}` : url;
    // HTTP/2: both ends number the connection's streams alike, which tells concurrent calls apart.
    return entry.http2 === undefined ? `${entry.request.method}|${urlKey}` : `${entry.request.method}|${urlKey}|${entry.http2.streamId}`;
  },
  // Kubeshark's abbreviation is the variant (HTTP, HTTP/2, gRPC, GQL): HTTP/2 and gRPC stay apart.
  edgeLabel: (entry: HttpEntry) => entry.protocol.abbr,
  // Only HTTP/2 counts lost (http2/connection.ts): streams whose request header block could not be
  // decoded (HPACK's table, per connection, was built before the capture or lost in a gap), or
  // whose response came without a captured request.
  lost: Object.freeze({
    one: 'HTTP/2 stream',
    many: 'HTTP/2 streams',
    why:
      'their request headers could not be read (HTTP/2 compresses headers with state kept per connection, so connections that were open ' +
      'before the tap started, or that lost bytes in the capture, cannot be decoded)',
    remedy: 'calls on connections opened from now on are shown: restart the client or wait for it to reconnect',
    brief: 'headers unreadable on connections open before the tap: new ones are shown',
  }),
  // Redaction rewrites headers, URLs and bodies, never the method nor the status.
  keptByRedaction: Object.freeze({ request: Object.freeze(['method']), response: Object.freeze(['status']) }),
  kfl: Object.freeze({
    words: Object.freeze(WORDS),
    variables: Object.freeze(VARIABLES),
    paths: Object.freeze(PATHS),
    caseInsensitiveMaps: Object.freeze(CASE_INSENSITIVE_MAPS),
    openMaps: Object.freeze(['request.queryString']),
    readers: HTTP_KFL_READERS,
  }),
  redact(entry: HttpEntry, redactor: PayloadRedactor) {
    const request: unknown = entry.request;
    if (request !== null && typeof request === 'object') {
      let rules = redactor;
      try {
        const req = request as { readonly url?: unknown; readonly path?: unknown };
        rules = redactor.forRequestTarget(req.url, req.path);
      } catch {
        // A getter that throws (only on hand-made entries): the default rules, and the fields below guard themselves.
      }
      rules.redactField(request, 'headers', 'headers');
      redactPseudoHeaders(request, rules);
      rules.redactField(request, 'cookies', 'cookies');
      rules.redactField(request, 'queryString', 'query');
      rules.redactField(request, 'url', 'url');
      rules.redactField(request, 'postData', 'body');
    }
    const response: unknown = entry.response;
    if (response !== null && typeof response === 'object') {
      redactor.redactField(response, 'headers', 'headers');
      redactor.redactField(response, 'cookies', 'cookies');
      redactor.redactField(response, 'content', 'body');
      redactor.redactField(response, 'trailers', 'headers');
    }
    return entry;
  },
  bodySizes: (entry: HttpEntry) => ({ request: entry.request.bodySize, response: entry.response === null ? null : entry.response.bodySize }),
  heldChars: (entry: HttpEntry) => (entry.request.postData?.text.length ?? 0) + (entry.response?.content.text.length ?? 0),
  replayCommand: curlCommand,
});
