/**
 * KFL conformance data: entry fixtures and named cases (query, entry, expected truth).
 *
 * Every row of shared/kfl/queries.md appears here with the meaning that file gives it, followed by
 * one group per construct of the language (paths, comparisons, regex, arrays, `in`, functions,
 * methods, time, arithmetic, precedence, null handling, protocol words, KFL2 aliases). The runner
 * is kfl-cases.test.ts; other tables here (errors, warnings, redact, limit) are driven there too.
 *
 * Fixtures are realistic entries made by one typed builder. Entries of protocols we do not dissect
 * yet (DNS, Redis, AMQP, Kafka) carry their protocol-specific request/response shapes through one
 * documented cast, so that queries written for those protocols can be checked on their
 * protocol-agnostic parts.
 */
import type { Endpoint, EntryError, Protocol } from '../../src/model/entry.ts';
import type { HeaderMap, HttpEntry, HttpRequest, HttpResponse, PostData, QueryMap } from '../../src/remote-agent/dissect/http1/entry.ts';
import { buildEntry, buildGrpcEntry } from '../helpers/entries.ts';

/** "Now" for every compile: 2024-06-01T12:00:00Z. */
export const NOW_MS = Date.UTC(2024, 5, 1, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// ---------------------------------------------------------------------------------------------
// Builder

interface RequestSpec {
  readonly method: string;
  readonly url: string;
  readonly httpVersion?: string;
  readonly headers?: HeaderMap;
  readonly cookies?: HeaderMap;
  readonly postData?: PostData | null;
}

interface ResponseSpec {
  readonly status: number;
  readonly statusText: string;
  readonly headers?: HeaderMap;
  readonly cookies?: HeaderMap;
  readonly mimeType?: string;
  /** Body as sent; stored as base64 with `encoding: 'base64'` when `base64` is true. */
  readonly body?: string;
  readonly base64?: boolean;
}

interface EntrySpec {
  readonly id: string;
  readonly protocol: HttpEntry['protocol'];
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly timestamp: number;
  readonly elapsedTime: number;
  readonly tls?: boolean;
  readonly request: RequestSpec;
  readonly response: ResponseSpec | null;
  readonly error?: EntryError | null;
}

function splitQuery(url: string): { path: string; queryString: QueryMap } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const queryString: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const pair of url.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      const previous = queryString[key];
      queryString[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
  }
  return { path, queryString };
}

function headerBytes(startLine: string, headers: HeaderMap): number {
  let n = startLine.length + 2 + 2;
  for (const [k, v] of Object.entries(headers)) n += k.length + 2 + v.length + 2;
  return n;
}

function buildRequest(spec: RequestSpec): HttpRequest {
  const httpVersion = spec.httpVersion ?? 'HTTP/1.1';
  const headers = spec.headers ?? {};
  const { path, queryString } = splitQuery(spec.url);
  const bodySize = spec.postData ? Buffer.byteLength(spec.postData.text) : 0;
  return {
    method: spec.method,
    url: spec.url,
    path,
    httpVersion,
    headers,
    cookies: spec.cookies ?? {},
    queryString,
    postData: spec.postData ?? null,
    headersSize: headerBytes(`${spec.method} ${spec.url} ${httpVersion}`, headers),
    bodySize,
  };
}

function buildResponse(spec: ResponseSpec, httpVersion: string): HttpResponse {
  const headers = spec.headers ?? {};
  const body = spec.body ?? '';
  const size = Buffer.byteLength(body);
  return {
    status: spec.status,
    statusText: spec.statusText,
    httpVersion,
    headers,
    cookies: spec.cookies ?? {},
    content: {
      size,
      mimeType: spec.mimeType ?? '',
      text: spec.base64 ? Buffer.from(body).toString('base64') : body,
      ...(spec.base64 ? { encoding: 'base64' as const } : {}),
    },
    headersSize: headerBytes(`${httpVersion} ${spec.status} ${spec.statusText}`, headers),
    bodySize: size,
  };
}

/** Freezes the whole object graph: a filter that writes into an entry throws in the test. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function httpEntry(spec: EntrySpec): HttpEntry {
  const request = buildRequest(spec.request);
  const response = spec.response ? buildResponse(spec.response, request.httpVersion) : null;
  return deepFreeze(
    buildEntry({
      id: spec.id,
      protocol: spec.protocol,
      src: spec.src,
      dst: spec.dst,
      timestampUs: spec.timestamp * 1000,
      elapsedMs: spec.elapsedTime,
      tls: spec.tls ?? false,
      httpVersion: request.httpVersion,
      method: request.method,
      url: request.url,
      path: request.path,
      queryString: request.queryString,
      requestHeaders: request.headers,
      requestCookies: request.cookies,
      postData: request.postData,
      requestHeadersSize: request.headersSize,
      requestBodySize: request.bodySize,
      status: response?.status ?? null,
      ...(response === null
        ? {}
        : { statusText: response.statusText, responseHeaders: response.headers, responseCookies: response.cookies, content: response.content, responseHeadersSize: response.headersSize }),
      error: spec.error ?? null,
    }),
  );
}

/**
 * An entry of a protocol that is not HTTP: its request/response are the protocol's own objects
 * (Kubeshark's shapes). The HttpEntry union has only the protocols we dissect, hence the single cast here.
 */
export function otherEntry(base: HttpEntry, id: string, protocol: Protocol, request: object, response: object | null): HttpEntry {
  return deepFreeze({ ...base, id, protocol, request, response } as unknown as HttpEntry);
}

/** A copy of an entry with some top-level fields replaced (frozen too). */
export function variant(base: HttpEntry, changes: Partial<HttpEntry> & { id: string }): HttpEntry {
  return deepFreeze({ ...base, ...changes });
}

function ep(ip: string, port: number, name: string, namespace: string): Endpoint {
  return { ip, port, name, namespace };
}

const HTTP1_0: HttpEntry['protocol'] = { name: 'http', version: '1.0', abbr: 'HTTP' };
const HTTP1_1: HttpEntry['protocol'] = { name: 'http', version: '1.1', abbr: 'HTTP' };
const HTTP2: HttpEntry['protocol'] = { name: 'http', version: '2.0', abbr: 'HTTP/2' };
const GRPC: HttpEntry['protocol'] = { name: 'http', version: '2.0', abbr: 'gRPC' };
const GQL: HttpEntry['protocol'] = { name: 'http', version: '1.1', abbr: 'GQL' };
const WS: HttpEntry['protocol'] = { name: 'http', version: '1.1', abbr: 'WS' };
const DNS: Protocol = { name: 'dns', version: '0', abbr: 'DNS' };
const REDIS: Protocol = { name: 'redis', version: '3.x', abbr: 'REDIS' };
const AMQP: Protocol = { name: 'amqp', version: '0-9-1', abbr: 'AMQP' };
const KAFKA: Protocol = { name: 'kafka', version: '12', abbr: 'KAFKA' };
const POSTGRES: Protocol = { name: 'postgresql', version: '3.0', abbr: 'PG' };

// ---------------------------------------------------------------------------------------------
// Fixtures

