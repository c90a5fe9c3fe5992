/**
 * The store keeps entries in compact form (src/pipeline/compact-ring.ts). These tests hold it to
 * what the plain entries gave: every entry of the capture corpus comes back deep-equal with the
 * same detail view, every filter selects exactly the entries it selects among the plain entries
 * (fixed queries over every protocol, queries made from the entries' own values, random queries),
 * and the side store for bodies stays within its budget, saying so where it dropped one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileKfl } from '../kfl/index.ts';
import type { CompiledFilter } from '../kfl/api.ts';
import { formatBytes } from '../model/byte-units.ts';
import { kflString } from '../model/kfl-string.ts';
import type { Entry } from '../model/entry.ts';
import { LARGE_PART_CHARS } from '../pipeline/compact-codec.ts';
import { RingEntryStore } from '../pipeline/entry-store.ts';
import { PartStore } from '../pipeline/part-store.ts';
import { buildEntry } from '../../test/helpers/entries.ts';
import { readEntries } from '../../test/helpers/read-entries.ts';
import { randomPredicate, rng } from '../../test/helpers/random-queries.ts';
import { readIndex, sharedPcapsDir } from '../../test/helpers/shared-pcaps.ts';
import { detailLines, rawJsonLines } from './detail-lines.ts';

const NOW_MS = Date.UTC(2026, 10, 29, 12, 0, 0);

async function corpus(): Promise<Entry[]> {
  const dir = sharedPcapsDir();
  const all: Entry[] = [];
  for (const record of readIndex(dir)) {
    const { all: entries } = await readEntries([join(dir, record.file)]);
    all.push(...entries);
  }
  return all;
}

function storeOf(entries: readonly Entry[], maxBodyBytes?: number): RingEntryStore {
  const store = new RingEntryStore({ maxEntries: entries.length + 10, ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}) });
  for (const e of entries) store.add(e);
  store.dispose();
  return store;
}

function compile(query: string): CompiledFilter | undefined {
  const result = compileKfl(query, { nowMs: NOW_MS });
  return result.ok ? result.filter : undefined;
}

/** The view's ids after setFilter over the held entries, and what the filter picks from the plain ones. */
function compare(store: RingEntryStore, entries: readonly Entry[], filter: CompiledFilter): void {
  store.setFilter(filter);
  const shown = store.snapshot().shown;
  const got = store.rows(0, shown).map((e) => e.id + '@' + e.timestamp);
  const want = entries.filter((e) => filter.test(e)).map((e) => e.id + '@' + e.timestamp);
  assert.deepEqual(got, want, `filter ${filter.query}`);
}

