import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { join } from 'node:path';
import { DESCRIPTOR_LIST } from '../remote-agent/dissect/descriptors.ts';
import { cellText, endpointLabel, fitCell, formatLatency, layoutColumns, middleCut, protocolWidthWanted, routeCell, routeWidthWanted, rowCells, statusWidthWanted } from './entry-row.ts';
import { dissectDnsCapture } from '../../test/helpers/dns-read.ts';
import { REPO_ROOT } from '../../test/helpers/shared-pcaps.ts';
import type { Entry } from '../model/entry.ts';
import { buildGrpcEntry, buildHttp2Entry } from '../../test/helpers/entries.ts';
import { makeEntry } from '../../test/helpers/tui-store.ts';
import { stringifyJson } from '../model/terminal-text.ts';

test('endpoint label: the workload name, else IP:port, IPv6 in brackets', () => {
  assert.equal(endpointLabel({ ip: '10.0.0.1', port: 80, name: 'carts', namespace: 'x' }), 'carts');
  assert.equal(endpointLabel({ ip: '10.0.0.1', port: 80, name: '', namespace: '' }), '10.0.0.1:80');
  assert.equal(endpointLabel({ ip: 'fd00::1', port: 443, name: '', namespace: '' }), '[fd00::1]:443');
});

test('row cells of an answered request', () => {
  const cells = rowCells(makeEntry({ status: 404, elapsedMs: 3.25 }));
  assert.equal(cells.time, '16:00:00.000');
  assert.equal(cells.route, 'front-end -> catalogue');
  assert.equal(cells.method, 'GET');
  assert.equal(cells.path, '/catalogue?size=5');
  assert.equal(cells.status, '404');
  assert.equal(cells.statusClass, 'client-error');
  assert.equal(cells.latency, '3.3ms');
  assert.equal(cells.sizes, '120 B/2.0 KiB');
});

test('row cells of a request without response', () => {
  const cells = rowCells(makeEntry({ status: null }));
  assert.equal(cells.status, 'ERR');
  assert.equal(cells.statusClass, 'none');
  assert.equal(cells.latency, '-');
  assert.equal(cells.sizes, '120 B/-');
});

test('verb, target, outcome and its colour come from the protocol descriptor; an entry without one shows blanks', () => {
  assert.deepEqual([101, 200, 302, 499, 503, 600, null].map((status) => rowCells(makeEntry({ status })).statusClass), ['info', 'success', 'redirect', 'client-error', 'server-error', 'none', 'none']);
  const ldap = { ...makeEntry(), protocol: { name: 'ldap', version: '3', abbr: 'LDAP' }, request: { op: 'bind' }, response: { value: 'x' } } as unknown as Entry;
  const cells = rowCells(ldap);
  assert.deepEqual([cells.protocol, cells.method, cells.path, cells.status, cells.statusClass, cells.latency], ['LDAP', '', '', '-', 'none', '13ms']);
  // A Redis entry of Kubeshark's shape (read back): its descriptor reads what is there.
  const redis = { ...makeEntry(), protocol: { name: 'redis', version: '3', abbr: 'REDIS' }, request: { command: 'GET' }, response: { value: 'x' } } as unknown as Entry;
  const row = rowCells(redis);
  assert.deepEqual([row.protocol, row.method, row.path], ['REDIS', 'GET', '']);
});

test('latencies are short', () => {
  assert.deepEqual([0.25, 3.14159, 250, 1500, 65_000].map(formatLatency), ['250µs', '3.1ms', '250ms', '1.50s', '65.0s']);
});

test('columns fill the width exactly, route and path share the rest', () => {
  for (const width of [59, 60, 79, 80, 119, 120, 199, 200]) {
    for (const wanted of [undefined, 10, 22, 60, 500]) {
      const columns = layoutColumns(width, wanted);
      const used = columns.reduce((sum, column) => sum + column.width, 0) + columns.length - 1;
      assert.equal(used, width, `width ${width}, route wanted ${wanted}`);
    }
  }
});

