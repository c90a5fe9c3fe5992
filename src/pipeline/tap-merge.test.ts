import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { buildEntry } from '../../test/helpers/entries.ts';
import type { Entry } from '../model/entry.ts';
import type { HttpEntry } from '../remote-agent/dissect/http1/entry.ts';
import type { EntryFrame, HelloFrame, StatsFrame } from '../remote-agent/wire/protocol.ts';
import { ClusterNames } from './cluster-names.ts';
import { dedupKey, TapMerger, type TapMergerOptions, type TapSource } from './tap-merge.ts';
import { join } from 'node:path';
import type { WebSocketEntry } from '../remote-agent/dissect/websocket/entry.ts';
import { readEntries } from '../../test/helpers/read-entries.ts';
import { REPO_ROOT } from '../../test/helpers/shared-pcaps.ts';

const FRONT: TapSource = { key: 'shop/front-end-1', namespace: 'shop', pod: 'front-end-1' };
const CATALOGUE: TapSource = { key: 'shop/catalogue-1', namespace: 'shop', pod: 'catalogue-1' };
const DB: TapSource = { key: 'shop/db-0', namespace: 'shop', pod: 'db-0' };

interface CallSpec {
  readonly id?: string;
  readonly srcIp?: string;
  readonly srcPort?: number;
  readonly dstIp?: string;
  readonly dstPort?: number;
  readonly method?: string;
  readonly url?: string;
  /** The frame's requestSeq (absent: a frame without one). */
  readonly seq?: unknown;
}

function call(spec: CallSpec = {}): EntryFrame {
  const url = spec.url ?? '/catalogue';
  const entry = buildEntry({
    id: spec.id ?? '0-0',
    src: { ip: spec.srcIp ?? '10.244.0.2', port: spec.srcPort ?? 40000 },
    dst: { ip: spec.dstIp ?? '10.244.0.3', port: spec.dstPort ?? 8080 },
    timestampUs: 1_764_000_000_000_000,
    elapsedMs: 1.5,
    requestSize: 80,
    responseSize: 120,
    method: spec.method ?? 'GET',
    url,
    path: url,
    queryString: {},
    requestHeadersSize: 80,
    status: null,
    error: null,
  });
  return spec.seq === undefined ? { type: 'entry', entry } : ({ type: 'entry', entry, requestSeq: spec.seq } as EntryFrame);
}

function hello(redaction = true): HelloFrame {
  return {
    type: 'hello',
    version: 1,
    agentVersion: '0.1.0',
    capabilities: [],
    iface: 'any',
    pid: 7,
    source: 'af_packet',
    redaction: { enabled: redaction, keys: [] },
    filter: null,
    maxMemoryBytes: 1 << 28,
    startedAtMs: 0,
  };
}

function statsFrame(counts: Partial<StatsFrame>): StatsFrame {
  return {
    type: 'stats',
    packets: 0,
    bytes: 0,
    kernelDrops: 0,
    entries: 0,
    sent: 0,
    filtered: 0,
    dropped: 0,
    malformed: 0,
    gapBytes: 0,
    memoryResets: 0,
    rssBytes: 0,
    heapUsedBytes: 0,
    queuedBytes: 0,
    uptimeMs: 0,
    ...counts,
  };
}

function setup(options: Omit<TapMergerOptions, 'now'> = {}) {
  const names = new ClusterNames();
  names.upsertPod({ namespace: 'shop', name: 'front-end-1', ip: '10.244.0.2', labels: { app: 'front-end' }, workload: 'front-end' });
  names.upsertPod({ namespace: 'shop', name: 'catalogue-1', ip: '10.244.0.3', labels: { app: 'catalogue' } });
  names.upsertService({ namespace: 'shop', name: 'catalogue', clusterIP: '10.96.0.3', selector: { app: 'catalogue' } });
  const out: HttpEntry[] = [];
  const clock = { now: 0 };
  const merger = new TapMerger(names, (e) => out.push(e as HttpEntry), { ...options, now: () => clock.now });
  return { names, out, clock, merger };
}

