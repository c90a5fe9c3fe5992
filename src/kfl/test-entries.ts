/**
 * Entries for the KFL tests: a plain HTTP/1.1 GET with a JSON response, built fresh per call so a
 * test may change it freely.
 */
import type { Entry as AnyEntry } from '../model/entry.ts';

/** HTTP's entry (src/kfl may not import a protocol folder: the union names it). */
type Entry = Extract<AnyEntry, { readonly protocol: { readonly name: 'http' } }>;

export function httpEntry(overrides: Partial<Entry> = {}): Entry {
  return {
    id: '0-0',
    protocol: { name: 'http', version: '1.1', abbr: 'HTTP' },
    src: { ip: '10.0.0.1', port: 43210, name: 'frontend', namespace: 'shop' },
    dst: { ip: '10.0.0.2', port: 8080, name: 'carts', namespace: 'production' },
    timestamp: 1_700_000_000_000,
    startTime: '2023-11-14T22:13:20.000000Z',
    elapsedTime: 12.5,
    requestSize: 120,
    responseSize: 300,
    tls: false,
    request: {
      method: 'GET',
      url: '/api/v1/items?a=50&tag=x&tag=y',
      path: '/api/v1/items',
      httpVersion: 'HTTP/1.1',
      headers: { Host: 'carts', Accept: 'application/json', Authorization: 'Token abc', 'User-Agent': 'kube-probe/1.27+' },
      cookies: { Session: 's1' },
      queryString: { a: '50', tag: ['x', 'y'] },
      postData: null,
      headersSize: 120,
      bodySize: 0,
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      headers: { 'Content-Type': 'application/json', 'X-Tenant': 'acme' },
      cookies: {},
      content: { size: 45, mimeType: 'application/json', text: '{"items":[{"id":7,"name":"a"}],"some":{"path":"somevalue"}}' },
      headersSize: 100,
      bodySize: 45,
    },
    error: null,
    ...overrides,
  };
}
