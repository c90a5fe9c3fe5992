import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSummary } from '../../cmd/read.ts';
import { newCaptureStats } from '../remote-agent/stats.ts';
import { emptyTallies, formatTallies, sumTallies, tallyOf, talliesFrom, talliesWorthShowing } from './protocol-tally.ts';

test('tallies from a pod: only names that look like names and whole counts', () => {
  const from = talliesFrom({ http: { entries: 3, violations: 1 }, dns: { entries: 2.5, violations: 2 }, 'Bad Name': { entries: 1 }, x: 5, __proto__: { entries: 9 } });
  assert.deepEqual({ ...from }, { http: { entries: 3, violations: 1 }, dns: { entries: 0, violations: 2 } });
  for (const garbage of [null, 5, 'x', []]) assert.equal(talliesFrom(garbage), undefined);
  assert.equal(Object.getPrototypeOf(from), null);
});

test('sums and the summary phrase: most entries first, violations only when there are some', () => {
  const a = emptyTallies();
  tallyOf(a, 'http').entries = 3;
  const b = emptyTallies();
  Object.assign(tallyOf(b, 'http'), { entries: 1, violations: 0 });
  Object.assign(tallyOf(b, 'dns'), { entries: 1200, violations: 1 });
  const sum = sumTallies(a, b);
  assert.equal(formatTallies(sum, (n) => n.toUpperCase()), 'DNS 1,200 entries and 1 violation, HTTP 4 entries');
});

test('read summary: the split by protocol only when more than one was seen', () => {
  const stats = newCaptureStats();
  tallyOf(stats.protocols, 'http').entries = 4;
  const one = formatSummary(stats);
  assert.doesNotMatch(one, /by protocol/);
  tallyOf(stats.protocols, 'websocket').violations = 2;
  assert.match(formatSummary(stats), /; by protocol: HTTP 4 entries, WS 0 entries and 2 violations$/);
});

test('lost exchanges (HTTP/2 streams whose request headers could not be read): carried, summed and said', () => {
  const from = talliesFrom({ http: { entries: 3, violations: 0, lost: 2 }, dns: { entries: 1, violations: 0, lost: -1 }, ws: { entries: 0, violations: 0, lost: 1.5 } });
  assert.deepEqual({ ...from }, { http: { entries: 3, violations: 0, lost: 2 }, dns: { entries: 1, violations: 0 } });
  const only = talliesFrom({ http: { entries: 0, violations: 0, lost: 4 } });
  assert.deepEqual({ ...only }, { http: { entries: 0, violations: 0, lost: 4 } }, 'lost alone is worth carrying');
  const sum = sumTallies(from!, only!);
  assert.equal(sum['http']?.lost, 6);
  assert.equal(sum['dns']?.lost, undefined);
  assert.equal(formatTallies(sum, (n) => n.toUpperCase()), 'HTTP 3 entries (6 exchanges lost: not captured whole), DNS 1 entry');
  // The protocol's own unit, where its descriptor names one (tap's per-pod line uses the same).
  const units = (n: string) => (n === 'http' ? { one: 'HTTP/2 stream', many: 'HTTP/2 streams' } : undefined);
  assert.equal(formatTallies(sum, (n) => n.toUpperCase(), units), 'HTTP 3 entries (6 HTTP/2 streams lost: not captured whole), DNS 1 entry');
});

test('read summary: lost HTTP/2 streams are said even for one protocol', () => {
  const stats = newCaptureStats();
  Object.assign(tallyOf(stats.protocols, 'http'), { entries: 2, lost: 1 });
  assert.match(formatSummary(stats), /; by protocol: HTTP 2 entries \(1 HTTP\/2 stream lost: not captured whole\)$/);
});

test('talliesWorthShowing: more than one protocol, or violations, or lost exchanges; one clean protocol is said by the totals', () => {
  const t = (o: Record<string, { entries: number; violations: number; lost?: number }>) => Object.assign(emptyTallies(), o);
  assert.equal(talliesWorthShowing(emptyTallies()), false);
  assert.equal(talliesWorthShowing(t({ http: { entries: 9, violations: 0 } })), false);
  assert.equal(talliesWorthShowing(t({ http: { entries: 9, violations: 0 }, dns: { entries: 0, violations: 0 } })), false, 'a protocol with nothing counted is not seen');
  assert.equal(talliesWorthShowing(t({ http: { entries: 9, violations: 0 }, dns: { entries: 1, violations: 0 } })), true);
  assert.equal(talliesWorthShowing(t({ http: { entries: 9, violations: 1 } })), true);
  assert.equal(talliesWorthShowing(t({ http: { entries: 0, violations: 0, lost: 3 } })), true);
});