test('entries are re-id by pod, named on both ends, and handed on', () => {
  const { out, merger } = setup();
  merger.frame(FRONT, hello());
  merger.frame(FRONT, call({ id: '3-1', dstIp: '10.96.0.3', dstPort: 80 }));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.id, 'shop/front-end-1/3-1');
  assert.deepEqual(out[0]!.src, { ip: '10.244.0.2', port: 40000, name: 'front-end', namespace: 'shop', pod: 'front-end-1', service: '' });
  assert.deepEqual(out[0]!.dst, { ip: '10.96.0.3', port: 80, name: 'catalogue', namespace: 'shop', pod: '', service: 'catalogue' });
  assert.equal(merger.stats()[0]!.entries, 1);
});

test('the same call seen by the client pod and the server pod is handed on once', () => {
  const { out, merger } = setup();
  // Client side: to the clusterIP; server side (after DNAT): to the pod, with another connection index.
  merger.frame(FRONT, call({ id: '0-2', dstIp: '10.96.0.3', dstPort: 80 }));
  merger.frame(CATALOGUE, call({ id: '7-2', dstIp: '10.244.0.3', dstPort: 8080 }));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.id, 'shop/front-end-1/0-2');
  assert.equal(merger.duplicates, 1);
  const byKey = Object.fromEntries(merger.stats().map((s) => [s.key, s]));
  assert.equal(byKey['shop/front-end-1']!.entries, 1);
  assert.equal(byKey['shop/catalogue-1']!.entries, 0);
  assert.equal(byKey['shop/catalogue-1']!.duplicates, 1);
  // A third agent seeing it too (a sidecar's pod, say) is dropped as well.
  merger.frame(DB, call({ id: '1-2' }));
  assert.equal(merger.duplicates, 2);
});

test('different pair ordinals, ports, methods or URLs are different calls', () => {
  const { out, merger } = setup();
  merger.frame(FRONT, call({ id: '0-0' }));
  merger.frame(CATALOGUE, call({ id: '0-1' }));
  merger.frame(CATALOGUE, call({ id: '0-0', srcPort: 40001 }));
  merger.frame(CATALOGUE, call({ id: '0-0', method: 'POST' }));
  merger.frame(CATALOGUE, call({ id: '0-0', url: '/catalogue?page=2' }));
  merger.frame(CATALOGUE, call({ id: '0-0', srcIp: '10.244.0.9' }));
  assert.equal(out.length, 6);
  assert.equal(merger.duplicates, 0);
});

test('with requestSeq, a call is known by where its request lies in the connection, not by the pair ordinal', () => {
  const { out, merger } = setup();
  // The client pod's agent saw the keep-alive connection from its first request, the server pod's
  // agent joined after five: the same calls have other ordinals there (0-5 is its 0-0).
  for (let i = 0; i < 8; i++) merger.frame(FRONT, call({ id: `0-${i}`, url: `/item/${i}`, seq: 1000 + 100 * i }));
  for (let i = 5; i < 8; i++) merger.frame(CATALOGUE, call({ id: `4-${i - 5}`, url: `/item/${i}`, seq: 1000 + 100 * i, dstIp: '10.244.0.3', dstPort: 8080 }));
  assert.deepEqual(out.map((e) => e.request.url), [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `/item/${i}`));
  assert.equal(merger.duplicates, 3);
  // Same ordinal and request line, other position: another call (repeated requests are common).
  merger.frame(CATALOGUE, call({ id: '4-3', url: '/item/0', seq: 1000 + 100 * 8 }));
  assert.equal(out.length, 9);
  assert.equal(merger.duplicates, 3);
});

test('the pair ordinal joined at different requests matches the wrong calls: why it is only the fallback', () => {
  const { out, merger } = setup();
  for (let i = 0; i < 4; i++) merger.frame(FRONT, call({ id: `0-${i}`, url: '/health' }));
  // Without requestSeq, the server agent's 0-0 (the client's 0-2) is taken for the client's 0-0.
  merger.frame(CATALOGUE, call({ id: '4-0', url: '/health' }));
  assert.equal(merger.duplicates, 1);
  assert.equal(out.length, 4);
  assert.equal(dedupKey(call({ id: '0-2', url: '/health' }).entry), dedupKey(call({ id: '4-2', url: '/health' }).entry));
});

