/**
 * The one entry builder of the tests: an HTTP/1.1 entry from a spec (HTTP/2 and gRPC entries below
 * build on it), every field that is not given
 * filled the same way (the request's path and query from its URL, sizes from heads and bodies, no
 * response meaning a pair-not-found error), built fresh per call so a test may change it freely.
 * Suites that want other defaults pass them (httpEntry below for KFL, testEntry in entry-store.ts,
 * makeEntry in tui-store.ts); none builds an entry by hand.
 */
import { isoFromMicros, type Endpoint, type Entry, type EntryError, type Protocol } from '../../src/model/entry.ts';
import { grpcStatusName } from '../../src/remote-agent/dissect/grpc/call-headers.ts';
import type { GrpcCall, GrpcMessage, ProtoField } from '../../src/remote-agent/dissect/grpc/entry.ts';
import { GRPC, HTTP1_1, HTTP2, type HeaderMap, type Http2Reset, type HttpEntry, type HttpRequest, type HttpResponse, type PostData, type QueryMap, type ResponseContent } from '../../src/remote-agent/dissect/http1/entry.ts';

export interface EntrySpec {
  /** Default "0-0". */
  readonly id?: string;
  readonly protocol?: HttpEntry['protocol'];
  /** Over 10.0.0.1:40000, no name. */
  readonly src?: Partial<Endpoint>;
  /** Over 10.0.0.2:80, no name. */
  readonly dst?: Partial<Endpoint>;
  /** Request start, Unix µs (timestamp and startTime both come from it); default 2023-11-14T22:13:20Z. */
  readonly timestampUs?: number;
  /** Default 1 ms, 0 without a response. */
  readonly elapsedMs?: number;
  /** Default the request's heads and body. */
  readonly requestSize?: number;
  /** Default the response's heads and body, 0 without one. */
  readonly responseSize?: number;
  readonly tls?: boolean;
  /** Of the request and the response; default "HTTP/1.1". */
  readonly httpVersion?: string;
  readonly method?: string;
  /** Default "/"; the path and (unless given) the query come from it. */
  readonly url?: string;
  readonly path?: string;
  readonly queryString?: QueryMap;
  readonly requestHeaders?: HeaderMap;
  readonly requestCookies?: HeaderMap;
  readonly postData?: PostData | null;
  /** Default 100. */
  readonly requestHeadersSize?: number;
  /** Default the post data's length. */
  readonly requestBodySize?: number;
  /** null: no response (and, unless `error` says otherwise, a pair-not-found error). Default 200. */
  readonly status?: number | null;
  readonly statusText?: string;
  readonly responseHeaders?: HeaderMap;
  readonly responseCookies?: HeaderMap;
  /** Default an empty body. */
  readonly content?: ResponseContent;
  /** Default 200. */
  readonly responseHeadersSize?: number;
  /** Default the content's size (it differs once a body is decoded or cut). */
  readonly responseBodySize?: number;
  readonly error?: EntryError | null;
}

const NO_RESPONSE: EntryError = { type: 'pair-not-found', msg: 'no response' };

export function buildEntry(spec: EntrySpec = {}): HttpEntry {
  const url = spec.url ?? '/';
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const postData = spec.postData ?? null;
  const request: HttpRequest = {
    method: spec.method ?? 'GET',
    url,
    path: spec.path ?? url.split('?')[0]!,
    httpVersion: spec.httpVersion ?? 'HTTP/1.1',
    headers: spec.requestHeaders ?? {},
    cookies: spec.requestCookies ?? {},
    queryString: spec.queryString ?? (query === '' ? {} : Object.fromEntries(new URLSearchParams(query))),
    postData,
    headersSize: spec.requestHeadersSize ?? 100,
    bodySize: spec.requestBodySize ?? postData?.text.length ?? 0,
  };
  const status = spec.status === undefined ? 200 : spec.status;
  const content = spec.content ?? { size: 0, mimeType: '', text: '' };
  const response: HttpResponse | null =
    status === null
      ? null
      : {
          status,
          statusText: spec.statusText ?? '',
          httpVersion: spec.httpVersion ?? 'HTTP/1.1',
          headers: spec.responseHeaders ?? {},
          cookies: spec.responseCookies ?? {},
          content,
          headersSize: spec.responseHeadersSize ?? 200,
          bodySize: spec.responseBodySize ?? content.size,
        };
  const timestampUs = spec.timestampUs ?? 1_700_000_000_000_000;
  return {
    id: spec.id ?? '0-0',
    protocol: spec.protocol ?? HTTP1_1,
    src: { ip: '10.0.0.1', port: 40000, name: '', namespace: '', ...spec.src },
    dst: { ip: '10.0.0.2', port: 80, name: '', namespace: '', ...spec.dst },
    timestamp: Math.floor(timestampUs / 1000),
    startTime: isoFromMicros(timestampUs),
    elapsedTime: spec.elapsedMs ?? (response === null ? 0 : 1),
    requestSize: spec.requestSize ?? request.headersSize + request.bodySize,
    responseSize: spec.responseSize ?? (response === null ? 0 : response.headersSize + response.bodySize),
    tls: spec.tls ?? false,
    request,
    response,
    error: spec.error !== undefined ? spec.error : response === null ? NO_RESPONSE : null,
  };
}