/** Leaf paths and values of an entry, as KFL `path == value` queries (strings and numbers). */
function valueQueries(entry: Entry, limit: number): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (out.length >= limit) return;
    if (typeof v === 'string' && v.length < 200) out.push(`${path} == ${kflString(v)}`);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(`${path} == ${v}`);
    else if (typeof v === 'boolean') out.push(`${path} == ${v}`);
    else if (Array.isArray(v)) v.slice(0, 3).forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}[${kflString(k)}]`);
  };
  for (const [k, v] of Object.entries(entry)) walk(v, /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) ? k : `[${kflString(k)}]`);
  return out;
}

const FIXED_QUERIES = [
  'http', 'dns', 'redis', 'kafka', 'amqp', 'mysql', 'postgresql', 'mongodb', 'websocket', 'grpc', 'tls',
  'response.status >= 400', 'response.status == 200 and request.method == "GET"', 'request.method == "POST"',
  'request.headers["user-agent"].contains("Mozilla")', 'request.headers["Content-Type"] != ""', 'response.headers["content-encoding"] == "gzip"',
  'response.content.text.contains("html")', 'request.postData.text.contains("=")', 'response.content.text.json().error != nil',
  'request.path.startsWith("/")', 'request.url.contains("?")', 'request.queryString["id"] != nil', 'elapsed_time > 1000',
  'src.ip.startsWith("192.")', 'dst.port == 6379', 'dst.port == 53 or dst.port == 5353', 'response.status == 101',
  'error != nil', 'error.type == "timeout"', 'response == nil', '..name == "x"', '..text.contains("a")', 'request..name != nil',
  'size(request.headers) > 3', 'request.headers.*.contains("text")', 'timestamp > 0', 'tls == false', 'protocol.abbr == "DNS"',
  'request.command == "GET"', 'request.questions[0].name.contains("com")', 'response.answers.size() > 0',
  'request.query.contains("SELECT")', 'request.topic != nil', 'request.method.startsWith("basic")', 'request.payload != nil',
  'method == "GET" && status_code < 300', 'path.matches(r"^/[a-z]+")', 'http and redact("request.path", "src.name")',
];

test('every corpus entry comes back equal from the compact store, with the same detail and raw views', async () => {
  const entries = await corpus();
  assert.ok(entries.length > 500, `corpus entries: ${entries.length}`);
  const protocols = new Set(entries.map((e) => e.protocol.name));
  for (const p of ['http', 'dns', 'redis', 'kafka', 'amqp', 'mysql', 'postgresql', 'websocket'] as const) assert.ok(protocols.has(p), `corpus has ${p}`);
  const store = storeOf(entries);
  assert.equal(store.snapshot().shown, entries.length);
  for (let i = 0; i < entries.length; i++) {
    const got = store.row(i)!;
    assert.deepStrictEqual(got, entries[i], `entry ${i} (${entries[i]!.protocol.name} ${entries[i]!.id})`);
    assert.deepStrictEqual(detailLines(got), detailLines(entries[i]!));
    assert.deepStrictEqual(rawJsonLines(got), rawJsonLines(entries[i]!));
  }
});

test('filters select exactly what they select among the plain entries: fixed, value and random queries over every protocol', async () => {
  const entries = await corpus();
  const store = storeOf(entries);
  let compared = 0;
  for (const q of FIXED_QUERIES) {
    const filter = compile(q);
    assert.ok(filter !== undefined, `compiles: ${q}`);
    compare(store, entries, filter);
    compared++;
  }
  // Queries from the values of one entry of each protocol: every field a filter can read.
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = `${entry.protocol.name}/${entry.protocol.abbr}`;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const q of valueQueries(entry, 60)) {
      const filter = compile(q);
      if (filter === undefined) continue;
      compare(store, entries, filter);
      compared++;
    }
  }
  const next = rng(17);
  for (let i = 0; i < 300; i++) {
    const filter = compile(randomPredicate(next));
    if (filter === undefined) continue;
    compare(store, entries, filter);
    compared++;
  }
  assert.ok(compared > 500, `queries compared: ${compared}`);
});

test('values JSON allows and odd keys survive exactly; entries with other values are kept as they came', () => {
  const odd = buildEntry({ id: 'odd', requestHeaders: { Accept: '*/*' } }) as Entry & Record<string, unknown>;
  const headers = Object.create(null) as Record<string, string>;
  Object.defineProperty(headers, '__proto__', { value: 'evil', enumerable: true, writable: true, configurable: true });
  headers['x-lone'] = '\ud800 lone surrogate and \u00e9\u4e2d';
  headers['12'] = 'integer-like key';
  const withOdd = { ...odd, extra: { negZero: -0, nan: Number.NaN, inf: -Infinity, big: 2 ** 60, frac: 0.1, undef: undefined, list: [1, 'two', null, [true]], headers } } as unknown as Entry;
  const withDate = { ...odd, id: 'dated', when: new Date(0) } as unknown as Entry;
  const store = storeOf([withOdd, withDate]);
  const back = store.row(0) as unknown as { extra: Record<string, unknown> };
  assert.ok(Object.is(back.extra['negZero'], -0));
  assert.ok(Number.isNaN(back.extra['nan']));
  assert.ok(Object.hasOwn(back.extra, 'undef'));
  const backHeaders = back.extra['headers'] as Record<string, string>;
  assert.ok(Object.hasOwn(backHeaders, '__proto__'));
  assert.equal(backHeaders['__proto__' as string], 'evil');
  assert.equal(Object.getPrototypeOf(backHeaders), null);
  assert.deepStrictEqual(store.row(0), withOdd);
  assert.deepEqual(Object.keys(backHeaders), Object.keys(headers));
  assert.equal(backHeaders['x-lone'], headers['x-lone']);
  assert.deepEqual(back.extra['list'], [1, 'two', null, [true]]);
  assert.equal(store.row(1), withDate); // not encodable: the very object
});

test('the side store never holds more body bytes than its budget; dropped bodies are counted and shown as dropped', () => {
  const budget = 64 * 1024;
  const parts = new PartStore(budget);
  const next = rng(5);
  let put = 0;
  for (let i = 0; i < 2000; i++) {
    const size = Math.floor(next() * 20_000);
    parts.put((i % 7 === 0 ? '\u4e2d' : 'x').repeat(size));
    put++;
    assert.ok(parts.bytes <= budget, `after ${put} parts: ${parts.bytes} > ${budget}`);
    if (i % 100 === 99) parts.releaseBefore(parts.nextId - 50);
  }
  assert.ok(parts.dropped > 0);

  const body = (i: number): string => `{"n":${i},"pad":"${'p'.repeat(LARGE_PART_CHARS * 4)}"}`;
  const entries = Array.from({ length: 40 }, (_, i) =>
    buildEntry({ id: `0-${i}`, url: '/b', status: 200, content: { size: body(i).length, mimeType: 'application/json', text: body(i) } }));
  // The ten newest bodies (all of one length) fit the budget exactly.
  const budget2 = 10 * body(39).length;
  const store = storeOf(entries, budget2);
  const snap = store.snapshot();
  assert.ok(snap.bodies !== undefined && snap.bodies.heldBytes <= snap.bodies.budgetBytes);
  assert.equal(snap.bodies.dropped, 30);
  const old = store.row(0)!;
  const text = (old.response as { content: { text: string } }).content.text;
  assert.ok(text.startsWith(`[dropped: a ${formatBytes(body(0).length)} body or value, not kept — the TUI keeps the newest ${formatBytes(budget2)} of bodies`), text);
  assert.ok(detailLines(old).some((l) => l.text.includes('dropped:')), 'the detail pane shows the body as dropped');
  assert.deepStrictEqual(store.row(39), entries[39]); // the newest bodies are kept whole

  // A filter reading bodies: the dropped ones read as null, and the pass counts them.
  const filter = compile('response.content.text.contains("pad")')!;
  store.setFilter(filter);
  assert.equal(store.snapshot().shown, 10);
  assert.equal(store.snapshot().filterReadDropped, 30);
  // A filter not reading bodies is exact and counts nothing.
  store.setFilter(compile('response.status == 200')!);
  assert.equal(store.snapshot().shown, 40);
  assert.equal(store.snapshot().filterReadDropped, undefined);
});

test('evicted entries free their bodies: a long run stays within the budget and the slabs follow the ring', () => {
  const text = 'b'.repeat(3000);
  const store = new RingEntryStore({ maxEntries: 100, maxBodyBytes: 1_000_000 });
  for (let i = 0; i < 5000; i++) {
    store.add(buildEntry({ id: `1-${i}`, url: `/x/${i}`, content: { size: text.length, mimeType: 'text/plain', text } }));
  }
  store.dispose();
  const snap = store.snapshot();
  assert.equal(snap.held, 100);
  assert.equal(snap.bodies?.heldBytes, 100 * 3000);
  assert.equal(snap.bodies?.dropped, 0);
  assert.equal(store.row(99)!.id, '1-4999');
  // 5000 entries went through a ring of 100: the slabs of the evicted ones were freed (at most the
  // slab being filled and the one before it stay, 4 MiB each).
  for (let i = 0; i < 40_000; i++) store.add(buildEntry({ id: `2-${i}`, url: `/y/${i}`, requestHeaders: { 'X-Pad': 'v'.repeat(900) + String(i) } }));
  const more = store.compactBytes();
  assert.ok(more < 9 * 1024 * 1024, `compact bytes after 45k entries through a ring of 100: ${more}`);
});