const USERS_JSON = JSON.stringify({
  users: [
    { name: 'ada', id: 1, roles: ['admin', 'dev'] },
    { name: 'bob', id: 2, roles: [] },
  ],
  total: 2,
  some: { path: 'somevalue' },
  meta: { owner: { name: 'carol' } },
});

/** GET 200 with a JSON body, names and namespaces on both sides, 2 minutes before now. */
export const getJson = httpEntry({
  id: 'get-json',
  protocol: HTTP1_1,
  src: ep('10.0.0.5', 40112, 'frontend', 'shop'),
  dst: ep('10.0.1.7', 8080, 'users-api', 'production'),
  timestamp: NOW_MS - 2 * MINUTE,
  elapsedTime: 12.5,
  request: {
    method: 'GET',
    url: '/api/v1/users?page=2&sort=name',
    headers: {
      Host: 'users-api.production:8080',
      Accept: 'application/json, text/plain, */*',
      'User-Agent': 'curl/8.5.0',
      'X-Tenant': 'acme',
      Authorization: 'Token abc123',
    },
  },
  response: {
    status: 200,
    statusText: 'OK',
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(USERS_JSON.length) },
    mimeType: 'application/json',
    body: USERS_JSON,
  },
});

/** POST 500 from a probe; JSON request body; response body base64; slow (6.2 s); 3 hours ago. */
export const post500 = httpEntry({
  id: 'post-500',
  protocol: HTTP1_1,
  src: ep('192.168.49.2', 51000, 'node-exporter', 'monitoring'),
  dst: ep('10.0.2.9', 80, 'carts', 'production'),
  timestamp: NOW_MS - 3 * HOUR,
  elapsedTime: 6200.75,
  request: {
    method: 'POST',
    url: '/api/v2/orders',
    headers: {
      Host: 'carts',
      'User-Agent': 'kube-probe/1.27+',
      'Content-Type': 'application/json',
      'Content-Length': '23',
      Authorization: 'Bearer xyz',
    },
    postData: { mimeType: 'application/json', text: '{"item":"book","qty":3}' },
  },
  response: {
    status: 500,
    statusText: 'Internal Server Error',
    headers: { 'Content-Type': 'application/json' },
    mimeType: 'application/json',
    body: '{"error":{"code":"E42","message":"db down","retry":false}}',
    base64: true,
  },
});

/** HTTP/1.0 GET 404 with cookies both ways and a query string with a repeated key; 10 hours ago. */
export const get404 = httpEntry({
  id: 'get-404',
  protocol: HTTP1_0,
  src: ep('10.1.0.3', 33000, 'web', 'ns1'),
  dst: ep('10.2.0.4', 80, 'catalogue', 'ns2'),
  timestamp: NOW_MS - 10 * HOUR,
  elapsedTime: 3,
  request: {
    method: 'GET',
    url: '/catalogue?q=red&q=blue&a=50&x=red',
    httpVersion: 'HTTP/1.0',
    headers: { Host: 'catalogue', Accept: 'text/html', Cookie: 'session=s1; theme=dark', X: 'y', 'X-Quote': 'say "hi"\\now' },
    cookies: { session: 's1', theme: 'dark' },
  },
  response: {
    status: 404,
    statusText: 'Not Found',
    headers: { 'Content-Type': 'text/plain', 'Set-Cookie': 'seen=1', Y: 'red' },
    cookies: { seen: '1' },
    mimeType: 'text/plain',
    body: 'no such page: /catalogue\n',
  },
});

/** A request that never got a response: response null, error set, 1.5 s after now. */
export const timeout = httpEntry({
  id: 'timeout',
  protocol: HTTP1_1,
  src: ep('10.3.0.8', 44000, 'kubelet', 'kube-system'),
  dst: ep('93.184.216.34', 443, 'api.example.com', ''),
  timestamp: NOW_MS + 1500,
  elapsedTime: 0,
  request: { method: 'GET', url: '/actuator/health', headers: { Host: 'api.example.com' } },
  response: null,
  error: { type: 'timeout', msg: 'no response within 120 s' },
});

/** HTTP/2 over eBPF TLS: 204 (so `== r"4.*"` matches it), 5.2 s, 30 s ago. */
export const h2Tls = httpEntry({
  id: 'h2-tls',
  protocol: HTTP2,
  tls: true,
  src: ep('10.0.0.6', 52000, 'checkout', 'shop'),
  dst: ep('10.0.3.3', 443, 'payments', 'production'),
  timestamp: NOW_MS - 30_000,
  elapsedTime: 5200,
  request: {
    method: 'GET',
    url: '/api/v3/items?id=7',
    httpVersion: 'HTTP/2.0',
    headers: { ':method': 'GET', ':path': '/api/v3/items?id=7', ':authority': 'payments', accept: 'application/json' },
  },
  response: { status: 204, statusText: 'No Content' },
});

/** gRPC (HTTP/2) call; `:path` contains "Foo". */
export const grpcCall = httpEntry({
  id: 'grpc',
  protocol: GRPC,
  src: ep('10.0.0.6', 52002, 'checkout', 'shop'),
  dst: ep('10.0.4.4', 50051, 'catalog', 'shop'),
  timestamp: NOW_MS - 40_000,
  elapsedTime: 4,
  request: {
    method: 'POST',
    url: '/shop.Catalog/FindFoo',
    httpVersion: 'HTTP/2.0',
    headers: { ':path': '/shop.Catalog/FindFoo', 'content-type': 'application/grpc' },
  },
  response: { status: 200, statusText: 'OK', headers: { 'content-type': 'application/grpc', 'grpc-status': '0' } },
});

/** gRPC calls as the HTTP/2 dissector writes them (with `grpc`): NOT_FOUND, and OK. */
export const grpcNotFound = buildGrpcEntry({ id: 'grpc-5', service: 'shop.Catalog', rpc: 'FindFoo', grpcStatus: 5, grpcMessage: 'no foo', timestampUs: (NOW_MS - 30_000) * 1000 });
export const grpcOk = buildGrpcEntry({ id: 'grpc-0', service: 'shop.Catalog', rpc: 'FindFoo', timestampUs: (NOW_MS - 20_000) * 1000 });

/** A DNS entry: Kubeshark's DNS request/response shapes, no HTTP fields at all. */
export const dnsQuery = otherEntry(
  variant(getJson, { id: 'dns-base', src: ep('10.0.0.5', 53111, 'frontend', 'shop'), dst: ep('10.96.0.10', 53, 'kube-dns', 'kube-system'), elapsedTime: 0.8, timestamp: NOW_MS - MINUTE }),
  'dns',
  DNS,
  { opCode: 'Query', questions: [{ name: 'google.com', type: 'A', class: 'IN' }] },
  { code: 'No Error', answers: [{ name: 'google.com', type: 'A', class: 'IN', ttl: 300, ip: '142.250.74.14' }] },
);

