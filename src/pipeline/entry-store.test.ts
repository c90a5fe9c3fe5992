import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../model/entry.ts';
import { isHttpEntry, type HttpEntry } from '../remote-agent/dissect/http1/entry.ts';
import { DEFAULT_FRAME_MS, RATE_TICK_MS, RingEntryStore } from './entry-store.ts';
import { ManualClock, predicateFilter, testEntry } from '../../test/helpers/entry-store.ts';

function newStore(clock: ManualClock, maxEntries = 1000): RingEntryStore {
  return new RingEntryStore({ maxEntries, now: clock.now, schedule: clock.schedule });
}

function ids(entries: readonly { readonly id: string }[]): string[] {
  return entries.map((e) => e.id);
}

/** Entries "0".."n-1"; even ids have status 500 so a filter can select them. */
function numbered(n: number, from = 0): HttpEntry[] {
  const out: HttpEntry[] = [];
  for (let i = from; i < from + n; i++) out.push(testEntry({ id: String(i), status: i % 2 === 0 ? 500 : 200 }));
  return out;
}

const errorsOnly = predicateFilter('response.status >= 500', (e) => (e.response?.status ?? 0) >= 500);

test('100 adds within a frame make one notification', () => {
  const clock = new ManualClock();
  const store = newStore(clock);
  let calls = 0;
  store.subscribe(() => calls++);
  for (const e of numbered(100)) store.add(e);
  assert.equal(calls, 0, 'arrivals wait for the frame');
  assert.equal(clock.delays[0], DEFAULT_FRAME_MS);
  clock.advance(DEFAULT_FRAME_MS);
  assert.equal(calls, 1);
  assert.equal(store.snapshot().total, 100);
  for (const e of numbered(5, 100)) store.add(e);
  clock.advance(DEFAULT_FRAME_MS);
  assert.equal(calls, 2);
});

test('unsubscribe stops notifications', () => {
  const clock = new ManualClock();
  const store = newStore(clock);
  let calls = 0;
  const off = store.subscribe(() => calls++);
  off();
  store.add(testEntry());
  clock.advance(100);
  assert.equal(calls, 0);
});

test('setFilter notifies at once and replaces the pending frame', () => {
  const clock = new ManualClock();
  const store = newStore(clock);
  let calls = 0;
  store.subscribe(() => calls++);
  for (const e of numbered(10)) store.add(e);
  store.setFilter(errorsOnly);
  assert.equal(calls, 1);
  clock.advance(DEFAULT_FRAME_MS);
  assert.equal(calls, 1, 'the arrivals were covered by the filter notification');
  const snap = store.snapshot();
  assert.equal(snap.shown, 5);
  assert.equal(snap.filter, 'response.status >= 500');
});

test('snapshot keeps its identity until something changes, then the version grows', () => {
  const clock = new ManualClock();
  const store = newStore(clock);
  const s0 = store.snapshot();
  assert.equal(store.snapshot(), s0);
  assert.ok(Object.isFrozen(s0));
  assert.deepEqual({ ...s0 }, { version: 0, total: 0, held: 0, evicted: 0, shown: 0, entriesPerSec: 0, drops: 0, filter: '', ended: false });
  store.add(testEntry());
  const s1 = store.snapshot();
  assert.notEqual(s1, s0);
  assert.equal(s1.version, 1);
  assert.equal(store.snapshot(), s1);
  store.addDrops(7);
  store.addDrops(0);
  store.end();
  const s2 = store.snapshot();
  assert.equal(s2.version, 2);
  assert.equal(s2.drops, 7);
  assert.equal(s2.ended, true);
});

test('a full ring evicts the oldest and counts it', () => {
  const clock = new ManualClock();
  const store = newStore(clock, 4);
  for (const e of numbered(10)) store.add(e);
  const snap = store.snapshot();
  assert.equal(snap.total, 10);
  assert.equal(snap.held, 4);
  assert.equal(snap.evicted, 6);
  assert.equal(snap.shown, 4);
  assert.deepEqual(ids(store.rows(0, 100)), ['6', '7', '8', '9']);
});

test('the filtered view stays consistent under eviction', () => {
  const clock = new ManualClock();
  const store = newStore(clock, 5);
  store.setFilter(errorsOnly);
  for (const e of numbered(5)) store.add(e); // 0..4: matches 0 2 4
  assert.deepEqual(ids(store.rows(0, 10)), ['0', '2', '4']);
  store.add(numbered(1, 5)[0]!); // evicts 0 (a match); 5 does not match
  assert.deepEqual(ids(store.rows(0, 10)), ['2', '4']);
  store.add(numbered(1, 6)[0]!); // evicts 1 (not a match); 6 matches
  assert.deepEqual(ids(store.rows(0, 10)), ['2', '4', '6']);
  for (const e of numbered(20, 7)) store.add(e); // ring holds 22..26
  assert.deepEqual(ids(store.rows(0, 10)), ['22', '24', '26']);
  const snap = store.snapshot();
  assert.equal(snap.shown, 3);
  assert.equal(snap.held, 5);
  assert.equal(snap.evicted, 22);
  // The same view rebuilt from scratch agrees with the incremental one.
  store.setFilter(errorsOnly);
  assert.deepEqual(ids(store.rows(0, 10)), ['22', '24', '26']);
});

