import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCount, formatFilterOutcome } from './count-text.ts';
import { countProtocol, emptyUndissected, formatUndissected, hasUndissected, sumUndissected, undissectedFrom } from './undissected.ts';

test('formatUndissected: connections then datagrams, largest first, labels and plurals', () => {
  const c = emptyUndissected();
  assert.equal(formatUndissected(c), '');
  assert.equal(hasUndissected(c), false);
  countProtocol(c.connections, 'http2', 2);
  countProtocol(c.connections, 'tls', 1204);
  countProtocol(c.datagrams, 'dns', 4);
  countProtocol(c.udpFlows, 'dns', 2);
  countProtocol(c.connections, 'unknown');
  assert.equal(formatUndissected(c), '1,204 TLS connections, 2 HTTP/2 connections, 1 unknown connection, 4 DNS datagrams');
  assert.equal(hasUndissected(c), true);
  assert.equal(JSON.stringify(c), '{"connections":{"http2":2,"tls":1204,"unknown":1},"datagrams":{"dns":4},"udpFlows":{"dns":2}}');
});

test('undissectedFrom: what a pod sent, ids and counts checked; sums add per id', () => {
  assert.equal(undissectedFrom(undefined), undefined);
  assert.equal(undissectedFrom('tls'), undefined);
  const hostile = undissectedFrom({
    connections: { tls: 3, '\u001b]0;pwned\u0007': 5, __proto__: 7, kafka: 2, redis: -1, http2: 1.5, mysql: '4' },
    datagrams: [1, 2],
    udpFlows: null,
  })!;
  assert.equal(formatUndissected(hostile), '3 TLS connections, 2 kafka connections');
  assert.equal(Object.getPrototypeOf(hostile.connections), null);
  const sum = sumUndissected(hostile, undissectedFrom({ connections: { tls: 1 }, datagrams: { dns: 2 } })!);
  assert.equal(formatUndissected(sum), '4 TLS connections, 2 kafka connections, 2 DNS datagrams');
});

test('counts are grouped by thousands whatever the locale; filter outcomes read as seen vs matched', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(1204), '1,204');
  assert.equal(formatCount(12345678), '12,345,678');
  assert.equal(formatCount(-3), '0');
  assert.equal(formatCount(Number.NaN), '0');
  assert.equal(formatCount(1e21), '1,000,000,000,000,000,000,000');
  // The same text as ICU's en-US grouping, which it replaces (35 ms and ~8 MB to load).
  const icu = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  for (const n of [1, 12, 123, 999, 1000, 1001, 99_999, 100_000, 999_999.4, 1_000_000, 2 ** 31, 2 ** 53 - 1, 123_456_789_012]) {
    assert.equal(formatCount(n), icu.format(Math.round(n)), String(n));
  }
  assert.equal(formatFilterOutcome(1204, 0), '1,204 seen, 0 matched the filter');
});