export const redisGet = otherEntry(getJson, 'redis', REDIS, { type: 'request', command: 'GET', key: 'key' }, { type: 'response', value: 'v' });
export const amqpPublish = otherEntry(getJson, 'amqp', AMQP, { method: 'basic publish', queue: 'test-queue', exchange: 'x' }, null);
export const kafkaFetch = otherEntry(getJson, 'kafka', KAFKA, { apiKeyName: 'Fetch', clientID: 'c1' }, { payload: { errorCode: 2 } });
export const pgQuery = otherEntry(getJson, 'pg', POSTGRES, { query: 'SELECT 1' }, null);

export const putJson = variant(getJson, { id: 'put', request: { ...getJson.request, method: 'PUT' } });
export const gqlPost = variant(getJson, { id: 'gql', protocol: GQL });
export const wsUpgrade = variant(getJson, { id: 'ws', protocol: WS });
/** Kubeshark's own wildcard example: a path held as an array of segments. */
export const pathSegments = variant(getJson, {
  id: 'path-segments',
  request: { ...getJson.request, path: ['api', 'v1', 'example'] as unknown as string },
});

/** The local-time instant `datetime("10/28/2021, 9:13:02.905 PM")` denotes (machine local time). */
export const LOCAL_2021_10_28 = new Date(2021, 9, 28, 21, 13, 2, 905).getTime();
export const justBefore2021 = variant(getJson, { id: 'before-2021-10-28', timestamp: LOCAL_2021_10_28 - 1 });
export const exactly2021 = variant(getJson, { id: 'at-2021-10-28', timestamp: LOCAL_2021_10_28 });

/** The HTTP fixtures, for "matches every entry" style rows. */
export const HTTP_FIXTURES: readonly HttpEntry[] = [getJson, post500, get404, timeout, h2Tls, grpcCall];
export const ALL_FIXTURES: readonly HttpEntry[] = [...HTTP_FIXTURES, dnsQuery, redisGet, amqpPublish, kafkaFetch, pgQuery, gqlPost, wsUpgrade];

// ---------------------------------------------------------------------------------------------
// Cases

export interface KflCase {
  readonly name: string;
  readonly query: string;
  readonly entry: HttpEntry;
  readonly expected: boolean;
}

const cases: KflCase[] = [];

/** One query, several entries: one named case per entry. */
function rows(label: string, query: string, expectations: ReadonlyArray<readonly [HttpEntry, boolean]>): void {
  for (const [entry, expected] of expectations) cases.push({ name: `${label} [${entry.id}]`, query, entry, expected });
}

/** One query, one entry. */
function row(label: string, query: string, entry: HttpEntry, expected: boolean): void {
  cases.push({ name: `${label} [${entry.id}]`, query, entry, expected });
}

// --- queries.md, every row --------------------------------------------------------------------