test('setFilter on a full, wrapped ring, and back to no filter', () => {
  const clock = new ManualClock();
  const store = newStore(clock, 100);
  for (const e of numbered(250)) store.add(e); // ring holds 150..249, wrapped
  store.setFilter(errorsOnly);
  assert.equal(store.snapshot().shown, 50);
  assert.equal(store.row(0)?.id, '150');
  assert.equal(store.row(49)?.id, '248');
  store.setFilter(predicateFilter('nothing', () => false));
  assert.equal(store.snapshot().shown, 0);
  assert.deepEqual(store.rows(0, 10), []);
  store.setFilter(null);
  assert.equal(store.snapshot().shown, 100);
  assert.equal(store.snapshot().filter, '');
  assert.equal(store.row(0)?.id, '150');
  assert.equal(store.row(99)?.id, '249');
});

test('rows() and row() index the view and clamp out-of-range requests', () => {
  const clock = new ManualClock();
  const store = newStore(clock, 10);
  for (const e of numbered(13)) store.add(e); // holds 3..12
  assert.deepEqual(ids(store.rows(2, 3)), ['5', '6', '7']);
  assert.deepEqual(ids(store.rows(8, 60)), ['11', '12']);
  assert.deepEqual(ids(store.rows(-2, 3)), ['3', '4', '5']);
  assert.deepEqual(store.rows(10, 5), []);
  assert.deepEqual(store.rows(0, 0), []);
  assert.equal(store.row(0)?.id, '3');
  assert.equal(store.row(9)?.id, '12');
  assert.equal(store.row(10), undefined);
  assert.equal(store.row(-1), undefined);
  assert.equal(store.row(1.5), undefined);
  store.setFilter(errorsOnly); // 4 6 8 10 12
  assert.deepEqual(ids(store.rows(1, 2)), ['6', '8']);
  assert.equal(store.row(4)?.id, '12');
  assert.equal(store.row(5), undefined);
});

test('rows of a redacting filter come out redacted', () => {
  const clock = new ManualClock();
  const store = newStore(clock);
  store.add(testEntry({ id: 'a', path: '/secret' }));
  const redacting = {
    ...predicateFilter('redact("request.path")', () => true),
    redactPaths: ['request.path'],
    redact: <E extends Entry>(e: E): E => (isHttpEntry(e) ? ({ ...e, request: { ...e.request, path: '[REDACTED]' } } as E) : e),
  };
  store.setFilter(redacting);
  const pathOf = (e: Entry | undefined): string | undefined => (e !== undefined && isHttpEntry(e) ? e.request.path : undefined);
  assert.equal(pathOf(store.row(0)), '[REDACTED]');
  assert.equal(pathOf(store.rows(0, 1)[0]), '[REDACTED]');
});

test('entriesPerSec follows the injected clock and decays to 0 when traffic stops', () => {
  const clock = new ManualClock(1_000_000);
  const store = newStore(clock, 10_000);
  let calls = 0;
  store.subscribe(() => calls++);
  // 20 entries a second for 10 s (one every 50 ms).
  for (let i = 0; i < 200; i++) {
    store.add(testEntry({ id: String(i) }));
    clock.advance(50);
  }
  const busy = store.snapshot().entriesPerSec;
  assert.ok(Math.abs(busy - 20) <= 0.5, `rate ${busy}`);
  const before = calls;
  clock.advance(2 * RATE_TICK_MS); // no arrivals: the rate tick keeps the header honest
  assert.ok(calls > before, 'rate changes are announced without arrivals');
  const falling = store.snapshot().entriesPerSec;
  assert.ok(falling > 0 && falling < busy, `rate ${falling}`);
  clock.advance(10 * RATE_TICK_MS);
  assert.equal(store.snapshot().entriesPerSec, 0);
  assert.equal(clock.pending, 0, 'no timers once the window is empty');
});

test('the rate of a fresh store is not diluted by the part of the window not yet seen', () => {
  const clock = new ManualClock(0);
  const store = newStore(clock);
  for (let i = 0; i < 10; i++) store.add(testEntry());
  clock.advance(1000);
  assert.equal(store.snapshot().entriesPerSec, 10);
});