test('a requestSeq that is not a 32-bit sequence number is ignored (frames come from pods)', () => {
  const base = call({ id: '0-3' });
  const withSeq = (seq: unknown): string => dedupKey(base.entry, seq as number);
  assert.equal(withSeq(undefined), dedupKey(base.entry));
  for (const bad of ['12', -1, 2 ** 32, 1.5, Number.NaN, null, { n: 1 }]) assert.equal(withSeq(bad), dedupKey(base.entry), JSON.stringify(bad));
  assert.notEqual(withSeq(0), dedupKey(base.entry));
  assert.notEqual(withSeq(2 ** 32 - 1), withSeq(0));
});

test('repeats from one source are not duplicates', () => {
  const { out, merger } = setup();
  merger.frame(FRONT, call({ id: '0-0' }));
  merger.frame(FRONT, call({ id: '4-0' }));
  assert.equal(out.length, 2);
  assert.equal(merger.duplicates, 0);
  assert.deepEqual(out.map((e) => e.id), ['shop/front-end-1/0-0', 'shop/front-end-1/4-0']);
});

test('a call is forgotten after the window', () => {
  const { out, clock, merger } = setup({ dedupWindowMs: 1000 });
  merger.frame(FRONT, call());
  clock.now = 999;
  merger.frame(CATALOGUE, call());
  assert.equal(out.length, 1);
  clock.now = 1000;
  merger.frame(CATALOGUE, call());
  assert.equal(out.length, 2);
  // Now the catalogue pod's sighting is the one remembered.
  clock.now = 1500;
  merger.frame(FRONT, call());
  assert.equal(out.length, 2);
  clock.now = 5000;
  merger.frame(DB, call({ url: '/other' }));
  assert.equal(merger.dedupKeys, 1, 'expired sightings are evicted');
});

test('de-duplication memory is bounded by maxDedupKeys, oldest first', () => {
  const { out, merger } = setup({ maxDedupKeys: 3 });
  for (let i = 0; i < 5; i++) merger.frame(FRONT, call({ id: `${i}-0`, srcPort: 40000 + i }));
  assert.equal(merger.dedupKeys, 3);
  // The two oldest are forgotten, so the server side's copies get through; the newest three do not.
  for (let i = 4; i >= 0; i--) merger.frame(CATALOGUE, call({ id: `${i}-0`, srcPort: 40000 + i }));
  assert.equal(out.length, 5 + 2);
  assert.ok(merger.dedupKeys <= 3);
});

test('long URLs are keyed by a bounded prefix and their length', () => {
  const long = `/q?${'a'.repeat(10_000)}`;
  const key = dedupKey((call({ url: long }) as { entry: HttpEntry }).entry);
  assert.ok(key.length < 400);
  assert.notEqual(key, dedupKey((call({ url: `${long}b` }) as { entry: HttpEntry }).entry));
});

test('stats frames fill the counters, summed over agent restarts; drops are reported as they grow', () => {
  const drops: number[] = [];
  const { merger } = setup({ onDrops: (delta) => drops.push(delta) });
  merger.frame(FRONT, hello());
  assert.equal(merger.stats()[0]!.state, 'capturing');
  merger.frame(FRONT, statsFrame({ sent: 10, dropped: 1, kernelDrops: 2, packets: 100 }));
  merger.frame(FRONT, statsFrame({ sent: 20, dropped: 1, kernelDrops: 5, packets: 200 }));
  let s = merger.stats()[0]!;
  assert.deepEqual([s.sent, s.dropped, s.kernelDrops, s.packets], [20, 1, 5, 200]);
  // A retried stream starts a new agent whose counters start again from 0.
  merger.frame(FRONT, hello());
  merger.frame(FRONT, statsFrame({ sent: 3, dropped: 4, kernelDrops: 0, packets: 30 }));
  s = merger.stats()[0]!;
  assert.deepEqual([s.sent, s.dropped, s.kernelDrops, s.packets], [23, 5, 5, 230]);
  assert.equal(s.runs, 2);
  assert.match(s.lastMessage, /restarted/);
  assert.deepEqual(drops, [3, 3, 4]);
});

test('entries of a restarted agent get ids that cannot collide with the first run', () => {
  const { out, merger } = setup();
  merger.frame(FRONT, hello());
  merger.frame(FRONT, call({ id: '0-0' }));
  merger.frame(FRONT, hello());
  merger.frame(FRONT, call({ id: '0-0', srcPort: 40001 }));
  assert.deepEqual(out.map((e) => e.id), ['shop/front-end-1/0-0', 'shop/front-end-1/r2.0-0']);
});