rows('q1 status as string matches 4.* unanchored', 'http and response.status == r"4.*"', [
  [get404, true],
  [h2Tls, true], // 204 contains a 4
  [getJson, false],
  [post500, false],
  [timeout, false],
]);
rows(
  'q2 canonical v1 demo',
  'http and request.method == "GET" and request.path != "/example" and (request.queryString["a"] > 42 or request.headers["x"] == "y")',
  [
    [get404, true], // a=50 > 42, and header X is y
    [getJson, false], // no a, no x
    [post500, false],
  ],
);
rows('q3 status 201 (number)', 'response.status == 201', [
  [getJson, false],
  [variant(getJson, { id: 'status-201', response: { ...getJson.response!, status: 201 } }), true],
  [variant(getJson, { id: 'status-201-string', response: { ...getJson.response!, status: '201' as unknown as number } }), true],
  [timeout, false],
]);
rows('q4 exact path', 'http and request.path == "/catalogue"', [
  [get404, true],
  [getJson, false],
  [dnsQuery, false],
]);
rows('q5 any other path', 'http and request.path != "/catalogue"', [
  [get404, false],
  [getJson, true],
  [timeout, true],
  [dnsQuery, false], // not http
]);
rows('q6 Accept header regex', 'http and request.headers["Accept"] == r"application/json.*"', [
  [getJson, true],
  [h2Tls, true], // header name is lower-case "accept" there
  [get404, false],
  [post500, false], // no Accept header
]);
rows('q7 numeric status', 'http and response.status >= 400', [
  [get404, true],
  [post500, true],
  [getJson, false],
  [timeout, false],
]);
rows('q8 before a local datetime', 'timestamp < datetime("10/28/2021, 9:13:02.905 PM")', [
  [justBefore2021, true],
  [exactly2021, false],
  [getJson, false],
]);
rows(
  'q9 multi-protocol',
  '(http and request.method == "PUT") or (amqp and request.queue.startsWith("test")) or (kafka and response.payload.errorCode == 2) or (redis and request.key == "example") or (grpc and request.headers[":path"] == r".*foo.*")',
  [
    [putJson, true],
    [getJson, false],
    [amqpPublish, true],
    [kafkaFetch, true],
    [redisGet, false], // key is "key", not "example"
    [grpcCall, false], // ":path" has "Foo", the regex is case-sensitive
    [dnsQuery, false],
  ],
);
rows('q10 to a workload', 'http and dst.name == "carts"', [
  [post500, true],
  [getJson, false],
]);
rows(
  'q11 field-to-field',
  'http and (request.queryString["x"] == response.headers["y"] or response.content.text.contains(request.queryString["x"]))',
  [
    [get404, true], // x=red, response header Y: red
    // x=red, Y: blue, and the body does not contain "red"
    [variant(get404, { id: 'x-differs', response: { ...get404.response!, headers: { Y: 'blue' } } }), false],
    // Neither side exists: nil == nil is true (a missing field is nil, and nil equals nil).
    [getJson, true],
    [timeout, true],
  ],
);
rows('q12 prefix', 'request.path.startsWith("something")', [
  [variant(getJson, { id: 'something-path', request: { ...getJson.request, path: '/x', url: '/x' } }), false],
  [variant(getJson, { id: 'something-prefix', request: { ...getJson.request, path: 'something/else' } }), true],
  [getJson, false],
]);
rows('q12b prefix on a real path', 'request.path.startsWith("/api/")', [
  [getJson, true],
  [post500, true],
  [get404, false],
  [dnsQuery, false],
]);
rows('q13 into a JSON body', 'response.content.text.json().some.path == "somevalue"', [
  [getJson, true],
  [post500, false],
  [get404, false], // not JSON
  [timeout, false],
]);
rows('q14 redact keeps the predicate of its other part', 'http and redact("request.path", "src.name")', [
  [getJson, true],
  [dnsQuery, false],
]);
rows('q15 limit keeps the predicate of its other part', 'http and limit(100)', [
  [getJson, true],
  [dnsQuery, false],
]);
rows('q16 from now on', 'timestamp >= now()', [
  [timeout, true], // 1.5 s after now
  [getJson, false],
]);
rows('q17 http or dns', 'http or dns', [
  [getJson, true],
  [h2Tls, true],
  [dnsQuery, true],
  [redisGet, false],
]);
rows('q18 token auth except one client', 'request.headers["Authorization"] == r"Token.*" and src.ip != "192.168.49.2"', [
  [getJson, true],
  [post500, false], // Bearer, and the excluded IP
  [variant(getJson, { id: 'token-excluded-ip', src: ep('192.168.49.2', 1, 'x', 'y') }), false],
  [get404, false],
]);
rows(
  'q19 500s to a probe from one source',
  '(response.status == 500) and (request.headers["User-Agent"] == "kube-probe/1.27+") and (src.name == "node-exporter")',
  [
    [post500, true],
    [getJson, false],
  ],
);
rows('q20 no collapse on DNS', 'response.status > 400 or dns', [
  [dnsQuery, true],
  [post500, true],
  [get404, true],
  [getJson, false],
  [timeout, false],
]);
rows('q21 everything but DNS', '!dns', [
  [dnsQuery, false],
  [getJson, true],
  [redisGet, true],
]);
rows('q22 leaving the cluster', 'dst.namespace == ""', [
  [timeout, true],
  [getJson, false],
]);
rows(
  'q23 between two namespaces',
  '(src.namespace == "ns1" and dst.namespace == "ns2") or (src.namespace == "ns2" and dst.namespace == "ns1")',
  [
    [get404, true],
    [variant(get404, { id: 'ns2-to-ns1', src: get404.dst, dst: get404.src }), true],
    [getJson, false],
  ],
);
rows('q24 redis GET of a key', 'request.command == "GET" and request.key == "key"', [
  [redisGet, true],
  [getJson, false],
]);
rows(
  'q25 noise filter',
  '!request.path.startsWith("/actuator") and !request.path.startsWith("/health") and http and dst.name != "pgadmin"',
  [
    [getJson, true],
    [timeout, false], // /actuator/health
    [variant(getJson, { id: 'to-pgadmin', dst: ep('10.9.9.9', 80, 'pgadmin', 'tools') }), false],
    [dnsQuery, false],
  ],
);
rows('q26 last five hours', 'timestamp >= hours(-5)', [
  [post500, true], // 3 h ago
  [get404, false], // 10 h ago
  [getJson, true],
]);
rows('q27 wildcard on path segments', 'request.path.* == "v1"', [
  [pathSegments, true],
  [variant(getJson, { id: 'path-segments-v2', request: { ...getJson.request, path: ['api', 'v2'] as unknown as string } }), false],
]);
rows('q28 client errors (KFL2)', 'http && status_code >= 400 && status_code < 500', [
  [get404, true],
  [post500, false],
  [getJson, false],
  [timeout, false],
]);
rows('q29 failing GETs (KFL2)', 'http && method == "GET" && status_code >= 400', [
  [get404, true],
  [post500, false],
  [getJson, false],
]);
rows('q30 to a namespace (KFL2)', 'dst.pod.namespace == "production"', [
  [getJson, true],
  [post500, true],
  [get404, false],
]);
rows('q31 DNS question', 'dns && "google.com" in dns_questions', [
  [getJson, false],
  [dnsQuery, true],
]);
rows('q32 failed gRPC', 'grpc && grpc_status != 0', [
  [getJson, false],
  [post500, false],
  [grpcNotFound, true],
  [grpcOk, false],
  [grpcCall, true], // Kubeshark's NDJSON shape, no `grpc` part: grpc_status is nil, and nil != 0
]);
rows('q32 in v1 paths', 'grpc and grpc.status != 0', [
  [grpcNotFound, true],
  [grpcOk, false],
  [post500, false],
]);
rows('q33 slower than 5 s in µs (KFL2)', 'http && elapsed_time > 5000000', [
  [post500, true],
  [h2Tls, true],
  [getJson, false],
]);
rows('q34 last five minutes', 'timestamp > now() - duration("5m")', [
  [getJson, true], // 2 min ago
  [h2Tls, true],
  [post500, false],
  [get404, false],
]);
rows('q35 url regex (KFL2)', 'http && url.matches(".*/api/v[0-9]+/.*")', [
  [getJson, true],
  [post500, true],
  [h2Tls, true],
  [get404, false],
]);
rows('q36 header present, any case (KFL2)', 'http && "authorization" in request.headers', [
  [getJson, true],
  [post500, true],
  [get404, false],
]);
rows('q37 either side in a namespace (KFL2)', '"production" in namespaces', [
  [getJson, true],
  [get404, false],
  [timeout, false],
]);
rows('q38 cross-namespace (KFL2)', 'src.service.namespace != dst.service.namespace', [
  [getJson, true],
  [grpcCall, false], // shop to shop
]);
rows('q39 not from kube-system (KFL2)', '!(src.pod.namespace == "kube-system")', [
  [timeout, false],
  [getJson, true],
]);
rows('q40 map_get with default', 'map_get(request.headers, "x-tenant", "") == "acme"', [
  [getJson, true],
  [post500, false],
  [timeout, false],
]);

// --- empty query ----------------------------------------------------------------------------

for (const entry of [getJson, dnsQuery, timeout]) row('empty query matches everything', '', entry, true);
row('blank query matches everything', '   \t ', get404, true);

// --- protocol words -------------------------------------------------------------------------

rows('http covers every HTTP variant', 'http', [
  [getJson, true],
  [get404, true],
  [h2Tls, true],
  [grpcCall, true],
  [gqlPost, true],
  [wsUpgrade, true],
  [dnsQuery, false],
  [redisGet, false],
]);
rows('http1 is HTTP/1.0 and 1.1', 'http1', [
  [getJson, true],
  [get404, true],
  [h2Tls, false],
  [dnsQuery, false],
]);
rows('http2 is version 2.0', 'http2', [
  [h2Tls, true],
  [grpcCall, true],
  [getJson, false],
]);
rows('grpc is abbr gRPC', 'grpc', [
  [grpcCall, true],
  [h2Tls, false],
]);
rows('gql is abbr GQL', 'gql', [
  [gqlPost, true],
  [getJson, false],
]);
rows('ws is abbr WS', 'ws', [
  [wsUpgrade, true],
  [getJson, false],
]);
rows('dns word', 'dns', [
  [dnsQuery, true],
  [getJson, false],
]);
rows('redis word', 'redis', [
  [redisGet, true],
  [getJson, false],
]);
rows('amqp word', 'amqp', [
  [amqpPublish, true],
  [getJson, false],
]);
rows('kafka word', 'kafka', [
  [kafkaFetch, true],
  [getJson, false],
]);
row('mysql word (no such entry)', 'mysql', getJson, false);
rows('postgresql word', 'postgresql', [
  [pgQuery, true],
  [getJson, false],
]);
row('postgres is postgresql', 'postgres', pgQuery, true);
rows('tls is the entry flag', 'tls', [
  [h2Tls, true],
  [getJson, false],
]);
rows('protocol words combine', 'tls && http2 && !grpc', [
  [h2Tls, true],
  [grpcCall, false],
]);
row('protocol.abbr as a plain path', 'protocol.abbr == "HTTP/2"', h2Tls, true);
row('protocol.version as a plain path', 'protocol.version == "1.0"', get404, true);

// --- paths ----------------------------------------------------------------------------------

