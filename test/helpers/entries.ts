/**
 * The one entry builder of the tests: an HTTP/1.1 entry from a spec, every field that is not given
 * filled the same way (the request's path and query from its URL, sizes from heads and bodies, no
 * response meaning a pair-not-found error), built fresh per call so a test may change it freely.
 * Suites that want other defaults pass them (httpEntry below for KFL, testEntry in entry-store.ts,
 * makeEntry in tui-store.ts); none builds an entry by hand.
 */
import { isoFromMicros, type Endpoint, type Entry, type EntryError, type Protocol } from '../../src/model/entry.ts';
import { HTTP1_1, type HeaderMap, type HttpEntry, type HttpRequest, type HttpResponse, type PostData, type QueryMap, type ResponseContent } from '../../src/remote-agent/dissect/http1/entry.ts';

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
