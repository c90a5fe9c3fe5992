/**
 * Synthetic entries for the KFL and TUI benchmarks: distinct objects per entry (as a store holds
 * them), varied methods, paths, statuses, names and latencies, small bodies so 1M fit in memory.
 */
import type { Entry } from '../../src/model/entry.ts';
import { buildEntry } from '../helpers/entries.ts';
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
 * `first` numbers the entries from there, so a source can make them batch by batch (as traffic
 * comes) instead of holding all of them at once; batches from the same `first` are the same.
 */
export function makeEntries(count: number, nowMs: number, first = 0): Entry[] {
  const rng = new Prng(11 + first);
  const entries: Entry[] = new Array(count);
  for (let j = 0; j < count; j++) {
    const i = first + j;
    const tsUs = (nowMs - rng.int(0, 600_000)) * 1000;
    const method = METHODS[rng.int(0, METHODS.length - 1)]!;
    const path = PATHS[rng.int(0, PATHS.length - 1)]!;
    const status = STATUSES[rng.int(0, STATUSES.length - 1)]!;
    const headers: Record<string, string> = { Host: 'shop.local', 'User-Agent': AGENTS[rng.int(0, AGENTS.length - 1)]!, Accept: '*/*' };
    if (rng.chance(0.3)) headers['Authorization'] = 'Bearer x';
    entries[j] = buildEntry({
      id: `${i >> 4}-${i & 15}`,
      src: { ip: CLIENT_IPS[i % CLIENT_IPS.length]!, port: 30000 + (i % 30000), name: NAMES[rng.int(0, NAMES.length - 1)]!, namespace: 'shop' },
      dst: { ip: '10.2.0.9', port: 80, name: NAMES[rng.int(0, NAMES.length - 1)]!, namespace: rng.chance(0.2) ? 'payments' : 'shop' },
      timestampUs: tsUs,
      elapsedMs: rng.int(1, 900_000) / 1000,
      requestSize: 200,
      responseSize: 400,
      method,
      url: URLS[PATHS.indexOf(path)]![i % 7]!,
      path,
      queryString: { page: String(i % 7) },
      requestHeaders: headers,
      requestHeadersSize: 200,
      status,
      statusText: 'X',
      responseHeaders: { 'Content-Type': 'application/json' },
      content: { size: 9, mimeType: 'application/json', text: `{"id":${i % 100}}` },
      responseHeadersSize: 120,
    });
  }
  return entries;
}