test('warnings are counted; an error frame or a bye with reason error fails the pod', () => {
  const { merger } = setup();
  merger.frame(FRONT, hello());
  merger.frame(FRONT, { type: 'warning', code: 'KERNEL_DROPS', message: 'the kernel dropped 5 frames' });
  merger.frame(FRONT, { type: 'warning', code: 'BACKPRESSURE', message: 'stdout is slow' });
  merger.frame(CATALOGUE, hello());
  merger.frame(CATALOGUE, { type: 'error', code: 'CAPTURE_PERMISSION', message: 'no CAP_NET_RAW' });
  merger.frame(CATALOGUE, { type: 'bye', reason: 'error' });
  merger.frame(DB, hello());
  merger.frame(DB, { type: 'bye', reason: 'error' });
  merger.frame(DB, { type: 'filter', query: 'x' });
  const [front, catalogue, db] = merger.stats();
  assert.equal(front!.warnings, 2);
  assert.equal(front!.lastMessage, 'stdout is slow');
  assert.equal(front!.state, 'capturing');
  assert.deepEqual([catalogue!.state, catalogue!.lastMessage], ['failed', 'no CAP_NET_RAW']);
  assert.equal(db!.state, 'failed');
});

test('ended marks a pod ended or failed; an agent error is not hidden by the end of its stream', () => {
  const { merger } = setup();
  merger.started(FRONT, 'injecting shark-abcde');
  assert.deepEqual([merger.stats()[0]!.state, merger.stats()[0]!.lastMessage], ['starting', 'injecting shark-abcde']);
  merger.frame(FRONT, hello());
  merger.frame(FRONT, { type: 'bye', reason: 'stdin-eof' });
  merger.ended(FRONT, 'ended', 'pod deleted');
  merger.frame(CATALOGUE, { type: 'error', code: 'CAPTURE_SOCKET', message: 'socket failed' });
  merger.ended(CATALOGUE, 'ended', 'exec stream closed');
  merger.ended(DB, 'failed', 'exec: connection refused');
  const [front, catalogue, db] = merger.stats();
  assert.deepEqual([front!.state, front!.lastMessage], ['ended', 'pod deleted']);
  assert.deepEqual([catalogue!.state, catalogue!.lastMessage], ['failed', 'socket failed']);
  assert.deepEqual([db!.state, db!.lastMessage, db!.entries], ['failed', 'exec: connection refused', 0]);
});

test('an agent without redaction is reported once and marks its pod', () => {
  const off: string[] = [];
  const { merger } = setup({ onRedactionOff: (source) => off.push(source.key) });
  merger.frame(FRONT, hello(true));
  assert.equal(merger.redactionOff, false);
  merger.frame(CATALOGUE, hello(false));
  merger.frame(DB, hello(false));
  assert.equal(merger.redactionOff, true);
  assert.deepEqual(off, ['shop/catalogue-1']);
  assert.deepEqual(merger.stats().map((s) => s.redaction), [true, false, false]);
});

test('stats() returns copies', () => {
  const { merger } = setup();
  merger.frame(FRONT, call());
  const copy = merger.stats()[0]!;
  copy.entries = 99;
  assert.equal(merger.stats()[0]!.entries, 1);
});

test('seen, filtered and traffic not dissected come from stats frames, summed over agent restarts; hostile values are dropped', () => {
  const { merger } = setup();
  merger.frame(FRONT, hello());
  assert.equal(merger.stats()[0]!.undissected, undefined, 'an agent that never said: nothing to show');
  merger.frame(FRONT, statsFrame({ entries: 40, sent: 0, filtered: 40, undissected: { connections: { tls: 2 }, datagrams: { dns: 6 }, udpFlows: { dns: 3 } } }));
  merger.frame(FRONT, hello());
  const hostile = { connections: { tls: 1, '\u001b[2J': 9, redis: -4 }, datagrams: 'many', udpFlows: {} } as unknown as StatsFrame['undissected'];
  merger.frame(FRONT, statsFrame({ entries: 5, sent: 1, filtered: 4, undissected: hostile }));
  const s = merger.stats()[0]!;
  assert.deepEqual([s.seen, s.sent, s.filtered], [45, 1, 44]);
  assert.deepEqual(JSON.parse(JSON.stringify(s.undissected)), { connections: { tls: 3 }, datagrams: { dns: 6 }, udpFlows: { dns: 3 } });
});

