/**
 * Turning an HTTP/2 stream (./stream.ts) into an HttpEntry: Kubeshark's HAR-shaped request and
 * response, so filters written for HTTP/1 entries (`request.path`, `response.status`,
 * `request.headers[":path"]`) work on HTTP/2 ones. docs/entries.md says what each field means here.
 */
import { isoFromMicros, type Endpoint, type EntryError } from '../../../model/entry.ts';
import type { SocketAddress } from '../../tcp/stream.ts';
import { GRPC, HTTP2, type HttpEntry, type HttpRequest, type HttpResponse } from '../http1/entry.ts';
import { headerMapOf, pathOf, queryMap, requestCookiesOf, responseCookiesOf } from '../http1/entry-builder.ts';
import type { HpackField } from './hpack.ts';
import { fieldOf, fieldsOf, isUpgraded, type H2Stream, type Message } from './stream.ts';

export const HTTP2_VERSION = 'HTTP/2.0';

export interface StreamEntryParts {
  readonly id: string;
  readonly client: SocketAddress;
  readonly server: SocketAddress;
  readonly stream: H2Stream;
  readonly error: EntryError | null;
}

export function buildStreamEntry(p: StreamEntryParts): HttpEntry {
  const s = p.stream;
  const req = s.request;
  const res = s.response;
  const serverDir = s.clientDir === 0 ? 1 : 0;
  const upgraded = isUpgraded(req);
  const requestSize = upgraded ? req.requestSize : s.frameBytes[s.clientDir];
  const entry: HttpEntry = {
    id: p.id,
    protocol: s.grpc !== null ? GRPC : HTTP2,
    src: endpoint(p.client),
    dst: endpoint(p.server),
    timestamp: Math.floor(req.startUs / 1000),
    startTime: isoFromMicros(req.startUs),
    // As for HTTP/1 (the envelope's definition): response start minus request start.
    elapsedTime: res === null ? 0 : Math.max(0, (res.startUs - req.startUs) / 1000),
    requestSize,
    responseSize: s.frameBytes[serverDir],
    tls: false,
    request: upgraded ? req.request : buildRequest(req),
    response: res === null ? null : buildResponse(res, s.trailers),
    error: p.error,
    http2: s.reset === null ? { streamId: s.id } : { streamId: s.id, reset: s.reset },
  };
  if (s.grpc !== null) entry.grpc = s.grpc.finish();
  return entry;
}

function endpoint(a: SocketAddress): Endpoint {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}

function buildRequest(msg: Message): HttpRequest {
  const fields = msg.fields;
  const method = fieldOf(fields, ':method') ?? '';
  // CONNECT has no :path (RFC 9113 §8.5): its target is the authority, as in HTTP/1's authority-form.
  const target = fieldOf(fields, ':path') ?? (method === 'CONNECT' ? (fieldOf(fields, ':authority') ?? '') : '');
  const q = target.indexOf('?');
  const body = msg.body.finish();
  let postData: HttpRequest['postData'] = null;
  if (body.bodySize > 0) {
    postData = { mimeType: fieldOf(fields, 'content-type') ?? '', text: body.text };
    if (body.encoding !== undefined) postData.encoding = body.encoding;
    if (body.truncated === true) postData.truncated = true;
  }
  return {
    method,
    url: target,
    path: pathOf(q < 0 ? target : target.slice(0, q)),
    httpVersion: HTTP2_VERSION,
    headers: headerMapOf(fields),
    cookies: requestCookiesOf(fieldsOf(fields, 'cookie')),
    queryString: q < 0 ? {} : queryMap(target.slice(q + 1)),
    postData,
    headersSize: msg.headersSize,
    bodySize: body.bodySize,
  };
}

function buildResponse(msg: Message, trailers: readonly HpackField[] | null): HttpResponse {
  const fields = msg.fields;
  const status = statusOf(fields);
  const body = msg.body.finish();
  const content: HttpResponse['content'] = { size: body.decodedSize, mimeType: fieldOf(fields, 'content-type') ?? '', text: body.text };
  if (body.encoding !== undefined) content.encoding = body.encoding;
  if (body.truncated === true) content.truncated = true;
  const response: HttpResponse = {
    status,
    // HTTP/2 sends no reason phrase (RFC 9113 §8.3.2): the standard one for the code, as Kubeshark shows.
    statusText: statusCodes()[status] ?? '',
    httpVersion: HTTP2_VERSION,
    headers: headerMapOf(fields),
    cookies: responseCookiesOf(fieldsOf(fields, 'set-cookie')),
    content,
    headersSize: msg.headersSize,
    bodySize: body.bodySize,
  };
  if (trailers !== null) response.trailers = headerMapOf(trailers);
  return response;
}

/** `:status` as a number; 0 when absent or not three digits (a malformed response still becomes an entry). */
export function statusOf(fields: readonly HpackField[]): number {
  const v = fieldOf(fields, ':status');
  return v !== undefined && /^\d{3}$/.test(v) ? Number(v) : 0;
}

/** A header block as a map for gRPC (lower-case names, repeated fields joined with ", "). */
export function plainHeaders(fields: readonly HpackField[]): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const f of fields) out[f.name] = out[f.name] === undefined ? f.value : `${out[f.name]}, ${f.value}`;
  return out;
}

/**
 * node:http's reason phrases, through getBuiltinModule rather than an import: in the agent's ESM
 * bundle an import of node:http builds its module namespace, whose lazy WebSocket getters load
 * undici (~16 MB of RSS for a process that never speaks HTTP itself).
 */
let reasonPhrases: Readonly<Record<number, string | undefined>> | undefined;
function statusCodes(): Readonly<Record<number, string | undefined>> {
  reasonPhrases ??= process.getBuiltinModule('node:http').STATUS_CODES;
  return reasonPhrases;
}