row('dotted path', 'request.method == "POST"', post500, true);
row('bracket key', 'request.headers["User-Agent"] == "curl/8.5.0"', getJson, true);
row('bracket key with a colon', 'request.headers[":authority"] == "payments"', h2Tls, true);
row('bracket key then dotted path', 'response["content"].mimeType == "application/json"', getJson, true);
row('index into an array', 'request.queryString["q"][1] == "blue"', get404, true);
row('index out of range is null', 'request.queryString["q"][5] == nil', get404, true);
row('top-level number', 'requestSize > 0', getJson, true);
row('top-level boolean', 'tls == true', h2Tls, true);
row('boolean false', 'tls == false', getJson, true);
row('id string', 'id == "get-404"', get404, true);
row('startTime string prefix', 'startTime.startsWith("2024-06-01T11:58")', getJson, true);
row('error.type', 'error.type == "timeout"', timeout, true);
row('error.msg contains', 'error.msg.contains("120 s")', timeout, true);
row('nested missing key is null', 'request.nothing.deeper == nil', getJson, true);
row('dst.port numeric', 'dst.port == 8080', getJson, true);
row('dst.port vs numeric string', 'dst.port == "8080"', getJson, true);
row('src.ip', 'src.ip == "10.0.0.5"', getJson, true);
row('dst.ip regex', 'dst.ip == r"^10\\.0\\."', getJson, true);
row('dst.ip regex no match', 'dst.ip == r"^10\\.0\\."', timeout, false);

// --- case-insensitive header and cookie keys --------------------------------------------------

row('header key lower-case finds Accept', 'request.headers["accept"] == "application/json, text/plain, */*"', getJson, true);
row('header key upper-case finds User-Agent', 'request.headers["USER-AGENT"] == "curl/8.5.0"', getJson, true);
row('header key mixed case finds lower-case accept', 'request.headers["Accept"] == "application/json"', h2Tls, true);
row('response header key any case', 'response.headers["content-type"] == "application/json"', getJson, true);
row('cookie key any case', 'request.cookies["SESSION"] == "s1"', get404, true);
row('response cookie', 'response.cookies["seen"] == "1"', get404, true);
row('header value stays case-sensitive', 'request.headers["accept"] == "TEXT/HTML"', get404, false);
row('missing header is null', 'request.headers["x-missing"] == nil', getJson, true);
row('in finds header any case (upper)', '"X-TENANT" in request.headers', getJson, true);
row('in finds cookie any case', '"Theme" in request.cookies', get404, true);

// --- equality: numbers, numeric strings, strings ------------------------------------------------

row('number == number', 'response.status == 404', get404, true);
row('number == numeric string', 'response.status == "404"', get404, true);
row('numeric string on the left', '"404" == response.status', get404, true);
row('number == numeric string compares numerically', 'response.status == "404.0"', get404, true);
row('number != numeric string', 'response.status != "404"', get404, false);
row('number == non-numeric string', 'response.status == "four"', get404, false);
row('numeric string field vs number', 'request.queryString["a"] == 50', get404, true);
row('numeric string field vs float', 'request.queryString["a"] == 50.0', get404, true);
row('numeric string field ordering', 'request.queryString["a"] < 100', get404, true);
row('numeric string field ordering false', 'request.queryString["a"] > 50', get404, false);
row('header numeric string ordering', 'request.headers["Content-Length"] >= 23', post500, true);
row('ordering against a numeric string literal', 'response.status > "400"', get404, true);
row('strings are case-sensitive', 'request.method == "get"', getJson, false);
row('string inequality', 'request.method != "POST"', getJson, true);
row('float field equality', 'elapsedTime == 12.5', getJson, true);
row('float field ordering', 'elapsedTime > 12.25', getJson, true);
row('float field ordering false', 'elapsedTime < 12.4', getJson, false);
row('float with many decimals', 'elapsedTime > 6200.7 and elapsedTime < 6200.8', post500, true);
row('large integer equality (no 6-digit rounding)', `timestamp == ${NOW_MS - 2 * MINUTE}`, getJson, true);
row('large integer inequality', `timestamp != ${NOW_MS - 2 * MINUTE + 1}`, getJson, true);
row('<= boundary', 'response.status <= 404', get404, true);
row('< boundary', 'response.status < 404', get404, false);
row('>= boundary', 'response.status >= 404', get404, true);
row('> boundary', 'response.status > 404', get404, false);
row('bool literal true', 'true', getJson, true);
row('bool literal false', 'false', getJson, false);
row('comparison of literals', '1 < 2', getJson, true);
row('string literal equality', '"a" == "a"', getJson, true);

// --- negative and float literals, unary minus, arithmetic -----------------------------------------

row('negative literal', 'elapsedTime > -1', timeout, true);
row('negative float literal', '-1.5 < elapsedTime', timeout, true);
row('unary minus on a field', '-response.status < -403', get404, true);
row('unary minus on a field false', '-response.status > 0', get404, false);
row('double unary minus', '- -response.status == 404', get404, true);
row('unary minus on parenthesised expression', '-(response.status - 4) == -400', get404, true);
row('addition', 'response.status + 1 == 405', get404, true);
row('subtraction', 'response.status - 400 == 4', get404, true);
row('left-associative subtraction', '10 - 3 - 2 == 5', getJson, true);
row('float arithmetic', 'elapsedTime + 0.5 == 13', getJson, true);
row('arithmetic binds tighter than comparison', 'response.status - 4 >= 400 and response.status - 4 < 401', get404, true);
row('arithmetic with null is not a match', 'response.status + 1 > 0', timeout, false);

// --- string escapes -------------------------------------------------------------------------

row('escaped quote and backslash', 'request.headers["X-Quote"] == "say \\"hi\\"\\\\now"', get404, true);
row('escaped newline', 'response.content.text == "no such page: /catalogue\\n"', get404, true);
row('tab escape is one character', 'size("a\\tb") == 3', getJson, true);
row('unicode escape', '"\\u0041" == "A"', getJson, true);
row('regex literal keeps backslashes', 'request.path == r"^/api/v\\d+/"', getJson, true);
row('regex literal with escaped dot', 'request.path == r"\\.php$"', getJson, false);

// --- regex ----------------------------------------------------------------------------------

row('regex on the right', 'request.path == r"users"', getJson, true);
row('regex on the left', 'r"users" == request.path', getJson, true);
row('regex is unanchored', 'request.path == r"v1"', getJson, true);
row('anchored regex', 'request.path == r"^v1"', getJson, false);
row('regex != means does not match', 'request.path != r"^/api"', get404, true);
row('regex != false when it matches', 'request.path != r"^/api"', getJson, false);
row('regex matches a number as a string', 'response.status == r"^20[0-9]$"', getJson, true);
row('regex on a missing field', 'request.headers["x-none"] == r".*"', getJson, false);
row('regex on an array: any element', 'request.queryString["q"] == r"^bl"', get404, true);
row('matches() method', 'request.path.matches("^/api/v[0-9]+/users$")', getJson, true);
row('matches() is unanchored', 'request.path.matches("users")', getJson, true);
row('matches() false', 'request.path.matches("^/catalogue$")', getJson, false);
row('matches() on null is false', 'response.content.text.matches(".*")', timeout, false);
row('regex alternation', 'request.method == r"^(PUT|POST)$"', post500, true);