const names = (width: number, wanted?: number): string => layoutColumns(width, wanted).map((column) => `${column.name}:${column.width}`).join(' ');

test('layout by priority: 200 and 120 columns keep everything; 80 drops PROTO and REQ/RESP, keeps both route ends and the latency', () => {
  // The list gives the row one cell less than the terminal (the selection marker).
  assert.equal(names(199, 22), 'time:12 protocol:5 route:22 method:7 path:119 status:4 latency:8 sizes:15');
  assert.equal(names(119, 22), 'time:12 protocol:5 route:22 method:7 path:39 status:4 latency:8 sizes:15');
  assert.equal(names(79, 22), 'time:12 route:22 method:7 path:21 status:4 latency:8');
  // Long routes take what the path can spare, and no more.
  assert.equal(names(79, 60), 'time:12 route:24 method:7 path:19 status:4 latency:8');
  assert.equal(names(199, 60), 'time:12 protocol:5 route:60 method:7 path:81 status:4 latency:8 sizes:15');
  // Narrower still: the time loses its milliseconds, then the latency goes.
  assert.equal(names(73, 22), 'clock:8 route:22 method:7 path:19 status:4 latency:8');
  assert.equal(names(59, 22), 'clock:8 route:20 method:7 path:16 status:4');
  // In between, the sizes narrow to the response's.
  assert.equal(names(89, 22), 'time:12 route:22 method:7 path:22 status:4 latency:8 responseSize:8');
});

test('route cell: whole when it fits, else both names shortened in the middle, never the destination cut off', () => {
  const entry = makeEntry({ src: 'front-end', dst: 'catalogue' });
  assert.equal(routeCell(entry, 24), 'front-end -> catalogue  ');
  assert.equal(routeCell(entry, 18), 'fro…end -> cat…gue');
  assert.equal(routeCell(entry, 20), 'fron…end -> cata…gue');
  // A short name stays whole and the long one gives way.
  assert.equal(routeCell(makeEntry({ src: 'ui', dst: 'recommendation-engine-v2' }), 18), 'ui -> recomm…ne-v2');
  assert.equal(routeCell(makeEntry({ src: 'recommendation-engine-v2', dst: 'db' }), 18), 'recomm…ne-v2 -> db');
  // Unnamed ends keep the port (the end of the label).
  const ips = makeEntry({ src: '', dst: '' });
  assert.equal(routeCell({ ...ips, dst: { ...ips.dst, ip: 'fd00:10:244::1f', port: 8080 } }, 26), '10.0.…40000 -> [fd00…:8080');
  assert.equal(routeWidthWanted([entry, makeEntry({ src: 'orders', dst: 'payment' })]), 'front-end -> catalogue'.length);
});

test('middle cut keeps both ends and surrogate pairs whole', () => {
  assert.equal(middleCut('catalogue', 9), 'catalogue');
  assert.equal(middleCut('catalogue', 7), 'cat…gue');
  assert.equal(middleCut('catalogue', 2), 'c…');
  assert.equal(middleCut('catalogue', 1), '…');
  assert.equal(middleCut('😀😀😀😀', 5), '😀…😀');
  assert.equal(middleCut('a😀😀😀b', 4), 'a…b');
});

