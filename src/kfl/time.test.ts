/**
 * Time literals: the forms Kubeshark users paste (ISO 8601, RFC 3339, the v1 UI's US form, Go
 * durations) and the ones that must be refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDatetime, parseDuration, parseTimestamp } from './time.ts';

test('datetime: ISO 8601 with zone, without zone (local), date only (UTC)', () => {
  assert.equal(parseDatetime('2024-01-15T12:00:00Z'), Date.UTC(2024, 0, 15, 12));
  assert.equal(parseDatetime('2024-01-15T12:00:00.123456+02:00'), Date.UTC(2024, 0, 15, 10, 0, 0, 123) + 0.456);
  assert.equal(parseDatetime('2024-01-15T12:00'), new Date(2024, 0, 15, 12, 0).getTime());
  assert.equal(parseDatetime('2024-01-15'), Date.UTC(2024, 0, 15));
});

test('datetime: the Kubeshark v1 UI form, local time, milliseconds optional', () => {
  assert.equal(parseDatetime('10/28/2021, 9:13:02.905 PM'), new Date(2021, 9, 28, 21, 13, 2, 905).getTime());
  assert.equal(parseDatetime('10/19/2021, 6:29:02 PM'), new Date(2021, 9, 19, 18, 29, 2).getTime());
  assert.equal(parseDatetime('1/2/2006, 12:04:05.000 AM'), new Date(2006, 0, 2, 0, 4, 5).getTime());
  assert.equal(parseDatetime('1/2/2006, 12:04:05.000 PM'), new Date(2006, 0, 2, 12, 4, 5).getTime());
});

test('datetime refuses what is not a date', () => {
  for (const bad of ['yesterday', '2024-02-30', '2024-13-01', '13/02/2024, 1:00:00 PM', '1/2/2006, 13:04:05 PM', '']) {
    assert.equal(parseDatetime(bad), undefined, bad);
  }
});

test('timestamp needs RFC 3339: date, time and zone', () => {
  assert.equal(parseTimestamp('2026-03-14T22:00:00Z'), Date.UTC(2026, 2, 14, 22));
  assert.equal(parseTimestamp('2026-03-14T22:00:00-05:00'), Date.UTC(2026, 2, 15, 3));
  assert.equal(parseTimestamp('2026-03-14'), undefined);
  assert.equal(parseTimestamp('2026-03-14T22:00:00'), undefined);
});

test('duration: Go units and combinations, in milliseconds', () => {
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('-2h'), -7_200_000);
  assert.equal(parseDuration('300ms'), 300);
  assert.equal(parseDuration('10us'), 0.01);
  assert.equal(parseDuration('10µs'), 0.01);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['5', '5 minutes', 'm', '', '1d', '5m3']) assert.equal(parseDuration(bad), undefined, bad);
});