test('graph() is the graph of the filtered view, kept through filter changes and eviction', () => {
  const clock = new ManualClock();
  const store = newStore(clock, 4);
  const add = (id: string, dst: string, status: number): void => store.add(testEntry({ id, src: 'web', dst, status }));
  add('1', 'carts', 200);
  add('2', 'carts', 500);
  add('3', 'orders', 200);
  const g1 = store.graph();
  assert.equal(store.graph(), g1, 'same object while nothing changes');
  assert.deepEqual(g1.edges.map((e) => [e.to, e.requests, e.serverErrors]), [['carts', 2, 1], ['orders', 1, 0]]);
  store.setFilter(errorsOnly);
  assert.deepEqual(store.graph().edges.map((e) => [e.to, e.requests]), [['carts', 1]]);
  assert.deepEqual(store.graph().nodes.map((n) => n.id), ['carts', 'web']);
  store.setFilter(null);
  add('4', 'orders', 200);
  add('5', 'orders', 200); // evicts 1
  add('6', 'orders', 200); // evicts 2: carts leaves the graph
  const g2 = store.graph();
  assert.notEqual(g2, g1);
  assert.deepEqual(g2.edges.map((e) => [e.to, e.requests, e.serverErrors]), [['orders', 4, 0]]);
  assert.deepEqual(g2.nodes.map((n) => n.id), ['orders', 'web']);
});

test('eviction under a filter only removes matching entries from the graph', () => {
  const clock = new ManualClock();
  const store = newStore(clock, 3);
  store.setFilter(errorsOnly);
  store.add(testEntry({ id: '1', src: 'a', dst: 'b', status: 500 }));
  store.add(testEntry({ id: '2', src: 'a', dst: 'b', status: 200 }));
  store.add(testEntry({ id: '3', src: 'a', dst: 'b', status: 503 }));
  assert.equal(store.graph().edges[0]?.requests, 2);
  store.add(testEntry({ id: '4', src: 'a', dst: 'b', status: 200 })); // evicts 1 (a match)
  assert.equal(store.graph().edges[0]?.requests, 1);
  store.add(testEntry({ id: '5', src: 'a', dst: 'b', status: 200 })); // evicts 2 (not one)
  assert.equal(store.graph().edges[0]?.requests, 1);
  store.add(testEntry({ id: '6', src: 'a', dst: 'b', status: 200 })); // evicts 3
  assert.deepEqual(store.graph().edges, []);
  assert.equal(store.snapshot().shown, 0);
});

test('dispose cancels pending timers', () => {
  const clock = new ManualClock();
  const store = newStore(clock);
  let calls = 0;
  store.subscribe(() => calls++);
  store.add(testEntry());
  store.dispose();
  assert.equal(clock.pending, 0);
  clock.advance(10_000);
  assert.equal(calls, 0);
});

test('the graph is rebuilt lazily after a filter change and matches the view after evictions', () => {
  const clock = new ManualClock(0);
  const store = new RingEntryStore({ maxEntries: 4, now: clock.now, schedule: clock.schedule });
  const edge = (i: number): HttpEntry => testEntry({ id: `0-${i}`, src: i % 2 === 0 ? 'a' : 'b', dst: 'c', status: 200 });
  for (let i = 0; i < 4; i++) store.add(edge(i));
  store.setFilter(predicateFilter('src.name == "a"', (e) => e.src.name === 'a'));
  // Arrivals while the graph is stale evict old entries: the rebuild must see only the view.
  for (let i = 4; i < 7; i++) store.add(edge(i));
  const graph = store.graph();
  const requests = graph.edges.reduce((n, e) => n + e.requests, 0);
  assert.equal(requests, store.snapshot().shown);
  assert.deepEqual(graph.edges.map((e) => `${e.from}->${e.to}`), ['a->c']);
  store.setFilter(null);
  assert.equal(store.graph().edges.reduce((n, e) => n + e.requests, 0), 4);
});

test('a live tap sets its scope and the redaction-off mark; each is a visible change', () => {
  const clock = new ManualClock();
  const store = newStore(clock);
  let calls = 0;
  store.subscribe(() => calls++);
  const namespaces = ['shop'];
  store.setScope({ context: 'sandbox', namespaces, pods: 3 });
  namespaces.push('mutated later');
  clock.advance(DEFAULT_FRAME_MS);
  const s1 = store.snapshot();
  assert.equal(calls, 1);
  assert.deepEqual(s1.scope, { context: 'sandbox', namespaces: ['shop'], pods: 3 });
  assert.equal(s1.redactionOff, undefined);
  store.markRedactionOff();
  store.markRedactionOff();
  const s2 = store.snapshot();
  assert.equal(s2.version, s1.version + 1);
  assert.equal(s2.redactionOff, true);
  assert.equal(store.snapshot(), s2);
});
