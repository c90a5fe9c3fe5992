import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newCaptureStats } from './stats.ts';
import { countThrown, InternalErrors, MAX_REPORTED_SITES, ProtocolViolation, type InternalErrorReport } from './thrown-errors.ts';

function recorder(): { stats: ReturnType<typeof newCaptureStats>; reports: InternalErrorReport[]; errors: InternalErrors } {
  const stats = newCaptureStats();
  const reports: InternalErrorReport[] = [];
  return { stats, reports, errors: new InternalErrors(stats, (r) => reports.push(r)) };
}

/** Throws from one fixed line: every call is the same site. */
function sameSite(text: string): Error {
  const missing = new Map<string, { length: number }>();
  try {
    missing.get(text)!.length++;
  } catch (err) {
    return err as Error;
  }
  throw new Error('unreachable');
}

test('each throw site is reported once, every throw is counted', () => {
  const { stats, reports, errors } = recorder();
  for (let i = 0; i < 5; i++) errors.record(sameSite(`call ${i}`), 'http/1 stream data');
  assert.equal(stats.internalErrors, 5);
  assert.equal(reports.length, 1);
  assert.match(reports[0]!.message, /^internal error \(a bug: please report\) in http\/1 stream data: TypeError: .* \| at sameSite \(.*thrown-errors\.test\.ts:\d+:\d+\)/);
  // The same throw line caught at another place is another site.
  errors.record(sameSite('x'), 'stream handler close');
  assert.equal(reports.length, 2);
});

test('a report is one bounded line: captured bytes quoted by the message cannot reach the terminal raw', () => {
  const { reports, errors } = recorder();
  const hostile = `header \u001b]52;c;cHduZWQ=\u0007 \u009b2J\r\nforged line ${'A'.repeat(100_000)}`;
  const err = new RangeError(hostile);
  errors.record(err, 'stream handler data');
  const message = reports[0]!.message;
  assert.doesNotMatch(message, /[\u0000-\u001f\u007f-\u009f]/);
  assert.match(message, /RangeError: header \\u001b\]52;c;cHduZWQ=\\u0007 \\u009b2J\\u000d\\u000aforged line A+\.\.\./);
  assert.ok(message.length < 4096, `bounded: ${message.length} characters`);
});

test('distinct sites are reported up to MAX_REPORTED_SITES, then only counted', () => {
  const { stats, reports, errors } = recorder();
  for (let i = 0; i < MAX_REPORTED_SITES * 3; i++) errors.record(new Error('bug'), `place ${i}`);
  assert.equal(stats.internalErrors, MAX_REPORTED_SITES * 3);
  assert.equal(reports.length, MAX_REPORTED_SITES);
  assert.match(reports.at(-1)!.message, /further distinct internal errors are only counted/);
});

test('what is thrown need not be an Error', () => {
  const { stats, reports, errors } = recorder();
  errors.record('a string \u001b[31m', 'tcp reassembly');
  assert.equal(stats.internalErrors, 1);
  assert.equal(reports[0]!.message, 'internal error (a bug: please report) in tcp reassembly: string: a string \\u001b[31m');
});

test('countThrown: a ProtocolViolation is bad input, anything else a bug', () => {
  const { stats, reports, errors } = recorder();
  countThrown(new ProtocolViolation('dns', 'label loop'), stats, errors, 'stream handler data');
  assert.deepEqual([stats.dissectionErrors, stats.internalErrors, reports.length], [1, 0, 0]);
  countThrown(new TypeError('x is undefined'), stats, errors, 'stream handler data');
  assert.deepEqual([stats.dissectionErrors, stats.internalErrors, reports.length], [1, 1, 1]);
});
