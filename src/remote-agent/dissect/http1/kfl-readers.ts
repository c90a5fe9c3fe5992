/**
 * Hand-written KFL readers for the HTTP paths queries use most (the descriptor's `kfl.readers`).
 * Each is its own function literal on purpose: V8 keeps property-access feedback per literal, so a
 * reader shared by every path (keys in variables) turns megamorphic once a process has compiled a
 * few different queries, and `response.status >= 500` drops from ~30M to ~10M tests/s.
 */
type Reader = (entry: unknown) => unknown;
type Obj = Record<string, unknown>;

/** The same test as KFL's isObject (src/kfl/values.ts): an array is not a record. */
function o(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export const HTTP_KFL_READERS: ReadonlyMap<string, Reader> = new Map<string, Reader>([
  ['request.method', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.method ?? null) : null;
  }],
  ['request.url', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.url ?? null) : null;
  }],
  ['request.path', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.path ?? null) : null;
  }],
  ['request.httpVersion', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.httpVersion ?? null) : null;
  }],
  ['request.headers', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.headers ?? null) : null;
  }],
  ['request.cookies', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.cookies ?? null) : null;
  }],
  ['request.queryString', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.queryString ?? null) : null;
  }],
  ['request.postData', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.postData ?? null) : null;
  }],
  ['request.headersSize', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.headersSize ?? null) : null;
  }],
  ['request.bodySize', (r) => {
    const a = o(r) ? r.request : null;
    return o(a) ? (a.bodySize ?? null) : null;
  }],
  ['response.status', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.status ?? null) : null;
  }],
  ['response.statusText', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.statusText ?? null) : null;
  }],
  ['response.httpVersion', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.httpVersion ?? null) : null;
  }],
  ['response.headers', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.headers ?? null) : null;
  }],
  ['response.cookies', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.cookies ?? null) : null;
  }],
  ['response.content', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.content ?? null) : null;
  }],
  ['response.headersSize', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.headersSize ?? null) : null;
  }],
  ['response.bodySize', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.bodySize ?? null) : null;
  }],
  ['request.postData.text', (r) => {
    const a = o(r) ? r.request : null;
    const b = o(a) ? a.postData : null;
    return o(b) ? (b.text ?? null) : null;
  }],
  ['request.postData.mimeType', (r) => {
    const a = o(r) ? r.request : null;
    const b = o(a) ? a.postData : null;
    return o(b) ? (b.mimeType ?? null) : null;
  }],
  ['request.postData.encoding', (r) => {
    const a = o(r) ? r.request : null;
    const b = o(a) ? a.postData : null;
    return o(b) ? (b.encoding ?? null) : null;
  }],
  ['response.content.text', (r) => {
    const a = o(r) ? r.response : null;
    const b = o(a) ? a.content : null;
    return o(b) ? (b.text ?? null) : null;
  }],
  ['response.content.mimeType', (r) => {
    const a = o(r) ? r.response : null;
    const b = o(a) ? a.content : null;
    return o(b) ? (b.mimeType ?? null) : null;
  }],
  ['response.content.size', (r) => {
    const a = o(r) ? r.response : null;
    const b = o(a) ? a.content : null;
    return o(b) ? (b.size ?? null) : null;
  }],
  ['response.trailers', (r) => {
    const a = o(r) ? r.response : null;
    return o(a) ? (a.trailers ?? null) : null;
  }],
  ['http2.streamId', (r) => {
    const a = o(r) ? r.http2 : null;
    return o(a) ? (a.streamId ?? null) : null;
  }],
  ['response.content.encoding', (r) => {
    const a = o(r) ? r.response : null;
    const b = o(a) ? a.content : null;
    return o(b) ? (b.encoding ?? null) : null;
  }],

]);
