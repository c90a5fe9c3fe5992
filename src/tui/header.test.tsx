import '../../test/helpers/force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { compileKfl } from '../kfl/index.ts';
import { RingEntryStore } from '../pipeline/entry-store.ts';
import type { StoreSnapshot } from '../pipeline/store-api.ts';
import { App } from './app.tsx';
import { Header, outageText, scopeText } from './header.tsx';
import { makeEntry, plain, settle } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

const BASE: StoreSnapshot = { version: 1, total: 7, held: 7, evicted: 0, shown: 7, entriesPerSec: 1.5, drops: 0, filter: '', ended: false };

function header(snapshot: Partial<StoreSnapshot>, width = 100): string {
  const ui = render(<Header source="tap front-end" targets={2} snapshot={{ ...BASE, ...snapshot }} follow width={width} />);
  return ui.lastFrame() ?? '';
}

test('scopeText: context, namespaces (or all of them) and the pod count', () => {
  assert.equal(scopeText({ context: 'sandbox', namespaces: ['shop'], pods: 3 }), 'ctx sandbox · ns shop · 3 pods');
  assert.equal(scopeText({ context: 'prod', namespaces: ['a', 'b'], pods: 1 }), 'ctx prod · ns a,b · 1 pod');
  assert.equal(scopeText({ context: 'prod', namespaces: [], pods: 0 }), 'ctx prod · all namespaces · 0 pods');
  assert.equal(scopeText({ context: 'c', namespaces: ['a', 'b', 'c', 'd', 'e'], pods: 9 }), 'ctx c · ns a,b,c +2 · 9 pods');
});

test('header: without a scope, the source and the target count as before, and no marker', () => {
  const frame = plain(header({}));
  assert.match(frame.split('\n')[0]!, /^kubectl-shark tap front-end │ targets 2$/);
  assert.doesNotMatch(frame, /REDACTION/);
});

test('header: a live tap shows its context, namespaces and pods instead of the target count', () => {
  const frame = plain(header({ scope: { context: 'sandbox', namespaces: ['shop'], pods: 3 } }));
  assert.match(frame.split('\n')[0]!, /^kubectl-shark tap front-end │ ctx sandbox · ns shop · 3 pods$/);
  assert.doesNotMatch(frame, /targets/);
  assert.match(plain(header({ scope: { context: 'sandbox', namespaces: [], pods: 1 }, ended: true })), /ctx sandbox · all namespaces · 1 pod │ source ended/);
});