test('any row at any width from 60 to 250 columns shows both route ends, method, path start and status, in exactly the width', () => {
  const name = fc.string({ unit: fc.constantFrom('a', 'b', '-', '0', '\u001b', 'é'), minLength: 1, maxLength: 70 });
  fc.assert(
    fc.property(fc.integer({ min: 59, max: 249 }), name, name, fc.constantFrom('GET', 'POST', 'DELETE'), fc.constantFrom(200, 404, 503), (width, src, dst, method, status) => {
      const entry = makeEntry({ src, dst, method, status, url: '/items/123456789/abcdefghijklmnop' });
      const cells = rowCells(entry);
      const columns = layoutColumns(width, routeWidthWanted([entry]));
      const parts = columns.map((column) => cellText(entry, cells, column));
      assert.equal(parts.join(' ').length, width);
      const part = (column: string): string => parts[columns.findIndex((c) => c.name === column)]!.trim();
      const route = part('route');
      assert.ok(route.includes(' -> '), route);
      const [shownSrc, shownDst] = [route.slice(0, route.indexOf(' -> ')), route.slice(route.indexOf(' -> ') + 4)];
      const cleanSrc = fitCell(src, 1000).trim();
      const cleanDst = fitCell(dst, 1000).trim();
      assert.equal(shownSrc[0], cleanSrc[0], `src start: ${route}`);
      assert.equal(shownDst.at(-1), cleanDst.at(-1), `dst end: ${route}`);
      assert.equal(shownDst[0], cleanDst[0], `dst start: ${route}`);
      assert.equal(part('method'), method);
      assert.ok(part('path').startsWith('/items/12'), part('path'));
      assert.equal(part('status'), String(status));
    }),
    { numRuns: 400 },
  );
});

test('cells are cut with an ellipsis, padded, and lose control characters', () => {
  assert.equal(fitCell('/a/very/long/path', 8), '/a/very…');
  assert.equal(fitCell('200', 5, 'right'), '  200');
});

test('cells show control characters escaped, measured after escaping, from any field', () => {
  assert.equal(fitCell('a\u001b[2Jb', 14), 'a\\u001b[2Jb   ');
  assert.equal(fitCell('\u009b31m', 8), '\\u009b3…');
  assert.equal(fitCell('x\u007fy\ty\nz', 30), 'x\\u007fy\\u0009y\\u000az'.padEnd(30));
  assert.equal(fitCell('😀😀😀', 3), '😀…'.padEnd(3));
  const hostile = makeEntry({ method: "G'\u001b]0;x\u0007", url: '/\u009b2J', src: 'a\u001b]52;c;aWQ=\u0007' });
  for (const cell of Object.values(rowCells({ ...hostile, protocol: { ...hostile.protocol, abbr: 'H\u0085' } }))) {
    const shown = fitCell(cell, 40);
    assert.equal(shown.length, 40);
    assert.doesNotMatch(shown, /[\u0000-\u001f\u007f-\u009f]/, stringifyJson(shown));
  }
  // A megabyte-long path costs what a short one does.
  assert.equal(fitCell(`/${'\u001b'.repeat(1_000_000)}`, 10), '/\\u001b\\u…');
});

test('the status column widens for outcomes longer than an HTTP status (DNS rcode names), not for HTTP', () => {
  const http = [makeEntry({ status: 200 }), makeEntry({ status: 503 })];
  assert.equal(statusWidthWanted(http), 3);
  const status = (columns: ReturnType<typeof layoutColumns>): number => columns.find((c) => c.name === 'status')!.width;
  assert.equal(status(layoutColumns(120, undefined, statusWidthWanted(http))), 4, 'HTTP keeps STAT at four cells');
  assert.deepEqual(layoutColumns(120, 30, statusWidthWanted(http)), layoutColumns(120, 30), 'an HTTP screen lays out as before');
  // Real DNS entries from a public capture: NOERROR and NXDOMAIN are shown whole.
  const { entries: dns } = dissectDnsCapture(join(REPO_ROOT, 'test/fixtures/pcaps/dns/udp-lab-queries.pcapng'));
  const wanted = statusWidthWanted(dns);
  assert.ok(wanted >= 7, `DNS outcomes need ${wanted} cells`);
  const columns = layoutColumns(120, 30, wanted);
  assert.equal(status(columns), Math.min(wanted, 9));
  for (const entry of dns) {
    const cell = cellText(entry, rowCells(entry), columns.find((c) => c.name === 'status')!);
    assert.equal(cell.trim(), rowCells(entry).status, 'the outcome is not cut');
  }
  assert.equal(columns.reduce((sum, c) => sum + c.width, 0) + columns.length - 1, 120, 'still exactly the width');
});