// --- string methods ------------------------------------------------------------------------

row('startsWith', 'request.path.startsWith("/api")', getJson, true);
row('startsWith false', 'request.path.startsWith("/API")', getJson, false);
row('endsWith', 'request.path.endsWith("/users")', getJson, true);
row('endsWith false', 'request.path.endsWith("/user")', getJson, false);
row('contains', 'request.headers["User-Agent"].contains("probe")', post500, true);
row('contains is case-sensitive', 'request.headers["User-Agent"].contains("Probe")', post500, false);
row('contains on a body', 'response.content.text.contains("somevalue")', getJson, true);
row('method on a KFL2 alias', 'path.endsWith("orders")', post500, true);
row('methods on a number use its string form', 'response.status.startsWith("40")', get404, true);
row('startsWith on null is false', 'response.content.text.startsWith("")', timeout, false);
row('endsWith on null is false', 'request.headers["x-none"].endsWith("")', getJson, false);
row('contains on null is false', 'response.statusText.contains("O")', timeout, false);
row('negated method on null is true', '!response.statusText.contains("O")', timeout, true);

// --- arrays: any / none, wildcards ------------------------------------------------------------

row('array == any element (first)', 'request.queryString["q"] == "red"', get404, true);
row('array == any element (second)', 'request.queryString["q"] == "blue"', get404, true);
row('array == no element', 'request.queryString["q"] == "green"', get404, false);
row('array != when no element equals', 'request.queryString["q"] != "green"', get404, true);
row('array != when one element equals', 'request.queryString["q"] != "red"', get404, false);
row('KFL2 alias query_string with array', 'query_string["q"] == "blue"', get404, true);
row('wildcard over a map', 'request.queryString.* == "50"', get404, true);
row('wildcard over a map no match', 'request.queryString.* == "51"', get404, false);
row('wildcard over headers', 'request.headers.* == "acme"', getJson, true);
row('wildcard != means none', 'request.headers.* != "acme"', getJson, false);
row('wildcard on JSON array then field', 'response.content.text.json().users.*.name == "bob"', getJson, true);
row('wildcard on JSON array then field no match', 'response.content.text.json().users.*.name == "zed"', getJson, false);
row('wildcard path segments != v2', 'request.path.* != "v2"', pathSegments, true);
row('wildcard over an empty map', 'request.cookies.* == "x"', getJson, false);

// --- json() -------------------------------------------------------------------------------

row('json number', 'response.content.text.json().total == 2', getJson, true);
row('json number ordering', 'response.content.text.json().total > 1', getJson, true);
row('json array index', 'response.content.text.json().users[0].name == "ada"', getJson, true);
row('json bracket key', 'response.content.text.json()["total"] == 2', getJson, true);
row('json nested array any', 'response.content.text.json().users[0].roles == "admin"', getJson, true);
row('json recursive descent ..name', 'response.content.text.json()..name == "carol"', getJson, true);
row('json recursive descent any depth no match', 'response.content.text.json()..name == "dave"', getJson, false);
row('json on a base64 body', 'response.content.text.json().error.code == "E42"', post500, true);
row('json on a base64 body boolean', 'response.content.text.json().error.retry == false', post500, true);
row('json on a request body', 'request.postData.text.json().qty == 3', post500, true);
row('json on a request body ordering', 'request.postData.text.json().qty >= 4', post500, false);
row('json on text that is not JSON', 'response.content.text.json().anything == "x"', get404, false);
row('json on null', 'request.postData.text.json().qty == 3', getJson, false);
row('json missing key is null', 'response.content.text.json().nope == nil', getJson, true);

// --- size() / len() -------------------------------------------------------------------------

row('size() method on a string', 'request.path.size() == 13', getJson, true);
row('size() function on a string', 'size(request.path) == 13', getJson, true);
row('len() function on a string', 'len(request.method) == 4', post500, true);
row('size of a header map', 'size(request.headers) == 5', getJson, true);
row('size of a repeated query key', 'size(request.queryString["q"]) == 2', get404, true);
row('size of an empty map', 'size(request.cookies) == 0', getJson, true);
row('size of a JSON array', 'response.content.text.json().users.size() == 2', getJson, true);
row('size of namespaces', 'size(namespaces) == 1', timeout, true);
row('len of a map', 'len(response.headers) > 2', get404, true);

// --- map_get --------------------------------------------------------------------------------

row('map_get exact key', 'map_get(request.headers, "X-Tenant", "none") == "acme"', getJson, true);
row('map_get default when missing', 'map_get(request.headers, "x-tenant", "none") == "none"', post500, true);
row('map_get on a null map gives the default', 'map_get(response.headers, "content-type", "n/a") == "n/a"', timeout, true);
row('map_get on the query string', 'map_get(request.queryString, "a", "0") == "50"', get404, true);
row('map_get numeric default', 'map_get(request.queryString, "page", 1) == 2', getJson, true);

// --- in -------------------------------------------------------------------------------------

row('in a list literal', 'request.method in ["GET", "HEAD"]', getJson, true);
row('in a list literal false', 'request.method in ["GET", "HEAD"]', post500, false);
row('number in a list literal', 'response.status in [200, 204]', h2Tls, true);
row('in a field list (pods)', '"frontend" in pods', getJson, true);
row('in a field list (services)', '"users-api" in services', getJson, true);
row('in a field list false', '"carts" in pods', getJson, false);
row('in a repeated query value', '"blue" in request.queryString["q"]', get404, true);
row('in a query-string map (key)', '"q" in request.queryString', get404, true);
row('in a map: values are not keys', '"red" in request.queryString', get404, false);
row('in a string: false, no error', '"api" in request.path', getJson, false);
row('in null: false', '"x" in response.headers', timeout, false);
row('not in', '!("shop" in namespaces)', get404, true);
row('in a JSON array', '"admin" in response.content.text.json().users[0].roles', getJson, true);

// --- nil -----------------------------------------------------------------------------------

row('response == nil when absent', 'response == nil', timeout, true);
row('response != nil when present', 'response != nil', getJson, true);
row('response == nil false when present', 'response == nil', getJson, false);
row('error != nil', 'error != nil', timeout, true);
row('error == nil', 'error == nil', getJson, true);
row('postData == nil', 'request.postData == nil', getJson, true);
row('missing field through null', 'response.status == nil', timeout, true);
row('null is not equal to a number', 'response.status == 0', timeout, false);
row('null != a number is true', 'response.status != 200', timeout, true);
row('nil on the left', 'nil == response', timeout, true);
row('status_code nil on no response', 'status_code == nil', timeout, true);
row('DNS has no request.path', 'request.path == nil', dnsQuery, true);
row('DNS path != "/" is true (no collapse)', 'request.path != "/"', dnsQuery, true);

// --- ordering on null ----------------------------------------------------------------------

