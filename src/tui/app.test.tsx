/** The whole App over an array store, driven by keystrokes, asserting on the frames. */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { compileKfl } from '../kfl/index.ts';
import { App } from './app.tsx';
import { ArrayStore, KEYS, makeEntry, plain, settle, typeKeys } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

const TRAFFIC = [
  makeEntry({ index: 0, dst: 'catalogue', url: '/catalogue' }),
  makeEntry({ index: 1, dst: 'carts', url: '/carts/1' }),
  makeEntry({ index: 2, src: 'front-end', dst: 'orders', method: 'POST', url: '/orders', status: 500 }),
  makeEntry({ index: 3, src: 'orders', dst: 'payment', method: 'POST', url: '/paymentAuth' }),
];

function start(options: { rows?: number; columns?: number; initialFilter?: string; entries?: typeof TRAFFIC } = {}) {
  const store = new ArrayStore(options.entries ?? TRAFFIC);
  const copied: string[] = [];
  const ui = render(
    <App
      store={store}
      source="demo: test"
      targets={5}
      compile={(query) => compileKfl(query)}
      initialFilter={options.initialFilter}
      isInputActive
      onCopy={(text) => copied.push(text)}
      size={{ columns: options.columns ?? 110, rows: options.rows ?? 24 }}
    />,
  );
  const press = async (...keys: string[]): Promise<string> => {
    await typeKeys(ui.stdin, keys);
    return plain(ui.lastFrame());
  };
  return { store, copied, ui, press, frame: () => plain(ui.lastFrame()) };
}

test('app: header with source, targets, counts, rate, drops, follow and filter; rows; key hints', async () => {
  const { frame } = start();
  await settle();
  const lines = frame().split('\n');
  assert.match(lines[0], /kubectl-shark demo: test │ targets 5/);
  assert.match(lines[1], /entries 4\/4 │ 2\.5\/s │ drops 0 │ FOLLOW │ filter: none/);
  assert.match(frame(), /front-end -> orders\s+POST\s+\/orders\s+500/);
  assert.match(lines[lines.length - 1], /q quit\s+\? help\s+\/ filter/);
  assert.ok(lines.length <= 23, 'one row stays free');
});

test('app: follow sticks to the newest, k pauses, G resumes', async () => {
  const { store, press, frame } = start();
  await settle();
  store.add(makeEntry({ index: 4, dst: 'user', url: '/customers/7' }));
  await settle();
  assert.match(frame(), /entries 5\/5/);
  assert.match(await press('k'), /PAUSED/);
  assert.match(await press('G'), /FOLLOW/);
});

test('app: / opens the filter bar, enter applies a valid query and narrows the rows', async () => {
  const { store, press } = start();
  await settle();
  let frame = await press('/', 'dst.name == "carts"');
  assert.match(frame, /✓ valid/);
  frame = await press(KEYS.enter);
  assert.equal(store.filter?.query, 'dst.name == "carts"');
  assert.match(frame, /entries 1\/4 .* filter: dst\.name == "carts"/);
  assert.match(frame, /\/carts\/1/);
  assert.doesNotMatch(frame, /\/paymentAuth/);
});

test('app: a bad query shows the error with a caret and enter keeps the bar open; esc cancels', async () => {
  const { store, press } = start();
  await settle();
  let frame = await press('/', 'response.status == ');
  assert.match(frame, /\n {21}\^/);
  assert.match(frame, /✗ expected a value after "=="/);
  frame = await press(KEYS.enter);
  assert.equal(store.filter, null);
  assert.match(frame, /✗ expected a value/);
  frame = await press(KEYS.backspace, KEYS.escape);
  assert.doesNotMatch(frame, /✗/);
  assert.match(frame, /filter: none/);
});

test('app: up in the filter bar walks the history', async () => {
  const { press } = start();
  await settle();
  await press('/', 'http', KEYS.enter);
  await press('/', '\u0015', 'response.status >= 500', KEYS.enter);
  const frame = await press('/', '\u0015', KEYS.up, KEYS.up);
  assert.match(frame, /^\/ http\s*$/m);
  assert.match(await press(KEYS.down), /^\/ response\.status >= 500\s*$/m);
});

