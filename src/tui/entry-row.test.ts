import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointLabel, fitCell, formatLatency, layoutColumns, rowCells, statusClassOf } from './entry-row.ts';
import { makeEntry } from './test-support.ts';
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

test('status classes', () => {
  assert.deepEqual([101, 200, 302, 499, 503, undefined].map(statusClassOf), ['info', 'success', 'redirect', 'client-error', 'server-error', 'none']);
});

test('latencies are short', () => {
  assert.deepEqual([0.25, 3.14159, 250, 1500, 65_000].map(formatLatency), ['250µs', '3.1ms', '250ms', '1.50s', '65.0s']);
});

test('columns fill the width exactly, route and path share the rest', () => {
  for (const width of [60, 120, 200]) {
    const columns = layoutColumns(width);
    const used = columns.reduce((sum, column) => sum + column.width, 0) + columns.length - 1;
    assert.equal(used, width, `width ${width}`);
  }
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