test("internal errors come from the agents' stats frames, summed over restarts; older agents and hostile values say none", () => {
  const { merger } = setup();
  merger.frame(FRONT, hello());
  merger.frame(FRONT, statsFrame({}));
  assert.equal(merger.stats()[0]!.internalErrors, undefined, 'an agent that never said: nothing to show');
  merger.frame(FRONT, statsFrame({ internalErrors: 1 }));
  merger.frame(FRONT, statsFrame({ internalErrors: 2 }));
  assert.equal(merger.stats()[0]!.internalErrors, 2, 'stats frames are cumulative within a run');
  merger.frame(FRONT, hello());
  merger.frame(FRONT, statsFrame({ internalErrors: 3 }));
  assert.equal(merger.stats()[0]!.internalErrors, 5);
  for (const hostile of [-1, 2.5, Number.MAX_VALUE, '7', null]) {
    merger.frame(FRONT, statsFrame({ internalErrors: hostile as number }));
    assert.equal(merger.stats()[0]!.internalErrors, 2, `${String(hostile)} counts as 0 for this run`);
  }
});

test('links between entries follow the re-id and the merge: a WebSocket message leads to the upgrade that was handed on', async () => {
  const { all } = await readEntries([join(REPO_ROOT, 'test/fixtures/pcaps/websocket/echo-port80.pcap')]);
  const upgrade = all.find((e) => e.protocol.name === 'http')!;
  const messages = all.filter((e): e is WebSocketEntry => e.protocol.name === 'websocket');
  const { out, merger } = setup();
  const copy = <T,>(e: T): T => structuredClone(e);
  const frame = (entry: Entry, seq: number): EntryFrame => ({ type: 'entry', entry, requestSeq: seq });
  merger.frame(FRONT, hello());
  merger.frame(CATALOGUE, hello());
  // Each pod numbers the connection itself: front-end calls it 3, catalogue 8.
  const renumber = <T extends Entry>(e: T, conn: number): T => ({ ...copy(e), id: `${conn}${e.id.slice(e.id.indexOf('-'))}`, ...('upgradeId' in e ? { upgradeId: `${conn}-0` } : {}) });
  merger.frame(FRONT, frame(renumber(upgrade, 3), 1000)); // kept
  merger.frame(CATALOGUE, frame(renumber(upgrade, 8), 1000)); // the other end's sighting: dropped
  merger.frame(CATALOGUE, frame(renumber(messages[0]!, 8), 2000)); // the message, first seen by catalogue
  merger.frame(FRONT, frame(renumber(messages[0]!, 3), 2000)); // dropped
  const handedOn = out as unknown as Entry[];
  assert.deepEqual(handedOn.map((e) => e.id), ['shop/front-end-1/3-0', `shop/catalogue-1/8${messages[0]!.id.slice(messages[0]!.id.indexOf('-'))}`]);
  assert.equal((handedOn[1] as WebSocketEntry).upgradeId, 'shop/front-end-1/3-0', 'the link leads to the upgrade that was handed on');
});

test('per-protocol tallies come from stats frames, summed over agent restarts; lost exchanges are reported once per pod and protocol', () => {
  const told: Array<[string, string, number]> = [];
  const { merger } = setup({ onLost: (source, protocol, lost) => told.push([source.key, protocol, lost]) });
  merger.frame(FRONT, hello());
  merger.frame(FRONT, statsFrame({}));
  assert.equal(merger.stats()[0]!.protocols, undefined, 'an agent that never said: nothing to show');
  merger.frame(FRONT, statsFrame({ protocols: { http: { entries: 3, violations: 0 } } }));
  assert.deepEqual(told, [], 'nothing lost: nothing said');
  merger.frame(FRONT, statsFrame({ protocols: { http: { entries: 3, violations: 0, lost: 12 } } }));
  merger.frame(FRONT, statsFrame({ protocols: { http: { entries: 4, violations: 1, lost: 40 } } }));
  assert.deepEqual(told, [['shop/front-end-1', 'http', 12]], 'once, with the count it was first seen with, not per stats frame');
  merger.frame(FRONT, hello());
  const hostile = { http: { entries: 2, violations: 0, lost: 5 }, '\u001b[2J': { entries: 9, violations: 0, lost: 9 }, dns: { entries: 'x', violations: -1 } } as unknown as StatsFrame['protocols'];
  merger.frame(FRONT, statsFrame({ protocols: hostile }));
  assert.deepEqual(JSON.parse(JSON.stringify(merger.stats()[0]!.protocols)), { http: { entries: 6, violations: 1, lost: 45 } }, 'summed over runs; hostile names and counts dropped');
  assert.equal(told.length, 1, 'a restart does not say it again');
  merger.frame(CATALOGUE, hello());
  merger.frame(CATALOGUE, statsFrame({ protocols: { http: { entries: 0, violations: 0, lost: 1 } } }));
  assert.deepEqual(told[1], ['shop/catalogue-1', 'http', 1], 'another pod is told apart');
});

