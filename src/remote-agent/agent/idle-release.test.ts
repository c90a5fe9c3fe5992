/**
 * When the agent gives idle memory back (idle-release.ts), and that a live agent does so once idle,
 * never with --tls (agent.ts).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LiveCapture } from '../live/index.ts';
import { Agent, type AgentConfig, type IdleMemoryReleaser } from './agent.ts';
import { IDLE_RELEASE_AFTER_MS, IdleRelease } from './idle-release.ts';

test('idle since start: due once; traffic re-arms it; never while the counter moves; the next wait is twice as long', () => {
  const r = new IdleRelease(0, 0, 5000);
  assert.equal(r.due(1000, 0), false);
  assert.equal(r.due(4999, 0), false);
  assert.equal(r.due(5000, 0), true, 'idle since start');
  assert.equal(r.afterMs, 10_000);
  assert.equal(r.due(6000, 0), false, 'once per idle period');
  assert.equal(r.due(60_000, 0), false);
  // Traffic: never due while packets come, even long after the last release.
  let packets = 0;
  for (let t = 61_000; t <= 79_000; t += 1000) assert.equal(r.due(t, (packets += 10)), false);
  // Idle again (the counter last moved at 79,000 ms): due once that has lasted the (doubled) wait.
  assert.equal(r.due(80_000, packets), false);
  assert.equal(r.due(88_999, packets), false);
  assert.equal(r.due(89_000, packets), true, 'idle for 10 s since the counter last moved');
  assert.equal(r.due(95_000, packets), false);
});

test('traffic every few seconds: releases thin out, the wait doubling up to its bound, and it still comes in a long pause', () => {
  const r = new IdleRelease(0, 0, 5000, 40_000);
  const releases: number[] = [];
  // A packet every 12 s for 10 minutes.
  let packets = 0;
  for (let t = 0; t <= 600_000; t += 1000) {
    if (t % 12_000 === 0) packets++;
    if (r.due(t, packets)) releases.push(t);
  }
  // 5 s, then 10 s fit in a 12 s pause; 20 s and more never do.
  assert.deepEqual(releases, [5000, 22_000]);
  assert.equal(r.afterMs, 20_000);
  // A long pause: one release, after the 20 s wait; the next wait is the bound.
  const quiet = 600_000;
  for (let t = quiet; t <= quiet + 300_000; t += 1000) if (r.due(t, packets)) releases.push(t);
  assert.equal(releases.length, 3, 'once per idle period, however long');
  assert.equal(r.afterMs, 40_000);
});

const FAKE_LIVE = async () => () =>
  ({ iface: 'lo', linkType: 101, onFrameErrors: 0, corruptBlocks: 0, ringBytes: 0, handoverCopies: 0, kernelCounters: () => ({ packets: 0, drops: 0, freezes: 0 }), drain: () => 0, close: () => undefined }) satisfies LiveCapture;

function config(over: Partial<AgentConfig> = {}): AgentConfig {
  return { source: { kind: 'live', iface: 'lo' }, filter: null, maxBodyBytes: 65536, redact: true, redactKeys: [], maxMemoryBytes: 200 * 1048576, idleExitMs: 0, statsIntervalMs: 1000, ...over };
}

/** Runs an idle live agent (fake capture) for `ms`; how many times it gave memory back. */
async function releasesOfIdleAgent(cfg: AgentConfig, ms: number, releaser: IdleMemoryReleaser | 'throws'): Promise<{ releases: number; out: string }> {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8');
  out.on('data', (d: string) => (text += d));
  let releases = 0;
  const release: IdleMemoryReleaser = () => {
    releases++;
    if (releaser === 'throws') throw new Error('madvise binding broke');
    return releaser();
  };
  // --tls with probes that cannot run here: the agent goes on with packets alone.
  const agent = new Agent(cfg, out, FAKE_LIVE, async () => async () => { throw new Error('no probes in this test'); }, async () => release);
  const exit = agent.run();
  await sleep(ms);
  agent.stop('stop');
  assert.equal((await exit).code, 0);
  return { releases, out: text };
}

test(`an idle live agent gives its memory back once after ${IDLE_RELEASE_AFTER_MS / 1000} s; with --tls it keeps it; a release that throws is an internal error, and capture goes on`, { timeout: 30_000 }, async () => {
  const report = () => ({ mappings: 1, bytes: 4096, refused: 0, cHeapTrimmed: true });
  const wait = IDLE_RELEASE_AFTER_MS + 2500;
  const [plain, tls, broken] = await Promise.all([
    releasesOfIdleAgent(config(), wait, report),
    releasesOfIdleAgent(config({ tls: true }), wait, report),
    releasesOfIdleAgent(config(), wait, 'throws'),
  ]);
  assert.equal(plain.releases, 1, 'released once in the idle period');
  assert.equal(tls.releases, 0, '--tls: never');
  assert.equal(broken.releases, 1);
  const stats = broken.out.split('\n').filter((l) => l.includes('"type":"stats"')).map((l) => JSON.parse(l) as { internalErrors: number });
  assert.equal(stats.at(-1)?.internalErrors, 1, 'counted as an internal error');
  assert.match(broken.out, /INTERNAL_ERROR[^\n]*idle memory release/);
});