row('> on null is false', 'response.status > 0', timeout, false);
row('< on null is false', 'response.status < 1000', timeout, false);
row('>= on null is false', 'response.status >= 0', timeout, false);
row('<= on null is false', 'response.status <= 0', timeout, false);
row('null on the right is false too', '1000 > response.status', timeout, false);
row('negated ordering on null is true', '!(response.status > 0)', timeout, true);
row('ordering on a non-numeric string is false', 'request.method > 1', getJson, false);

// --- ! is plain boolean not (no collapse) ---------------------------------------------------

row('! of a false comparison on a missing field', '!(request.foo == 1)', getJson, true);
row('! of a comparison on DNS', '!(response.status == 500)', dnsQuery, true);
row('missing field or true', 'request.foo == 1 or true', getJson, true);
row('double negation', '!!http', getJson, true);
row('! binds tighter than and', '!dns and http', getJson, true);
row('! binds tighter than or', '!http or dns', getJson, false);
row('! over a group', '!(http or dns)', dnsQuery, false);

// --- precedence: comparison, and, or -----------------------------------------------------------

// A and B or C with A false, C true: ours (A and B) or C is true; v1 grouped A and (B or C): false.
row('A and B or C is (A and B) or C', 'dns and response.status == 200 or http', getJson, true);
row('A && B || C is (A && B) || C', 'dns && status_code == 200 || http', getJson, true);
row('explicit A and (B or C) differs', 'dns and (response.status == 200 or http)', getJson, false);
// A or B and C with A true, C false: true either way; with A false, B true, C false: false.
row('A or B and C is A or (B and C)', 'dns or http and response.status == 500', getJson, false);
row('A or B and C true through A', 'dns or http and response.status == 500', dnsQuery, true);
row('(A or B) and C explicit', '(dns or http) and response.status == 200', getJson, true);
row('mixed v1 and KFL2 operators', 'http and status_code == 200 || dns && false', getJson, true);
row('false and false or true', 'false and false or true', getJson, true);
row('true or true and false', 'true or true and false', getJson, true);
row('comparison binds tighter than and', 'response.status == 200 and http', getJson, true);
row('parentheses nest', '((http) and ((response.status == 200)))', getJson, true);
row('chained and', 'http and tls == false and request.method == "GET" and response.status == 200', getJson, true);
row('chained or', 'dns or redis or kafka or http', getJson, true);
row('chained or all false', 'dns or redis or kafka or amqp', getJson, false);
row('multi-line query', 'http\n  and response.status == 200\n  and dst.name == "users-api"', getJson, true);

// --- KFL2 aliases ---------------------------------------------------------------------------

row('method', 'method == "POST"', post500, true);
row('url', 'url == "/api/v1/users?page=2&sort=name"', getJson, true);
row('path', 'path == "/api/v1/users"', getJson, true);
row('status_code', 'status_code == 500', post500, true);
row('http_version', 'http_version == "HTTP/1.0"', get404, true);
row('query_string', 'query_string["page"] == "2"', getJson, true);
row('request_body_size', 'request_body_size == 23', post500, true);
row('response_body_size', `response_body_size == ${USERS_JSON.length}`, getJson, true);
row('elapsed_time in µs', 'elapsed_time == 12500', getJson, true);
row('elapsed_time on a slow entry', 'elapsed_time == 6200750', post500, true);
row('src.pod.name', 'src.pod.name == "frontend"', getJson, true);
row('src.pod.namespace', 'src.pod.namespace == "shop"', getJson, true);
row('dst.pod.name', 'dst.pod.name == "users-api"', getJson, true);
row('src.service.name', 'src.service.name == "node-exporter"', post500, true);
row('dst.service.name', 'dst.service.name == "carts"', post500, true);
row('dst.service.namespace', 'dst.service.namespace == "production"', post500, true);
row('namespaces drops empty', '"" in namespaces', timeout, false);
row('namespaces lists both', '"shop" in namespaces and "production" in namespaces', getJson, true);
row('pods lists both', '"kubelet" in pods and "api.example.com" in pods', timeout, true);
row('services like pods', '"carts" in services', post500, true);
row('dns_questions is null on other protocols', 'dns_questions == nil', getJson, true);
row('dns_questions lists the question names', 'dns_questions == ["google.com"]', dnsQuery, true);
row('grpc_status is nil on a gRPC entry without its grpc part (Kubeshark NDJSON)', 'grpc_status == nil', grpcCall, true);
row('grpc_status is nil on other protocols', 'grpc_status == nil', getJson, true);
row('grpc_status, grpc_method, grpc_service read the call', 'grpc_status == 5 && grpc_method == "FindFoo" && grpc_service == "shop.Catalog"', grpcNotFound, true);
row('redis_command is null on other protocols', 'redis_command == nil', getJson, true);
row('redis_* read a Kubeshark-shaped Redis entry (no argument list)', 'redis_command == "GET" && redis_key == "key" && redis_type == "GET"', redisGet, true);

// --- time -----------------------------------------------------------------------------------

row('now() is nowMs', `now() == ${NOW_MS}`, getJson, true);
row('datetime ISO with Z', 'timestamp < datetime("2024-06-01T12:00:00Z")', getJson, true);
row('datetime ISO with Z, later entry', 'timestamp < datetime("2024-06-01T12:00:00Z")', timeout, false);
row('datetime ISO with milliseconds', `datetime("2024-06-01T11:58:00.000Z") == ${NOW_MS - 2 * MINUTE}`, getJson, true);
row('datetime ISO with offset', `datetime("2024-06-01T14:00:00+02:00") == ${NOW_MS}`, getJson, true);
row('datetime ISO equals entry timestamp', 'timestamp == datetime("2024-06-01T11:58:00Z")', getJson, true);
row('datetime US form is local time', `datetime("10/28/2021, 9:13:02.905 PM") == ${LOCAL_2021_10_28}`, getJson, true);
row('datetime US form AM', `datetime("1/2/2006, 3:04:05.000 AM") == ${new Date(2006, 0, 2, 3, 4, 5, 0).getTime()}`, getJson, true);
row('duration minutes', 'duration("5m") == 300000', getJson, true);
row('duration combination', 'duration("1h30m") == 5400000', getJson, true);
row('duration seconds', 'duration("90s") == 90000', getJson, true);
row('duration milliseconds', 'duration("250ms") == 250', getJson, true);
row('duration hours', 'duration("2h") == 7200000', getJson, true);
row('duration microseconds', 'duration("1500us") == 1.5', getJson, true);
row('duration nanoseconds', 'duration("2000000ns") == 2', getJson, true);
row('now() minus duration', `now() - duration("1h") == ${NOW_MS - HOUR}`, getJson, true);
row('now() plus duration', 'timestamp < now() + duration("2s")', timeout, true);
row('seconds(n)', `seconds(30) == ${NOW_MS + 30_000}`, getJson, true);
row('seconds(0) is now', 'seconds(0) == now()', getJson, true);
row('minutes(-n)', 'timestamp >= minutes(-3)', getJson, true);
row('minutes(-n) excludes older', 'timestamp >= minutes(-1)', getJson, false);
row('hours(n)', `hours(-1) == ${NOW_MS - HOUR}`, getJson, true);
row('days(n)', 'days(1) - now() == 86400000', getJson, true);
row('weeks(n)', 'weeks(1) - now() == 604800000', getJson, true);
row('months are 30 days', 'months(1) - now() == 2592000000', getJson, true);
row('years are 365 days', 'now() - years(-1) == 31536000000', getJson, true);
row('window between two relative times', 'timestamp >= hours(-4) and timestamp < hours(-2)', post500, true);

