import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countProtocol, emptyUndissected } from '../model/undissected.ts';
import { lostExchangesLine } from './lost-exchanges.ts';
import { formatElapsed, formatPodSummary, undissectedOfPods } from './pod-summary.ts';
import type { PodTapStats } from './tap-merge.ts';

function pod(key: string, counts: Partial<PodTapStats> = {}): PodTapStats {
  return { key, entries: 0, duplicates: 0, sent: 0, seen: 0, filtered: 0, dropped: 0, kernelDrops: 0, packets: 0, warnings: 0, state: 'ended', lastMessage: '', ...counts };
}

test('one aligned row per pod, sorted, numbers right-aligned, then the totals', () => {
  const text = formatPodSummary(
    [
      pod('shop/front-end-7d4b9c8f5-x2x9q', { entries: 1200, dropped: 3, kernelDrops: 17 }),
      pod('shop/catalogue-6b9c8d7f5-abcde', { entries: 35, state: 'failed', lastMessage: 'pod deleted' }),
      pod('db/db-0', { entries: 0, state: 'ended', lastMessage: 'the kernel dropped\n 17 frames' }),
    ],
    { entries: 1235, duplicates: 12, elapsedMs: 83_400 },
  );
  assert.equal(
    text,
    [
      'POD                             STATE   ENTRIES  DROPPED  KERNEL DROPS  NOTE',
      'db/db-0                         ended         0        0             0  the kernel dropped 17 frames',
      'shop/catalogue-6b9c8d7f5-abcde  failed       35        0             0  pod deleted',
      'shop/front-end-7d4b9c8f5-x2x9q  ended      1200        3            17',
      'total: 1235 entries from 3 pods in 1m23s, 12 duplicates dropped (both ends tapped), 3 entries dropped by agents, 17 frames dropped by kernels',
      '',
    ].join('\n'),
  );
});

test('a single pod, no drops and no duplicates: a short totals line', () => {
  const text = formatPodSummary([pod('shop/a', { entries: 1, state: 'capturing' })], { entries: 1, duplicates: 0, elapsedMs: 400 });
  assert.equal(text, ['POD     STATE      ENTRIES  DROPPED  KERNEL DROPS  NOTE', 'shop/a  capturing        1        0             0', 'total: 1 entry from 1 pod in 0.4s', ''].join('\n'));
});

test('no pod tapped says so', () => {
  assert.equal(formatPodSummary([], { entries: 0, duplicates: 1, elapsedMs: 2000 }), 'no pod was tapped\ntotal: 0 entries from 0 pods in 2.0s, 1 duplicate dropped (both ends tapped)\n');
});

test('long notes are cut to one short line', () => {
  const text = formatPodSummary([pod('shop/a', { lastMessage: 'x'.repeat(300) })], { entries: 0, duplicates: 0, elapsedMs: 0 });
  const row = text.split('\n')[1]!;
  assert.ok(row.endsWith('…'));
  assert.equal(row.length, 'shop/a  ended        0        0             0  '.length + 100);
});

test('elapsed time: tenths under a minute, then minutes and seconds, then hours and minutes', () => {
  assert.equal(formatElapsed(0), '0.0s');
  assert.equal(formatElapsed(59_940), '59.9s');
  assert.equal(formatElapsed(59_960), '1m00s');
  assert.equal(formatElapsed(60_000), '1m00s');
  assert.equal(formatElapsed(3_599_000), '59m59s');
  assert.equal(formatElapsed(3_723_000), '1h02m');
  assert.equal(formatElapsed(-5), '0.0s');
});

test('notes and pod keys are display-safe: an agent or API message cannot drive the terminal', () => {
  const text = formatPodSummary([pod('shop/web\u009b2J', { state: 'failed', lastMessage: 'agent: \u001b]0;pwned\u0007 \u001b]52;c;aWQ=\u0007 gone\u007f' })], { entries: 0, duplicates: 0, elapsedMs: 1000 });
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(text, /shop\/web\\u009b2J +failed .*agent: \\u001b\]0;pwned\\u0007 \\u001b\]52;c;aWQ=\\u0007 gone\\u007f/);
});

