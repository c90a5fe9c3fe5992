/**
 * Turning a parsed request (and maybe response) into an HttpEntry (./entry.ts).
 */
import { isoFromMicros, type Endpoint, type EntryError } from '../../../model/entry.ts';
import { HTTP1_0, HTTP1_1, type HeaderMap, type HttpEntry, type HttpRequest, type HttpResponse, type QueryMap } from './entry.ts';
import type { SocketAddress } from '../../tcp/stream.ts';
import { fieldValue, fieldValues, type MessageHead } from './head.ts';
import type { ParsedMessage } from './message-parser.ts';

export interface EntryParts {
  readonly id: string;
  readonly client: SocketAddress;
  readonly server: SocketAddress;
  readonly request: ParsedMessage;
  readonly response: ParsedMessage | null;
  readonly error: EntryError | null;
}

export function buildEntry(p: EntryParts): HttpEntry {
  const req = p.request;
  const res = p.response;
  return {
    id: p.id,
    protocol: req.head.version === 'HTTP/1.0' ? HTTP1_0 : HTTP1_1,
    src: endpoint(p.client),
    dst: endpoint(p.server),
    timestamp: Math.floor(req.startUs / 1000),
    startTime: isoFromMicros(req.startUs),
    elapsedTime: res === null ? 0 : Math.max(0, (res.startUs - req.startUs) / 1000),
    requestSize: req.wireBytes,
    responseSize: res === null ? 0 : res.wireBytes,
    tls: false,
    request: buildRequest(req),
    response: res === null ? null : buildResponse(res),
    error: p.error,
  };
}

function endpoint(a: SocketAddress): Endpoint {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}

export function buildRequest(msg: ParsedMessage): HttpRequest {
  const head = msg.head;
  const body = msg.body.finish();
  const target = head.target;
  const q = target.indexOf('?');
  let postData: HttpRequest['postData'] = null;
  if (body.bodySize > 0) {
    postData = { mimeType: fieldValue(head, 'content-type') ?? '', text: body.text };
    if (body.encoding !== undefined) postData.encoding = body.encoding;
    if (body.truncated === true) postData.truncated = true;
  }
  return {
    method: head.method,
    url: target,
    path: pathOf(q < 0 ? target : target.slice(0, q)),
    httpVersion: head.version,
    headers: headerMap(head),
    cookies: requestCookies(head),
    queryString: q < 0 ? {} : queryMap(target.slice(q + 1)),
    postData,
    headersSize: head.size,
    bodySize: body.bodySize,
  };
}

function buildResponse(msg: ParsedMessage): HttpResponse {
  const head = msg.head;
  const body = msg.body.finish();
  const content: HttpResponse['content'] = { size: body.decodedSize, mimeType: fieldValue(head, 'content-type') ?? '', text: body.text };
  if (body.encoding !== undefined) content.encoding = body.encoding;
  if (body.truncated === true) content.truncated = true;
  return {
    status: head.status,
    statusText: head.reason,
    httpVersion: head.version,
    headers: headerMap(head),
    cookies: responseCookies(head),
    content,
    headersSize: head.size,
    bodySize: body.bodySize,
  };
}

/** absolute-form ("http://h/p") keeps only the path; origin-form and others are used as is. */
export function pathOf(beforeQuery: string): string {
  const hash = beforeQuery.indexOf('#');
  const s = hash < 0 ? beforeQuery : beforeQuery.slice(0, hash);
  const scheme = s.indexOf('://');
  if (scheme > 0 && !s.startsWith('/')) {
    const slash = s.indexOf('/', scheme + 3);
    return slash < 0 ? '/' : s.slice(slash);
  }
  return s;
}

/**
 * Header map: the key is the first occurrence's spelling; repeated fields are joined with ", "
 * (RFC 9110 §5.3), except Set-Cookie, whose values may themselves contain ", " (Expires dates):
 * they are joined with "\n" so they can be split back losslessly (RFC 6265 §3 forbids folding),
 * and Cookie, joined with "; " as RFC 9113 §8.2.3 does.
 */
export function headerMap(head: MessageHead): HeaderMap {
  return headerMapOf(head.fields);
}

/** A header field as the maps read it: `key` is the lower-case name (HTTP/2 names already are). */
export interface NamedField {
  readonly name: string;
  readonly key?: string;
  readonly value: string;
}

/** headerMap over fields of any origin (HTTP/1 heads, HTTP/2 header blocks). */
export function headerMapOf(fields: readonly NamedField[]): HeaderMap {
  const out: HeaderMap = {};
  // Typical heads have a dozen fields: finding an earlier one with the same key by a scan costs
  // less than a Map per message; long (hostile) heads keep the Map, so the work stays linear.
  const spelled = fields.length > LINEAR_SCAN_FIELDS ? new Map<string, string>() : null;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const key = f.key ?? f.name;
    let name: string | undefined;
    if (spelled !== null) {
      name = spelled.get(key);
      if (name === undefined) spelled.set(key, f.name);
    } else {
      for (let j = 0; j < i; j++) {
        const g = fields[j]!;
        if ((g.key ?? g.name) === key) {
          name = g.name;
          break;
        }
      }
    }
    if (name === undefined) {
      put(out, f.name, f.value);
    } else {
      const sep = key === 'set-cookie' ? '\n' : key === 'cookie' ? '; ' : ', ';
      put(out, name, `${out[name]}${sep}${f.value}`);
    }
  }
  return out;
}

/** Up to this many fields, headerMapOf finds repeated names by scanning (see there). */
const LINEAR_SCAN_FIELDS = 32;

/** Cookie: name=value pairs separated by ";" (RFC 6265 §5.4); the first of a repeated name wins. */
export function requestCookies(head: MessageHead): HeaderMap {
  return requestCookiesOf(fieldValues(head, 'cookie'));
}

/** requestCookies over the values of the Cookie fields (HTTP/2 sends one field per cookie, RFC 9113 §8.2.3). */
export function requestCookiesOf(values: readonly string[]): HeaderMap {
  const out: HeaderMap = {};
  for (const v of values) {
    for (const pair of v.split(';')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      if (name !== '' && !Object.hasOwn(out, name)) put(out, name, pair.slice(eq + 1).trim());
    }
  }
  return out;
}

/** Set-Cookie: one cookie per field, "name=value; attributes" (RFC 6265 §5.2); a later one wins. */
export function responseCookies(head: MessageHead): HeaderMap {
  return responseCookiesOf(fieldValues(head, 'set-cookie'));
}

/** responseCookies over the values of the Set-Cookie fields. */
export function responseCookiesOf(values: readonly string[]): HeaderMap {
  const out: HeaderMap = {};
  for (const v of values) {
    const semi = v.indexOf(';');
    const pair = semi < 0 ? v : v.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name !== '') put(out, name, pair.slice(eq + 1).trim());
  }
  return out;
}

/**
 * Query string: application/x-www-form-urlencoded rules (percent-decoding, "+" as space,
 * malformed escapes kept as is) via URLSearchParams; repeated names become arrays.
 */
export function queryMap(query: string): QueryMap {
  const out: QueryMap = {};
  const hash = query.indexOf('#');
  for (const [k, v] of new URLSearchParams(hash < 0 ? query : query.slice(0, hash))) {
    if (!Object.hasOwn(out, k)) {
      put<string | string[]>(out, k, v);
      continue;
    }
    const prev = out[k];
    if (Array.isArray(prev)) prev.push(v);
    else put<string | string[]>(out, k, [prev, v]);
  }
  return out;
}

/** Assignment that stays an own data property even for "__proto__" (no prototype change). */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