/** The KFL tests' entry: a GET with headers, cookies, a repeated query parameter and a JSON response; `overrides` replace top-level fields. */
export function httpEntry(overrides: Partial<HttpEntry> = {}): HttpEntry {
  return {
    ...buildEntry({
      src: { port: 43210, name: 'frontend', namespace: 'shop' },
      dst: { port: 8080, name: 'carts', namespace: 'production' },
      elapsedMs: 12.5,
      requestSize: 120,
      responseSize: 300,
      url: '/api/v1/items?a=50&tag=x&tag=y',
      requestHeaders: { Host: 'carts', Accept: 'application/json', Authorization: 'Token abc', 'User-Agent': 'kube-probe/1.27+' },
      requestCookies: { Session: 's1' },
      queryString: { a: '50', tag: ['x', 'y'] },
      requestHeadersSize: 120,
      statusText: 'OK',
      responseHeaders: { 'Content-Type': 'application/json', 'X-Tenant': 'acme' },
      content: { size: 45, mimeType: 'application/json', text: '{"items":[{"id":7,"name":"a"}],"some":{"path":"somevalue"}}' },
      responseHeadersSize: 100,
    }),
    ...overrides,
  };
}

/** What an HTTP/2 exchange adds to an entry spec: its stream, a reset, trailers. */
export interface Http2EntrySpec extends EntrySpec {
  /** Default 1. */
  readonly streamId?: number;
  readonly reset?: Http2Reset;
  readonly trailers?: HeaderMap;
  /** Default "http". */
  readonly scheme?: string;
  /** Default "api:80". */
  readonly authority?: string;
}

/**
 * An HTTP/2 entry (protocol HTTP2, `HTTP/2.0` on both sides) as the HTTP/2 dissector builds one:
 * the request's pseudo-header fields first among its headers, `http2` with the stream, `trailers`
 * on the response when given. Other fields as buildEntry fills them.
 */
export function buildHttp2Entry(spec: Http2EntrySpec = {}): HttpEntry {
  const method = spec.method ?? 'GET';
  const url = spec.url ?? '/';
  const pseudo: HeaderMap = { ':method': method, ':scheme': spec.scheme ?? 'http', ':authority': spec.authority ?? 'api:80', ':path': url };
  const entry = buildEntry({
    ...spec,
    protocol: spec.protocol ?? HTTP2,
    httpVersion: 'HTTP/2.0',
    method,
    url,
    requestHeaders: { ...pseudo, ...spec.requestHeaders },
    dst: { port: 8080, ...spec.dst },
  });
  entry.http2 = { streamId: spec.streamId ?? 1, ...(spec.reset !== undefined ? { reset: spec.reset } : {}) };
  if (entry.response !== null && spec.trailers !== undefined) entry.response.trailers = spec.trailers;
  return entry;
}

