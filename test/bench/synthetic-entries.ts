/**
 * Synthetic entries for the KFL and TUI benchmarks: distinct objects per entry (as a store holds
 * them), varied methods, paths, statuses, names and latencies, small bodies so 1M fit in memory.
 */
import { isoFromMicros, type Entry } from '../../src/model/entry.ts';
import { HTTP1_1 } from '../../src/remote-agent/dissect/http1/entry.ts';
import { Prng } from './prng.ts';

const PATHS = ['/', '/api/orders', '/api/orders/17', '/catalogue', '/carts/42', '/health', '/login'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const STATUSES = [200, 200, 200, 201, 204, 301, 400, 404, 500, 503];
const NAMES = ['front-end', 'carts', 'orders', 'payment', 'catalogue', ''];
const AGENTS = ['curl/8.5.0', 'Mozilla/5.0', 'kube-probe/1.32', 'python-requests/2.31'];

/** A cluster has a bounded set of pods: clients come from a pool of addresses, as in real traffic. */
const CLIENT_IPS = Array.from({ length: 250 }, (_, i) => `10.1.${i >> 4}.${i & 15}`);
const URLS = PATHS.map((path) => Array.from({ length: 7 }, (_, page) => `${path}?page=${page}`));

/**
 * Distinct objects per entry (as the store holds them); small bodies keep 1M entries in memory.
 * Repeated values (addresses, URLs) are shared strings, unique ones (id, startTime) are not.
 */
export function makeEntries(count: number, nowMs: number): Entry[] {
  const rng = new Prng(11);
  const entries: Entry[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const tsUs = (nowMs - rng.int(0, 600_000)) * 1000;
    const method = METHODS[rng.int(0, METHODS.length - 1)]!;
    const path = PATHS[rng.int(0, PATHS.length - 1)]!;
    const status = STATUSES[rng.int(0, STATUSES.length - 1)]!;
    const headers: Record<string, string> = { Host: 'shop.local', 'User-Agent': AGENTS[rng.int(0, AGENTS.length - 1)]!, Accept: '*/*' };
    if (rng.chance(0.3)) headers['Authorization'] = 'Bearer x';
    entries[i] = {
      id: `${i >> 4}-${i & 15}`,
      protocol: HTTP1_1,
      src: { ip: CLIENT_IPS[i % CLIENT_IPS.length]!, port: 30000 + (i % 30000), name: NAMES[rng.int(0, NAMES.length - 1)]!, namespace: 'shop' },
      dst: { ip: '10.2.0.9', port: 80, name: NAMES[rng.int(0, NAMES.length - 1)]!, namespace: rng.chance(0.2) ? 'payments' : 'shop' },
      timestamp: Math.floor(tsUs / 1000),
      startTime: isoFromMicros(tsUs),
      elapsedTime: rng.int(1, 900_000) / 1000,
      requestSize: 200,
      responseSize: 400,
      tls: false,
      request: { method, url: URLS[PATHS.indexOf(path)]![i % 7]!, path, httpVersion: 'HTTP/1.1', headers, cookies: {}, queryString: { page: String(i % 7) }, postData: null, headersSize: 200, bodySize: 0 },
      response: {
        status, statusText: 'X', httpVersion: 'HTTP/1.1', headers: { 'Content-Type': 'application/json' }, cookies: {},
        content: { size: 9, mimeType: 'application/json', text: `{"id":${i % 100}}` }, headersSize: 120, bodySize: 9,
      },
      error: null,
    };
  }
  return entries;
}