test('at the de-duplication bound, an entry costs what it cost below it (no scan over forgotten calls)', () => {
  // At 30k entries/s the memory reaches its bound in seconds and stays there: forgetting the
  // oldest call must stay O(1). (A Map's iteration from its front re-scanned the holes its deletions
  // left: 14x the cost per entry at 100k calls, the CLI's whole core at 30k entries/s.)
  const max = 100_000;
  const clock = { now: 0 };
  const merger = new TapMerger(new ClusterNames(), () => undefined, { maxDedupKeys: max, now: () => clock.now });
  const frames = Array.from({ length: 2 * max }, (_, i) => call({ id: `1-${i}`, srcPort: 1024 + (i % 60_000), seq: i }));
  const time = (from: number, to: number): number => {
    const started = performance.now();
    for (let i = from; i < to; i++) merger.frame(FRONT, frames[i]!);
    return performance.now() - started;
  };
  time(0, max / 10); // warm-up
  const filling = time(max / 10, max);
  assert.equal(merger.dedupKeys, max);
  const atBound = time(max, 1.9 * max);
  assert.equal(merger.dedupKeys, max);
  assert.ok(atBound < 4 * filling, `${atBound.toFixed(0)} ms for 90k entries at the bound, ${filling.toFixed(0)} ms for 90k below it`);
});

test('a call remembered for de-duplication costs a few hundred bytes, not a tree of strings', () => {
  // In a child with a GC to call: 50k calls (the window at 5k entries/s), from JSON text as agents
  // send them, remembered; the heap with the merger against the heap once it is let go.
  const script = `
    import { ClusterNames } from ${JSON.stringify(join(import.meta.dirname, 'cluster-names.ts'))};
    import { TapMerger } from ${JSON.stringify(join(import.meta.dirname, 'tap-merge.ts'))};
    import { buildEntry } from ${JSON.stringify(join(import.meta.dirname, '../../test/helpers/entries.ts'))};
    const N = 50_000;
    const text = JSON.stringify(buildEntry({ id: '1-1', url: '/api/items?page=1', src: { ip: '10.244.0.40', port: 40000 }, dst: { ip: '10.244.0.20', port: 8080 } }));
    const lines = Array.from({ length: N }, (_, i) => text.replace('"1-1"', '"' + (i >> 4) + '-' + (i & 15) + '"').replace('40000', String(30000 + (i % 30000))));
    let merger = new TapMerger(new ClusterNames(), () => undefined, { now: () => 0 });
    const source = { key: 'soak/web-0', namespace: 'soak', pod: 'web-0' };
    for (let i = 0; i < N; i++) merger.frame(source, { type: 'entry', entry: JSON.parse(lines[i]), requestSeq: i * 1000 });
    const kept = merger.dedupKeys;
    gc(); gc();
    const withMerger = process.memoryUsage().heapUsed;
    merger = null;
    gc(); gc();
    console.log(JSON.stringify({ kept, perCall: (withMerger - process.memoryUsage().heapUsed) / N }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { kept, perCall } = JSON.parse(r.stdout) as { kept: number; perCall: number };
  assert.equal(kept, 50_000);
  // Measured 233 bytes (a template-built key and id: 503).
  assert.ok(perCall > 50 && perCall < 330, `${perCall.toFixed(0)} bytes a call`);
});