export interface GrpcEntrySpec extends Http2EntrySpec {
  /** Default "shop.v1.Cart". */
  readonly service?: string;
  /** Default "GetCart". */
  readonly rpc?: string;
  /** `grpc-status`; default 0; null: the call ended without one (no trailers). */
  readonly grpcStatus?: number | null;
  /** `grpc-message`; default none. */
  readonly grpcMessage?: string | null;
  readonly timeoutMs?: number | null;
  /** Default "identity" each. */
  readonly requestEncoding?: string;
  readonly responseEncoding?: string;
  /** Default one empty message each side. */
  readonly requestMessages?: readonly GrpcMessage[];
  readonly responseMessages?: readonly GrpcMessage[];
  /** Default the kept messages' number. */
  readonly requestMessageCount?: number;
  readonly responseMessageCount?: number;
}

/** A message decoded with a schema: `json` in protobuf's JSON mapping, of `type`. */
export function schemaMessage(json: unknown, type = 'shop.v1.Item', size = JSON.stringify(json).length): GrpcMessage {
  return { size, compressed: false, type, json };
}

/** A message decoded without a schema: its field tree. */
export function rawMessage(fields: ProtoField[], size = 16): GrpcMessage {
  return { size, compressed: false, fields };
}

/**
 * A gRPC call as the HTTP/2 dissector builds one: a POST of `application/grpc` to
 * `/<service>/<rpc>`, protocol GRPC, `grpc` with the call, the status in the trailers (a call
 * without a status has none); the raw bodies hold the messages' bytes as base64, as kept.
 */
export function buildGrpcEntry(spec: GrpcEntrySpec = {}): HttpEntry {
  const service = spec.service ?? 'shop.v1.Cart';
  const rpc = spec.rpc ?? 'GetCart';
  const status = spec.grpcStatus === undefined ? 0 : spec.grpcStatus;
  const message = spec.grpcMessage ?? null;
  const requestMessages = [...(spec.requestMessages ?? [rawMessage([], 0)])];
  const responseMessages = [...(spec.responseMessages ?? [rawMessage([], 0)])];
  const rawBody = (messages: readonly GrpcMessage[]): { text: string; size: number } => {
    const size = messages.reduce((n, m) => n + 5 + m.size, 0);
    return { text: Buffer.alloc(size).toString('base64'), size };
  };
  const request = rawBody(requestMessages);
  const response = rawBody(responseMessages);
  const trailers: HeaderMap | undefined =
    status === null ? undefined : { 'grpc-status': String(status), ...(message !== null ? { 'grpc-message': encodeURIComponent(message) } : {}) };
  const entry = buildHttp2Entry({
    protocol: GRPC,
    method: 'POST',
    url: `/${service}/${rpc}`,
    requestHeaders: { 'content-type': 'application/grpc', te: 'trailers', ...(spec.timeoutMs != null ? { 'grpc-timeout': `${spec.timeoutMs}m` } : {}) },
    postData: { mimeType: 'application/grpc', text: request.text, encoding: 'base64' },
    requestBodySize: request.size,
    responseHeaders: { 'content-type': 'application/grpc' },
    content: { size: response.size, mimeType: 'application/grpc', text: response.text, encoding: 'base64' },
    ...(trailers !== undefined ? { trailers } : {}),
    ...spec,
  });
  const call: GrpcCall = {
    service,
    method: rpc,
    status,
    statusName: status === null ? null : grpcStatusName(status),
    message,
    requestEncoding: spec.requestEncoding ?? 'identity',
    responseEncoding: spec.responseEncoding ?? 'identity',
    timeoutMs: spec.timeoutMs ?? null,
    requestMessageCount: spec.requestMessageCount ?? requestMessages.length,
    responseMessageCount: spec.responseMessageCount ?? responseMessages.length,
    requestMessages,
    responseMessages,
  };
  entry.grpc = call;
  return entry;
}

/** What an entry of a protocol other than HTTP takes beyond the envelope's spec. */
export interface ProtocolEntrySpec<E extends Entry> {
  readonly protocol: E['protocol'];
  readonly request: E['request'];
  readonly response: E['response'];
}

/**
 * An entry of any protocol: the envelope as buildEntry makes it from `spec` (id, endpoints, times,
 * sizes, error), with the protocol's own request and response.
 */
export function buildProtocolEntry<E extends Entry>(parts: ProtocolEntrySpec<E>, spec: EntrySpec = {}): E {
  const envelope = buildEntry({ ...spec, status: parts.response === null ? null : 200 });
  return { ...envelope, protocol: parts.protocol, request: parts.request, response: parts.response } as unknown as E;
}
