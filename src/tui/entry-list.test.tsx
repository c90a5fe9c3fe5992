import '../../test/helpers/force-color.ts';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { EntryList } from './entry-list.tsx';
import { makeEntry, plain } from '../../test/helpers/tui-store.ts';

afterEach(cleanup);

const entries = [
  makeEntry({ index: 0, status: 200 }),
  makeEntry({ index: 1, src: '', dst: 'carts', url: '/carts/1', status: 503, elapsedMs: 250 }),
  makeEntry({ index: 2, method: 'POST', dst: 'orders', url: '/orders', status: null }),
];

test('list: titles, one line per entry with route, method, path, status, latency and sizes', () => {
  const { lastFrame } = render(<EntryList entries={entries} firstIndex={0} selected={2} width={120} height={6} emptyText="none" />);
  const lines = plain(lastFrame()).split('\n');
  assert.match(lines[0], /^ TIME \(UTC\)\s+PROTO\s+SRC -> DST\s+METHOD\s+PATH\s+STAT\s+LATENCY\s+REQ\/RESP$/);
  assert.match(lines[1], /^ 16:00:00\.000 HTTP {2}front-end -> catalogue\s+GET\s+\/catalogue\?size=5\s+200\s+13ms\s+120 B\/2\.0 KiB$/);
  assert.match(lines[2], /10\.0\.0\.1:40001 -> carts\s+GET\s+\/carts\/1\s+503\s+250ms/);
  assert.match(lines[3], /front-end -> orders\s+POST\s+\/orders\s+ERR\s+-\s+120 B\/-$/);
  assert.ok(lines.every((line) => line.length <= 120));
  assert.match(lines[3]!, /^▸/, 'the selected row is marked, visible without colours');
});

test('list: status coloured by class, the selected row inverted', () => {
  const frame = render(<EntryList entries={entries} firstIndex={0} selected={1} width={120} height={6} emptyText="none" />).lastFrame() ?? '';
  const rows = frame.split('\n');
  assert.match(rows[1], /\u001b\[32m\s*200/, '2xx green');
  assert.match(rows[2], /\u001b\[31m\s*503/, '5xx red');
  assert.match(rows[2], /\u001b\[7m/, 'selected row inverted');
  assert.doesNotMatch(rows[1], /\u001b\[7m/);
});

test('list: only the rows it is given are drawn, and an empty view says why', () => {
  const frame = plain(render(<EntryList entries={[]} firstIndex={0} selected={0} width={80} height={5} emptyText="No entry matches the filter." />).lastFrame());
  assert.match(frame, /No entry matches the filter\./);
  const many = Array.from({ length: 3 }, (_, i) => makeEntry({ index: 500 + i, url: `/row/${500 + i}` }));
  const window = plain(render(<EntryList entries={many} firstIndex={500} selected={501} width={80} height={4} emptyText="" />).lastFrame());
  assert.deepEqual(window.match(/\/row\/\d+/g), ['/row/500', '/row/501', '/row/502']);
});

test('list: narrow terminals drop the size column instead of wrapping', () => {
  const frame = plain(render(<EntryList entries={entries} firstIndex={0} selected={0} width={60} height={5} emptyText="" />).lastFrame());
  assert.doesNotMatch(frame, /REQ\/RESP/);
  assert.ok(frame.split('\n').every((line) => line.length <= 60));
});

test('list at 80 columns: both ends of every call, method, path and status; PROTO and REQ/RESP give way', () => {
  const rows = [...entries, makeEntry({ index: 3, src: 'recommendation-engine-v2', dst: 'catalogue-db-primary', url: '/items/57a98d98e4b00679b4a830af', status: 404 })];
  const lines = plain(render(<EntryList entries={rows} firstIndex={0} selected={0} width={80} height={6} emptyText="" />).lastFrame()).split('\n');
  assert.match(lines[0]!, /^ TIME \(UTC\)\s+SRC -> DST\s+METHOD\s+PATH\s+STAT\s+LATENCY$/);
  assert.match(lines[1]!, /^▸16:00:00\.000 front-end -> catalogue\s+GET\s+\/catalogue\?size=5\s+200\s+13ms$/);
  assert.match(lines[2]!, / 10\.0\.0\.1:40001 -> carts\s+GET\s+\/carts\/1\s+503/);
  assert.match(lines[4]!, / recom…e-v2 -> catal…mary GET\s+\/items\/57a98d98e4\S*…\s+404\s+13ms$/);
  assert.ok(lines.every((line) => line.length <= 80), lines.join('\n'));
});