test('a filtered tap says seen vs matched; traffic not dissected gets a line per pod', () => {
  const tls = emptyUndissected();
  countProtocol(tls.connections, 'tls', 66);
  countProtocol(tls.datagrams, 'dns', 4);
  const h2 = emptyUndissected();
  countProtocol(h2.connections, 'http2', 2);
  const pods = [pod('shop/web-1', { seen: 1000, undissected: tls }), pod('shop/api-1', { seen: 204, undissected: h2 }), pod('shop/db-0', { undissected: emptyUndissected() })];
  const text = formatPodSummary(pods, { entries: 0, duplicates: 0, elapsedMs: 5000, filtered: true });
  const lines = text.trimEnd().split('\n');
  assert.deepEqual(lines.slice(-3), [
    'not dissected in shop/api-1: 2 HTTP/2 connections',
    'not dissected in shop/web-1: 66 TLS connections, 4 DNS datagrams',
    'total: 0 entries from 3 pods in 5.0s, 1,204 seen, 0 matched the filter',
  ]);
  assert.doesNotMatch(formatPodSummary(pods, { entries: 0, duplicates: 0, elapsedMs: 5000 }), /seen/, 'no filter, nothing said about one');
  assert.equal(JSON.stringify(undissectedOfPods(pods)), '{"connections":{"tls":66,"http2":2},"datagrams":{"dns":4},"udpFlows":{}}');
});

test("agents' internal errors get a line per pod and a total, as a bug to report", () => {
  const pods = [pod('shop/web-1', { entries: 3, internalErrors: 2 }), pod('shop/api-1', { internalErrors: 1 }), pod('shop/db-0', { internalErrors: 0 }), pod('shop/old-0')];
  const lines = formatPodSummary(pods, { entries: 3, duplicates: 0, elapsedMs: 2000 }).trimEnd().split('\n');
  assert.deepEqual(lines.slice(-3), [
    'shop/api-1: 1 internal error (a bug: please report)',
    'shop/web-1: 2 internal errors (a bug: please report)',
    'total: 3 entries from 4 pods in 2.0s, 3 internal errors in agents (a bug: please report)',
  ]);
  const clean = formatPodSummary([pod('shop/db-0', { internalErrors: 0 }), pod('shop/old-0')], { entries: 0, duplicates: 0, elapsedMs: 2000 });
  assert.doesNotMatch(clean, /internal error/);
});

test('a line per pod whose protocol split says more than its entries, and why lost HTTP/2 streams were not shown', () => {
  const pods = [
    pod('grpc/caller', { entries: 3, protocols: { http: { entries: 3, violations: 0, lost: 120 } } }),
    pod('shop/web-1', { entries: 9, protocols: { http: { entries: 9, violations: 0 } } }),
    pod('shop/dns-1', { entries: 4, protocols: { http: { entries: 2, violations: 0 }, dns: { entries: 2, violations: 1 } } }),
  ];
  const lines = formatPodSummary(pods, { entries: 16, duplicates: 0, elapsedMs: 1000 }).split('\n');
  assert.deepEqual(
    lines.filter((l) => l.startsWith('by protocol')),
    ['by protocol in grpc/caller: HTTP 3 entries (120 HTTP/2 streams lost: not captured whole)', 'by protocol in shop/dns-1: DNS 2 entries and 1 violation, HTTP 2 entries'],
    'one clean protocol says nothing the ENTRIES column does not',
  );
  const why = lines.filter((l) => l.includes('not shown'));
  assert.deepEqual(why, [lostExchangesLine('grpc/caller', 'http', 120)]);
  assert.match(why[0]!, /^pod grpc\/caller: 120 HTTP\/2 streams not shown: .*open before the tap.*restart the client or wait for it to reconnect$/);
});

test('protocol lines and lost lines are display-safe', () => {
  const text = formatPodSummary([pod('shop/web\u009b2J', { protocols: { http: { entries: 0, violations: 0, lost: 1 } } })], { entries: 0, duplicates: 0, elapsedMs: 0 });
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(text, /1 HTTP\/2 stream not shown/);
});