// --- field-to-field -------------------------------------------------------------------------

row('namespace equality across ends', 'src.namespace == dst.namespace', grpcCall, true);
row('namespace inequality across ends', 'src.namespace != dst.namespace', getJson, true);
row('numeric fields compared', 'responseSize > requestSize', getJson, true);
row('field vs null field', 'request.headers["x-none"] == response.headers["x-none"]', getJson, true);

// --- further forms the docs describe ---------------------------------------------------------

row('not keyword', 'not dns and http', getJson, true);
row('single-quoted string', "request.method == 'GET'", getJson, true);
row('backtick string is raw', 'request.path.matches(`^/api/v\\d+/`)', getJson, true);
row('single-quoted regex', "request.path == r'^/api'", getJson, true);
row('[*] wildcard', 'request.headers[*] == "acme"', getJson, true);
row('..["name"] recursive descent with a bracket key', 'response.content.text.json()..["name"] == "bob"', getJson, true);
row('multiplication, division, remainder', 'response.status * 2 == 808 and response.status / 4 == 101 and response.status % 100 == 4', get404, true);
row('exponent literal', '1e3 == 1000', getJson, true);
row('two non-numeric strings order as text', 'request.method > "A" and request.method < "H"', getJson, true);
row('timestamp() RFC 3339 (CEL)', `timestamp("2024-06-01T12:00:00Z") == ${NOW_MS}`, getJson, true);
row('datetime date alone is UTC midnight', `datetime("2024-06-01") == ${Date.UTC(2024, 5, 1)}`, getJson, true);
row('datetime US form without milliseconds', `datetime("10/28/2021, 9:13:02 PM") == ${LOCAL_2021_10_28 - 905}`, getJson, true);
row('negative fractional duration', 'duration("-1.5h") == -5400000', getJson, true);
row('size of nil is nil', 'size(response.headers) == nil', timeout, true);
row('a bare string is truthy', 'request.path', getJson, true);
row('a bare nil is falsy', 'response.status', timeout, false);
row('a bare zero is falsy', 'elapsedTime', timeout, false);
row('a bare error object is truthy', 'http and error', timeout, true);
row('list equals list in order', 'request.queryString["q"] == ["red", "blue"]', get404, true);
row('list differs from reordered list', 'request.queryString["q"] == ["blue", "red"]', get404, false);
row('list ordering: any element', 'response.content.text.json().users.*.id > 1', getJson, true);
row('query-string keys are case-sensitive', '"Q" in request.queryString', get404, false);
row('JSON keys are case-sensitive', 'response.content.text.json().TOTAL == nil', getJson, true);
row('capture_source for eBPF TLS', 'capture_source == "ebpf_tls"', h2Tls, true);
row('capture_source otherwise', 'capture_source == "unspecified"', getJson, true);
row('limit(0) is still true for test()', 'http and limit(0)', getJson, true);

export const KFL_CASES: readonly KflCase[] = cases;

// ---------------------------------------------------------------------------------------------
// Compile errors: the code and where the caret goes.

export interface KflErrorCase {
  readonly name: string;
  readonly query: string;
  readonly code: 'KFL_SYNTAX' | 'KFL_UNKNOWN_FUNCTION' | 'KFL_BAD_ARGUMENTS' | 'KFL_BAD_REGEX' | 'KFL_BAD_LITERAL';
  /** 1-based column the caret must start at, when the position is unambiguous. */
  readonly column?: number;
}

export const KFL_ERROR_CASES: readonly KflErrorCase[] = [
  { name: 'value missing after ==', query: 'response.status ==', code: 'KFL_SYNTAX', column: 19 },
  { name: 'unclosed parenthesis', query: '(http and dns', code: 'KFL_SYNTAX' },
  { name: 'stray closing parenthesis', query: 'http)', code: 'KFL_SYNTAX', column: 5 },
  { name: 'dangling and', query: 'http and', code: 'KFL_SYNTAX', column: 9 },
  { name: 'two values in a row', query: 'http dns', code: 'KFL_SYNTAX', column: 6 },
  { name: 'unterminated string', query: 'request.path == "/api', code: 'KFL_BAD_LITERAL', column: 17 },
  { name: 'unknown character', query: 'http # dns', code: 'KFL_SYNTAX', column: 6 },
  { name: 'unknown function', query: 'lower(request.path) == "x"', code: 'KFL_UNKNOWN_FUNCTION', column: 1 },
  { name: 'unknown method', query: 'request.path.toUpper() == "X"', code: 'KFL_UNKNOWN_FUNCTION' },
  { name: 'limit needs a number', query: 'http and limit("ten")', code: 'KFL_BAD_ARGUMENTS' },
  { name: 'startsWith needs one argument', query: 'request.path.startsWith()', code: 'KFL_BAD_ARGUMENTS' },
  { name: 'map_get needs three arguments', query: 'map_get(request.headers, "a") == "b"', code: 'KFL_BAD_ARGUMENTS' },
  { name: 'bad regex literal', query: 'request.path == r"(unclosed"', code: 'KFL_BAD_REGEX', column: 17 },
  { name: 'bad regex in matches()', query: 'url.matches("[a-")', code: 'KFL_BAD_REGEX' },
  { name: 'bad duration', query: 'timestamp > now() - duration("5 parsecs")', code: 'KFL_BAD_LITERAL' },
  { name: 'bad datetime', query: 'timestamp < datetime("yesterday")', code: 'KFL_BAD_LITERAL' },
];

// ---------------------------------------------------------------------------------------------
// Warnings: unknown fields close to known ones.

export interface KflWarningCase {
  readonly name: string;
  readonly query: string;
  /** Substring the single warning's message must contain; undefined = no warning at all. */
  readonly message: string | undefined;
}

export const KFL_WARNING_CASES: readonly KflWarningCase[] = [
  { name: 'request.pth', query: 'request.pth == "/x"', message: 'unknown field request.pth: did you mean request.path?' },
  { name: 'respone.status', query: 'respone.status == 200', message: 'did you mean response.status?' },
  { name: 'status_cod (KFL2 alias)', query: 'status_cod == 200', message: 'did you mean status_code?' },
  { name: 'a known path has no warning', query: 'request.path == "/x"', message: undefined },
  { name: 'a KFL2 alias has no warning', query: 'elapsed_time > 1 and dst.pod.namespace == "a"', message: undefined },
  { name: 'header keys are free-form', query: 'request.headers["X-Anything-At-All"] == "1"', message: undefined },
  { name: 'json() paths are free-form', query: 'response.content.text.json().whatever.deep == 1', message: undefined },
];