test('header: REDACTION OFF in white on red, before the source so a narrow terminal keeps it', () => {
  const raw = header({ redactionOff: true, scope: { context: 'sandbox', namespaces: ['shop'], pods: 3 } });
  assert.match(plain(raw).split('\n')[0]!, /^kubectl-shark {2}REDACTION OFF {2}tap front-end │ ctx sandbox/);
  assert.match(raw, /\u001b\[41m/, 'red background');
  const narrow = plain(header({ redactionOff: true, scope: { context: 'a-very-long-context-name', namespaces: ['shop'], pods: 3 } }, 32));
  assert.match(narrow.split('\n')[0]!, /^kubectl-shark {2}REDACTION OFF/);
});

test('app: the header follows the store as a tap updates its scope and meets an unredacting agent', async () => {
  // Frames are delivered on the next microtask; the rate tick (1 s) is left out, no entries here.
  const schedule = (fn: () => void, ms: number) => {
    if (ms < 1000) queueMicrotask(fn);
    return { cancel: () => undefined };
  };
  const store = new RingEntryStore({ schedule });
  const ui = render(<App store={store} source="tap -n shop" targets={0} compile={(q) => compileKfl(q)} isInputActive={false} size={{ columns: 100, rows: 20 }} />);
  await settle();
  assert.match(plain(ui.lastFrame()).split('\n')[0]!, /tap -n shop │ targets 0$/);
  store.setScope({ context: 'sandbox', namespaces: ['shop'], pods: 2 });
  await settle();
  assert.match(plain(ui.lastFrame()).split('\n')[0]!, /tap -n shop │ ctx sandbox · ns shop · 2 pods$/);
  store.setScope({ context: 'sandbox', namespaces: ['shop'], pods: 3 });
  store.markRedactionOff();
  await settle();
  assert.match(plain(ui.lastFrame()).split('\n')[0]!, /^kubectl-shark {2}REDACTION OFF {2}tap -n shop │ ctx sandbox · ns shop · 3 pods$/);
  store.dispose();
});

test('header: the latest notice of a live tap ends the first line, in yellow', () => {
  const raw = header({ scope: { context: 'sandbox', namespaces: ['shop'], pods: 2 }, notice: 'pod shop/db-1 was deleted: its capture ended' }, 140);
  assert.match(plain(raw).split('\n')[0]!, /ctx sandbox · ns shop · 2 pods │ pod shop\/db-1 was deleted: its capture ended$/);
  assert.match(raw, /\u001b\[33m/, 'yellow');
});

test('store: setNotice puts the latest notice in the snapshot', () => {
  const store = new RingEntryStore({ maxEntries: 10 });
  assert.equal(store.snapshot().notice, undefined);
  store.setNotice('new pod shop/x: tapping it');
  store.setNotice('pod shop/y: retrying in 1 s');
  assert.equal(store.snapshot().notice, 'pod shop/y: retrying in 1 s');
  store.dispose();
});

test('header: an API server outage shows since when and the countdown, in white on red before the source', () => {
  const sinceMs = Date.UTC(2025, 0, 2, 12, 3, 4);
  assert.equal(outageText({ sinceMs, retryInMs: 7200 }), 'API server unreachable since 12:03:04 UTC, retrying in 8 s');
  assert.equal(outageText({ sinceMs, retryInMs: 0 }), 'API server unreachable since 12:03:04 UTC, retrying now');
  const raw = header({ apiOutage: { sinceMs, retryInMs: 3000 }, scope: { context: 'sandbox', namespaces: ['shop'], pods: 2 } }, 140);
  assert.match(plain(raw).split('\n')[0]!, /^kubectl-shark {2}API server unreachable since 12:03:04 UTC, retrying in 3 s {2}tap front-end │ ctx sandbox/);
  assert.match(raw, /\u001b\[41m/, 'red background');
  assert.doesNotMatch(plain(header({})), /unreachable/);
});

test('store: setApiOutage puts the outage in the snapshot, null takes it away', () => {
  const store = new RingEntryStore({ maxEntries: 10 });
  store.setApiOutage({ sinceMs: 1, retryInMs: 8000 });
  assert.deepEqual(store.snapshot().apiOutage, { sinceMs: 1, retryInMs: 8000 });
  store.setApiOutage(null);
  assert.equal(store.snapshot().apiOutage, undefined);
  store.dispose();
});

test('header: a finished source shows the time its traffic spans instead of a rate', () => {
  const live = plain(header({ timeSpan: { firstMs: 1_000, lastMs: 6_500 } })).split('\n')[1]!;
  assert.match(live, /^entries 7\/7 │ 1\.5\/s │ drops 0/);
  const ended = plain(header({ ended: true, timeSpan: { firstMs: 1_000, lastMs: 6_500 } })).split('\n')[1]!;
  assert.match(ended, /^entries 7\/7 │ span 5\.5s │ drops 0/);
  assert.doesNotMatch(ended, /\/s/);
  const long = plain(header({ ended: true, timeSpan: { firstMs: 0, lastMs: 3_725_000 } })).split('\n')[1]!;
  assert.match(long, /│ span 1h02m │/);
  const empty = plain(header({ ended: true, total: 0, shown: 0 })).split('\n')[1]!;
  assert.match(empty, /^entries 0\/0 │ drops 0/);
});

test('header at 80 columns: a long source is shortened in the middle so "source ended" still fits', () => {
  const frame = render(
    <Header source="demo: assets/demo/microservices-with-a-much-longer-name.pcapng" targets={7} snapshot={{ ...BASE, ended: true, timeSpan: { firstMs: 0, lastMs: 5_500 } }} follow width={80} />,
  ).lastFrame();
  const lines = plain(frame).split('\n');
  assert.match(lines[0]!, /^kubectl-shark demo: assets\S*…\S*\.pcapng │ targets 7 │ source ended$/);
  assert.match(lines[1]!, /^entries 7\/7 │ span 5\.5s │ drops 0 │ FOLLOW │ filter: none$/);
  assert.ok(lines.every((line) => line.length <= 80), lines.join('\n'));
});

test('store: the time span covers the earliest and latest capture time, in any arrival order', () => {
  const store = new RingEntryStore({ maxEntries: 2 });
  assert.equal(store.snapshot().timeSpan, undefined);
  for (const index of [3, 1, 7, 5]) store.add(makeEntry({ index }));
  assert.deepEqual(store.snapshot().timeSpan, { firstMs: 1_764_000_001_000, lastMs: 1_764_000_007_000 }, 'evicted entries count too');
  store.dispose();
});

test('app: "Waiting for traffic…" only while the source may still send; once it ended, it says so', async () => {
  const schedule = (fn: () => void, ms: number) => {
    if (ms < 1000) queueMicrotask(fn);
    return { cancel: () => undefined };
  };
  const store = new RingEntryStore({ schedule });
  const ui = render(<App store={store} source="read empty.pcap" targets={0} compile={(q) => compileKfl(q)} isInputActive={false} size={{ columns: 80, rows: 24 }} />);
  await settle();
  assert.match(plain(ui.lastFrame()), /Waiting for traffic…/);
  assert.doesNotMatch(plain(ui.lastFrame()), /source ended/);
  store.end();
  await settle();
  const frame = plain(ui.lastFrame());
  assert.match(frame, /source ended/);
  assert.match(frame, /The source ended without any entries\./);
  assert.doesNotMatch(frame, /Waiting for traffic/);
  store.dispose();
});

test('header: evictions are shown once there are some, in yellow', () => {
  assert.doesNotMatch(plain(header({})), /evicted/);
  const raw = header({ evicted: 12, total: 19 });
  assert.match(plain(raw).split('\n')[1]!, /drops 0 \(evicted 12\) │ FOLLOW/);
  assert.match(raw, /\u001b\[33m \(evicted 12\)/);
});

test('header at 80 columns: a long source gives way to the latest notice', () => {
  const lines = plain(
    render(<Header source="read /very/long/path/to/a/capture/taken/yesterday/on/the/staging/cluster.pcapng" targets={3} snapshot={{ ...BASE, notice: 'pod shop/db-1 was deleted' }} follow width={80} />).lastFrame(),
  ).split('\n');
  assert.match(lines[0]!, /^kubectl-shark read \/very\S*…\S*\.pcapng │ targets 3 │ pod shop\/db-1 was deleted$/);
  assert.ok(lines[0]!.length <= 80);
});

test('header: a notice too long to fit anyway does not shorten a short source', () => {
  const line = plain(header({ notice: `API server https://127.0.0.1:40197 unreachable: ${'x'.repeat(200)}` }, 80)).split('\n')[0]!;
  assert.match(line, /^kubectl-shark tap front-end │ targets 2 │ API server https/);
});

test('the header counts bodies dropped past the budget, and entries a filter tested without theirs, only when it happened', () => {
  const bodies = { heldBytes: 1000, budgetBytes: 1024, dropped: 0, droppedBytes: 0 };
  assert.doesNotMatch(plain(header({ bodies })), /bodies dropped/);
  assert.match(plain(header({ bodies: { ...bodies, dropped: 3, droppedBytes: 9000 } })).split('\n')[1]!, /drops 0 \(bodies dropped 3\) │ FOLLOW/);
  const filtered = plain(header({ bodies: { ...bodies, dropped: 3, droppedBytes: 9000 }, filter: 'response.content.text.contains("x")', filterReadDropped: 2 }));
  assert.match(filtered.split('\n')[1]!, /\(bodies dropped 3, 2 filtered without theirs\)/);
});
