/**
 * The soak benchmark's pure parts: RSS growth from warm-up, the exactly-once comparison of request
 * ids, and what it reads from /proc, the NDJSON and the TUI's screen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { median, rssGrowth, smoothingWindowFor, warmupMsFor, type RssSample } from './soak-growth.ts';
import { compareSortedIds, idsOf } from './soak-ids.ts';
import { fastRequestIdOfEntryLine, requestIdOfEntryLine, tuiCountsOf, vmRssKbOf } from './soak-samples.ts';
import { LAUNCHER_NODE_FLAGS, nodeFlagsOfLauncher } from '../helpers/tap.ts';

const every10s = (kbs: readonly number[]): RssSample[] => kbs.map((rssKb, i) => ({ atMs: i * 10_000, rssKb }));

test('median of odd and even counts, NaN of none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('warm-up is minute 2 of a long run, a fifth of a shorter one, and never under a minute', () => {
  assert.equal(warmupMsFor(30 * 60_000), 120_000);
  assert.equal(warmupMsFor(10 * 60_000), 120_000);
  assert.equal(warmupMsFor(7 * 60_000), 84_000);
  assert.equal(warmupMsFor(3 * 60_000), 60_000);
  assert.equal(smoothingWindowFor(168), 6);
  assert.equal(smoothingWindowFor(10), 2);
  assert.equal(smoothingWindowFor(2), 1);
});

test('growth ignores the warm-up climb and single GC spikes, and sees a steady leak', () => {
  // Climbs from 40 to 100 MB in warm-up, then flat with a spike near the end.
  const flat = every10s([40, 60, 80, 100, 100, 101, 99, 100, 102, 100, 180, 100, 101, 100]);
  const g = rssGrowth(flat, 30_000)!;
  assert.equal(g.startKb, 100);
  assert.ok(Math.abs(g.growthPct) < 2, `flat: ${g.growthPct}`);
  // +2% a sample after warm-up: a leak.
  const leak = every10s(Array.from({ length: 40 }, (_, i) => 100 * 1.02 ** i));
  assert.ok(rssGrowth(leak, 0)!.growthPct > 10);
  // Not enough samples after warm-up: no verdict rather than a made-up one.
  assert.equal(rssGrowth(every10s([1, 2, 3]), 25_000), null);
});

test('exactly once: missing, duplicated and unknown ids are counted', async () => {
  const r = await compareSortedIds(idsOf(['a', 'b', 'c', 'd']), idsOf(['a', 'a', 'a', 'c', 'e']));
  assert.deepEqual(r, { expected: 4, seen: 5, missing: 2, duplicated: 2, unexpected: 1, expectedRepeats: 0, missingExamples: ['b', 'd'] });
  const same = await compareSortedIds(idsOf(['x', 'y']), idsOf(['x', 'y']));
  assert.equal(same.missing + same.duplicated + same.unexpected, 0);
  await assert.rejects(compareSortedIds(idsOf(['b', 'a']), idsOf([])), /not sorted/);
});

test('exactly once agrees with a set-based count on any input', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.stringMatching(/^[0-9a-f]{2}$/), { maxLength: 40 }), fc.array(fc.stringMatching(/^[0-9a-f]{2}$/), { maxLength: 40 }), async (expRaw, seenRaw) => {
      const exp = [...new Set(expRaw)].sort();
      const seen = [...seenRaw].sort();
      const counts = new Map<string, number>();
      for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
      const r = await compareSortedIds(idsOf(exp), idsOf(seen));
      assert.equal(r.missing, exp.filter((e) => !counts.has(e)).length);
      assert.equal(r.duplicated, [...counts.values()].reduce((s, c) => s + c - 1, 0));
      assert.equal(r.unexpected, [...counts.keys()].filter((k) => !exp.includes(k)).length);
      assert.equal(r.seen, seen.length);
    }),
  );
});

test('VmRSS of a /proc status text', () => {
  assert.equal(vmRssKbOf('Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 1 kB\n'), 51234);
  assert.equal(vmRssKbOf('Name:\tkthreadd\nState:\tS\n'), null);
});

test('the request id is the X-Request-Id answer header of an entry, nothing else', () => {
  const id = '0123456789abcdef0123456789abcdef';
  const entry = (reqHeaders: object, resHeaders: object): string => JSON.stringify({ id: '1-2', request: { headers: reqHeaders }, response: { status: 200, headers: resHeaders } });
  assert.equal(requestIdOfEntryLine(entry({}, { 'X-Request-Id': id })), id);
  assert.equal(requestIdOfEntryLine(entry({}, { 'x-request-id': id })), id);
  assert.equal(requestIdOfEntryLine(entry({ 'X-Request-Id': id }, {})), null);
  assert.equal(requestIdOfEntryLine(entry({}, { 'X-Request-Id': 'not an id' })), null);
  assert.equal(requestIdOfEntryLine('{"type":"stats","pod":"web-0"}'), null);
  assert.equal(requestIdOfEntryLine('{"truncated'), null);
  assert.equal(requestIdOfEntryLine(JSON.stringify({ request: {}, response: null })), null);
});

test('the fast id reader agrees with the full parse, also where the text is in a body or a request', () => {
  const id = '0123456789abcdef0123456789abcdef';
  const lines = [
    JSON.stringify({ request: { headers: {} }, response: { status: 200, headers: { 'X-Request-Id': id } } }),
    JSON.stringify({ request: { headers: { 'X-Request-Id': id } }, response: { headers: {} } }),
    JSON.stringify({ request: { headers: {} }, response: null, error: { text: `"X-Request-Id":"${id}"` } }),
    JSON.stringify({ request: { headers: {} }, response: { headers: { 'X-Request-Id': `${id}0` } } }),
    JSON.stringify({ request: { headers: {} }, response: { headers: { 'x-request-id': id } } }),
    '{"type":"stats"}',
  ];
  for (const line of lines) assert.equal(fastRequestIdOfEntryLine(line), requestIdOfEntryLine(line), line);
});

test('the TUI header counts of a captured screen', () => {
  const screen = ' kubectl shark │ sandbox │ soak\n entries 100000/100000 │ 8.1k/s │ drops 0 (evicted 52311) │ following │ filter: none\n';
  assert.deepEqual(tuiCountsOf(screen), { shown: 100000, total: 100000, evicted: 52311, drops: 0 });
  assert.deepEqual(tuiCountsOf(' entries 12/12 │ drops 3 │ following'), { shown: 12, total: 12, evicted: 0, drops: 3 });
  assert.equal(tuiCountsOf('starting...'), null);
});

test('the CLI is started with the flags of the launcher, which are read from its exec line', () => {
  const script = '#!/bin/sh\nmain=x\n# exec "$runtime" in a comment\nexec "$runtime" --max-semi-space-size=8 --stack-size=900 "$main" "$@"\n';
  assert.deepEqual(nodeFlagsOfLauncher(script), ['--max-semi-space-size=8', '--stack-size=900']);
  assert.deepEqual(nodeFlagsOfLauncher('exec "$runtime" "$main" "$@"\n'), []);
  assert.throws(() => nodeFlagsOfLauncher('node "$main"\n'), /no line/);
  // The real launcher: parsed, and every flag one node option.
  assert.ok(LAUNCHER_NODE_FLAGS.every((f) => /^--[a-z0-9-]+(=\S+)?$/.test(f)), LAUNCHER_NODE_FLAGS.join(' '));
});