test('app: enter shows the selected entry; y raw JSON; c copies curl; esc goes back', async () => {
  const { press, copied } = start();
  await settle();
  let frame = await press('k', KEYS.enter);
  assert.match(frame, /^POST \/orders HTTP\/1\.1/m);
  assert.match(frame, /Headers \(2\)\n {2}Host: catalogue/);
  frame = await press('y');
  assert.match(frame, /^\{\n  "id": "2-0",/m);
  frame = await press('y', 'c');
  assert.equal(copied.length, 1);
  assert.match(copied[0], /^curl -X POST 'http:\/\/catalogue\/orders'/);
  assert.match(frame, /curl -X POST/);
  frame = await press(KEYS.escape);
  assert.match(frame, /TIME \(UTC\)/);
});

test('app: m shows the service map; enter on an edge filters on that traffic', async () => {
  const { store, press } = start({ rows: 30 });
  await settle();
  let frame = await press('m');
  for (const id of ['front-end', 'catalogue', 'carts', 'orders', 'payment']) assert.match(frame, new RegExp(`│ ${id} │`));
  assert.match(frame, /front-end -> orders\s+HTTP\s+1\s+0%\s+100%\s+0\s/);
  frame = await press('G');
  assert.match(frame, /enter filters on: src\.name == "orders" and dst\.name == "payment"/);
  frame = await press(KEYS.enter);
  assert.equal(store.filter?.query, 'src.name == "orders" and dst.name == "payment"');
  assert.match(frame, /entries 1\/4/);
  assert.match(frame, /\/paymentAuth/);
  assert.match(await press(KEYS.tab), /CALLER -> CALLEE/);
});

test('app: enter in the map narrows the active filter, says so above the list, esc undoes it', async () => {
  const old = 'response.status >= 500 or dst.name == "payment"';
  const { store, press } = start({ rows: 30, initialFilter: old });
  await settle();
  let frame = await press('m');
  assert.match(frame, /entries 2\/4/);
  frame = await press('j', 'j');
  assert.match(frame, /enter narrows to: \(response\.status >= 500 or dst\.name == "payment"\) and dst\.name == "payment"/);
  frame = await press(KEYS.enter);
  const narrowed = `(${old}) and dst.name == "payment"`;
  assert.equal(store.filter?.query, narrowed, 'combined, not replaced');
  assert.match(frame, /entries 1\/4/);
  assert.match(frame, /\/paymentAuth/);
  const notice = frame.split('\n').find((line) => line.startsWith('filter narrowed: '));
  assert.equal(notice, `filter narrowed: ${narrowed} · esc undoes`);
  frame = await press(KEYS.escape);
  assert.equal(store.filter?.query, old, 'esc brings the filter before enter back');
  assert.match(frame, /entries 2\/4/);
  assert.doesNotMatch(frame, /filter narrowed/);
  frame = await press(KEYS.escape);
  assert.equal(store.filter?.query, old, 'a second esc changes nothing');
});

test('app: enter in the map with no filter sets the selection\'s query alone; the notice goes when another filter is applied', async () => {
  const { store, press } = start({ rows: 30 });
  await settle();
  let frame = await press('m', 'G', KEYS.enter);
  assert.equal(store.filter?.query, 'src.name == "orders" and dst.name == "payment"');
  assert.match(frame, /^filter set from the map: src\.name == "orders" and dst\.name == "payment" · esc undoes$/m);
  frame = await press('/', KEYS.ctrlU);
  frame = await press(...'dst.name == "carts"', KEYS.enter);
  assert.equal(store.filter?.query, 'dst.name == "carts"');
  assert.doesNotMatch(frame, /filter set from the map/);
  await press(KEYS.escape);
  assert.equal(store.filter?.query, 'dst.name == "carts"', 'esc undoes only the map\'s own narrowing');
});

test('app: with the notice above a full list, the newest row is still shown selected and the frame still fits', async () => {
  const many = Array.from({ length: 30 }, (_, index) => makeEntry({ index, dst: index % 2 === 0 ? 'catalogue' : 'carts', url: `/item/${index}` }));
  const { press } = start({ rows: 16, entries: many });
  await settle();
  const nodes = await press('m');
  assert.match(nodes, /enter filters on: src\.name == "front-end"/);
  const frame = await press('j', KEYS.enter);
  assert.match(frame, /^filter set from the map: dst\.name == "(carts|catalogue)"/m);
  const lines = frame.split('\n');
  assert.ok(lines.length <= 15, `one row stays free:\n${frame}`);
  const newest = lines.find((line) => line.startsWith('▸'));
  assert.match(newest ?? '', /\/item\/(29|28) /, `the newest matching entry is selected and visible:\n${frame}`);
  assert.match(lines[lines.length - 1]!, /q quit/);
});

test('app: ? shows the keys of the current view, esc closes it', async () => {
  const { press } = start();
  await settle();
  let frame = await press('?');
  assert.match(frame, /Keys: entries/);
  assert.match(frame, /f\s+follow the newest entries/);
  frame = await press(KEYS.escape);
  assert.doesNotMatch(frame, /Keys: entries/);
  frame = await press('m', '?');
  assert.match(frame, /Keys: service map/);
});

test('app: an invalid start-up filter opens the bar with its error', async () => {
  const { store, frame } = start({ initialFilter: 'dst.name ==' });
  await settle();
  assert.equal(store.filter, null);
  assert.match(frame(), /✗ expected a value/);
});

test('app: too small a terminal gets a message, not garbage', async () => {
  const { frame } = start({ columns: 50, rows: 10 });
  await settle();
  assert.match(frame(), /Terminal too small: 50x10, need at least 60x12/);
  assert.doesNotMatch(frame(), /TIME/);
});

test('app: keys that arrive in one read (fast typing, paste, tmux) are routed one by one', async () => {
  const { store, press } = start();
  await settle();
  let frame = await press('/dst.name == "carts"\r');
  assert.equal(store.filter?.query, 'dst.name == "carts"');
  assert.match(frame, /entries 1\/4/);
  frame = await press('/\u0015\r');
  assert.equal(store.filter, null);
  assert.match(await press('kk'), /PAUSED/);
});

test('app: the curl key is offered (and works) only for entries whose protocol has a replay command', async () => {
  // An entry of a protocol we do not describe, as NDJSON input from elsewhere may hold.
  const ldap = { ...makeEntry({ index: 1 }), protocol: { name: 'ldap', version: '3', abbr: 'LDAP' }, request: { type: 'searchRequest' }, response: { resultCode: 0 } } as unknown as (typeof TRAFFIC)[number];
  const { press, copied } = start({ entries: [makeEntry({ index: 0 }), ldap] });
  await settle();
  const http = await press('g', KEYS.enter);
  assert.match(http, /c curl/);
  await press('c');
  assert.equal(copied.length, 1);
  assert.match(copied[0]!, /^curl /);
  const other = await press(KEYS.escape, 'G', KEYS.enter);
  assert.match(other, /entry 1-0, LDAP 3/);
  assert.doesNotMatch(other, /c curl/);
  await press('c');
  assert.equal(copied.length, 1, 'nothing is copied for it');
});
