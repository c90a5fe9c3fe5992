/**
 * The TLS capture facade's own logic with a FAKE of the loaded probes (probe-api.ts): the first scan
 * is attached before open resolves, rescans run every rescanMs without stacking, a refused attach is
 * planned again a bounded number of times and turns its processes' reports into "not hooked", a
 * failing scan is reported and the rescans go on, close stops everything once. The real probes are
 * exercised by test/e2e/agent-tls.test.ts and the loader's tests.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TlsProbeCounters } from './events.ts';
import type { LibraryHookPlan, ProcessHookReport } from './hooks.ts';
import type { AttachResult, TlsProbes } from './probe-api.ts';
import { MAX_PLAN_RETRIES, openTlsCapture, type TargetScanResult } from './tls-capture.ts';

const plan = (key: string): LibraryHookPlan => ({ key, library: 'openssl', version: 'OpenSSL 3.0.22', path: `/proc/1/root/lib/${key}`, probes: [] });
const hooked = (pid: number, key: string): ProcessHookReport => ({ pid, comm: 'curl', library: 'openssl', hooked: true, reason: 'libssl.so.3 (OpenSSL 3.0.22)', planKey: key });

class FakeProbes implements TlsProbes {
  readonly attempts: string[] = [];
  readonly refuseTimes: Map<string, number>;
  closed = 0;
  constructor(refuseTimes: Map<string, number>) {
    this.refuseTimes = refuseTimes;
  }
  attach(p: LibraryHookPlan): AttachResult {
    this.attempts.push(p.key);
    const left = this.refuseTimes.get(p.key) ?? 0;
    if (left > 0) {
      this.refuseTimes.set(p.key, left - 1);
      return { ok: false, reason: 'No such file or directory' };
    }
    return { ok: true, probes: 4 };
  }
  counters(): TlsProbeCounters {
    return { events: 0, bytes: 0, lostEvents: 0 };
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a refused plan is planned again (bounded), its processes reported not hooked meanwhile; rescans never stack; close stops them', async () => {
  const probes = new FakeProbes(new Map([['a', 1], ['b', 99]]));
  const reports: ProcessHookReport[] = [];
  const errors: string[] = [];
  const forgotten: string[] = [];
  let scans = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const pending = new Set(['a', 'b']);
  const scanTargets = async (): Promise<TargetScanResult> => {
    scans++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await wait(25); // slower than the rescan period
    inFlight--;
    if (scans === 3) throw new Error('proc went away');
    const plans = [...pending].map(plan);
    pending.clear();
    return { plans, reports: plans.map((p) => hooked(p.key === 'a' ? 100 : 101, p.key)) };
  };
  const capture = await openTlsCapture(
    { ringBytes: 1 << 20, rescanMs: 10, onEvents: () => undefined, onReport: (r) => reports.push(r), onInternalError: (err, where) => errors.push(`${where}: ${String(err)}`) },
    {
      openProbes: () => probes,
      scanTargets,
      forgetPlan: (key) => {
        forgotten.push(key);
        pending.add(key);
      },
    },
  );
  // The first scan ran before open resolved.
  assert.deepEqual(probes.attempts, ['a', 'b']);
  assert.deepEqual(reports.map((r) => `${r.pid} ${r.hooked}`), ['100 false', '101 false']);
  assert.match(reports[0]!.reason, /: the probes could not be attached \(No such file or directory\)$/);
  await wait(400);
  capture.close();
  capture.close();
  const after = scans;
  await wait(60);
  assert.equal(scans, after, 'no scan after close');
  assert.equal(probes.closed, 1);
  assert.equal(maxInFlight, 1, 'scans never overlap');
  assert.deepEqual(errors, ['tls target scan: Error: proc went away']);
  // a: refused once, planned again, attached; b: refused every time, given up after the retries.
  assert.equal(probes.attempts.filter((k) => k === 'a').length, 2);
  assert.equal(probes.attempts.filter((k) => k === 'b').length, 1 + MAX_PLAN_RETRIES);
  assert.deepEqual(forgotten.filter((k) => k === 'b').length, MAX_PLAN_RETRIES);
  const a = reports.filter((r) => r.pid === 100);
  assert.equal(a.at(-1)!.hooked, true, `hooked once its plan attached: ${JSON.stringify(reports)}`);
});

test('open fails as the probes do (TLS unavailable), and a first scan that throws closes what was opened', async () => {
  const probes = new FakeProbes(new Map());
  await assert.rejects(
    openTlsCapture(
      { ringBytes: 1 << 20, rescanMs: 10, onEvents: () => undefined, onReport: () => undefined, onInternalError: () => undefined },
      {
        openProbes: () => probes,
        scanTargets: async () => {
          throw new Error('no /proc');
        },
      },
    ),
    /no \/proc/,
  );
  assert.equal(probes.closed, 1);
});