test('gRPC rows: Service/Method and the status name; the column fits the longest name where there is room', () => {
  const calls = [buildGrpcEntry({ rpc: 'AddItem', grpcStatus: 8 }), buildGrpcEntry({ rpc: 'GetCart' }), buildGrpcEntry({ rpc: 'Watch', responseMessageCount: 1200 })];
  const cells = rowCells(calls[0]!);
  assert.deepEqual([cells.protocol, cells.method, cells.path, cells.status, cells.statusClass], ['gRPC', 'call', 'shop.v1.Cart/AddItem', 'RESOURCE_EXHAUSTED', 'client-error']);
  assert.equal(rowCells(calls[2]!).path, 'shop.v1.Cart/Watch (1 → 1,200 msgs)');
  const wanted = statusWidthWanted(calls);
  assert.equal(wanted, 'RESOURCE_EXHAUSTED'.length);
  const status = (columns: ReturnType<typeof layoutColumns>) => columns.find((c) => c.name === 'status')!;
  for (const width of [200, 120, 100, 80, 60]) {
    const columns = layoutColumns(width, 30, wanted);
    assert.equal(columns.reduce((sum, c) => sum + c.width, 0) + columns.length - 1, width, `${width}: exactly the width`);
    const path = columns.find((c) => c.name === 'path')!.width;
    const route = columns.find((c) => c.name === 'route')!.width;
    const shown = cellText(calls[0]!, cells, status(columns)).trim();
    if (width >= 120) {
      assert.equal(shown, 'RESOURCE_EXHAUSTED', `${width}: the whole name`);
      assert.ok(path + route >= 44, `${width}: route and path keep their room`);
    } else {
      assert.equal(status(columns).width, 9, `${width}: no wider than before on a narrower terminal`);
      assert.equal(shown, 'RESOURCE…');
    }
  }
  // An HTTP screen with the same width lays out exactly as before.
  assert.deepEqual(layoutColumns(120, 30, statusWidthWanted([makeEntry({ status: 404 })])), layoutColumns(120, 30));
});

test('the protocol column takes a sixth cell for HTTP/2 only when it is on screen, capped for NDJSON abbreviations', () => {
  const proto = (columns: ReturnType<typeof layoutColumns>) => columns.find((c) => c.name === 'protocol')!.width;
  assert.equal(protocolWidthWanted([makeEntry()]), 4);
  assert.deepEqual(layoutColumns(120, 30, 3, protocolWidthWanted([makeEntry()])), layoutColumns(120, 30), 'an HTTP screen lays out as before');
  const h2 = [makeEntry(), buildHttp2Entry()];
  const columns = layoutColumns(120, 30, 3, protocolWidthWanted(h2));
  assert.equal(proto(columns), 6);
  assert.equal(cellText(h2[1]!, rowCells(h2[1]!), columns.find((c) => c.name === 'protocol')!), 'HTTP/2');
  assert.equal(columns.reduce((sum, c) => sum + c.width, 0) + columns.length - 1, 120);
  const odd = { ...makeEntry(), protocol: { name: 'x', version: '1', abbr: 'A-VERY-LONG-ABBREVIATION' } } as Entry;
  assert.equal(proto(layoutColumns(120, 30, 3, protocolWidthWanted([odd]))), 5, 'a long abbreviation is cut as before');
  const hostile = { ...makeEntry(), protocol: { name: 'x', version: '1', abbr: 'H\u001b' } } as Entry;
  assert.equal(protocolWidthWanted([hostile]), 0);
});

test("every registered protocol's abbreviation shows whole in the protocol column when its entries are on screen", () => {
  for (const descriptor of DESCRIPTOR_LIST) {
    const entry = { ...makeEntry(), protocol: { name: descriptor.name, version: '1', abbr: descriptor.abbr } } as Entry;
    const onScreen = [makeEntry(), entry];
    const columns = layoutColumns(160, 30, 3, protocolWidthWanted(onScreen));
    assert.equal(cellText(entry, rowCells(entry), columns.find((c) => c.name === 'protocol')!).trimEnd(), descriptor.abbr, descriptor.name);
    assert.equal(columns.reduce((sum, c) => sum + c.width, 0) + columns.length - 1, 160);
  }
});
