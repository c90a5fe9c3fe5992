/**
 * Backpressure: with --max-memory 128 (output queue budget 12.8 MiB: a tenth) under continuous load, a reader
 * that stops reading for 10 s costs entries (counted in `dropped`), never memory: the agent's RSS
 * stays under the bound while capture goes on (`packets` keeps growing), and output resumes with
 * fresh entries as soon as the reader does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatsFrame } from '../../src/remote-agent/wire/protocol.ts';
import { Scope, requireNetns } from '../helpers/netns.ts';
import { prepareAgentDir, sleep, startAgent } from '../helpers/agent.ts';
import { agentTopology, startLoad } from './agent-fixtures/topology.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns([]));
const MiB = 1024 * 1024;
const MAX_MEMORY_MB = 128;
const PAUSE_MS = 10_000;

test('agent backpressure: a stalled reader costs entries, not memory, and output resumes', { skip, timeout: 120_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const dir = prepareAgentDir(scope);
    const agent = startAgent(topo.server, ['--iface', 'any', '--max-memory', String(MAX_MEMORY_MB), '--idle-exit', '0'], { dir, scope, dropBodies: true });
    const hello = await agent.ready();
    assert.equal(hello.maxMemoryBytes, MAX_MEMORY_MB * MiB);

    let wholeRunPeak = 0;
    const sampler = setInterval(() => {
      wholeRunPeak = Math.max(wholeRunPeak, agent.rssBytes() ?? 0);
    }, 200);
    scope.defer(() => clearInterval(sampler));
    const load = startLoad(topo, { rate: 500, durationMs: 60_000, prefixes: ['p'], minSize: 4096, maxSize: 16_384, maxInFlight: 64 });
    scope.defer(async () => {
      await load.stop().catch(() => undefined);
    });
    await sleep(3000);
    const before = agent.lastStats();
    assert.ok(agent.entries().length > 0, `entries flow before the pause (${agent.summary()})`);
    const framesAtPause = agent.frames.length;
    const bytesAtPause = agent.stdoutBytes;
    const pausedMs = Date.now();
    agent.pauseReading();

    const rss: number[] = [];
    try {
      while (Date.now() - pausedMs < PAUSE_MS) {
        const r = agent.rssBytes();
        assert.ok(r !== null, `the agent is gone during the pause (${agent.exit?.code})`);
        rss.push(r);
        await sleep(200);
      }
    } finally {
      agent.resumeReading();
    }
    const resumedMs = Date.now();
    const peak = Math.max(...rss);
    t.diagnostic(`RSS during the ${PAUSE_MS} ms pause: ${rss.length} samples, first ${(rss[0]! / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, last ${(rss.at(-1)! / MiB).toFixed(1)} MiB`);
    assert.ok(peak < MAX_MEMORY_MB * MiB, `peak RSS ${(peak / MiB).toFixed(1)} MiB is over --max-memory ${MAX_MEMORY_MB}`);

    // Fresh entries: requests that started after the reader came back.
    const timeline = (): string =>
      agent
        .stats()
        .map((s) => `${s.uptimeMs}ms sent=${s.sent} dropped=${s.dropped} queued=${(s.queuedBytes / MiB).toFixed(1)}MiB rss=${(s.rssBytes / MiB).toFixed(0)}MiB`)
        .join('\n  ');
    const fresh = await agent
      .waitFor((f) => f.type === 'entry' && f.entry.timestamp > resumedMs, 15_000, 'an entry of a request made after the resume', framesAtPause)
      .catch((err: unknown) => {
        throw new Error(`${String(err)}\nstats (paused at ${pausedMs - hello.startedAtMs} ms, resumed at ${resumedMs - hello.startedAtMs} ms):\n  ${timeline()}`);
      });
    const freshAt = agent.frames.indexOf(fresh);
    t.diagnostic(
      `after the resume: first fresh entry ${agent.frameTimes[freshAt]! - resumedMs} ms later, ` +
        `${((agent.stdoutBytes - bytesAtPause) / MiB).toFixed(1)} MiB read since the pause`,
    );

    // Stats written during the pause were queued (small frames have headroom) and arrive now.
    const startedAt = hello.startedAtMs;
    const duringPause = agent.stats(framesAtPause).filter((s) => startedAt + s.uptimeMs > pausedMs + 500 && startedAt + s.uptimeMs < resumedMs);
    t.diagnostic(`${duringPause.length} stats frames written during the pause: packets ${duringPause.map((s) => s.packets).join(' ')}; queuedBytes ${duringPause.map((s) => (s.queuedBytes / MiB).toFixed(1)).join(' ')} MiB`);
    assert.ok(duringPause.length >= 2, 'stats frames written during the pause reach the reader');
    assert.ok(duringPause.at(-1)!.packets > duringPause[0]!.packets, 'packets keep growing while the reader does not read');
    const dropping = await agent.waitFor(
      (f): f is StatsFrame => f.type === 'stats' && startedAt + f.uptimeMs > resumedMs && f.dropped > 0,
      5000,
      'a stats frame after the resume with dropped > 0',
      framesAtPause,
    );
    t.diagnostic(`first stats after the resume: ${JSON.stringify(dropping)}`);
    // The queue budget (BACKPRESSURE) or the RSS bound (MEMORY_PRESSURE), whichever bit first, says why.
    const why = agent.notices().filter((n) => n.code === 'BACKPRESSURE' || n.code === 'MEMORY_PRESSURE');
    assert.ok(why.length > 0, `a warning explains the drops (${agent.summary()})`);
    t.diagnostic(`warnings: ${why.map((n) => `${n.code}: ${n.message}`).join(' | ')}`);

    const report = await load.stop();
    clearInterval(sampler);
    const exit = await agent.stop();
    assert.equal(exit.code, 0);
    const final = agent.stats().at(-1)!;
    assert.equal(final.final, true);
    assert.ok(final.dropped > 0);
    assert.ok(final.packets > (before?.packets ?? 0));
    assert.equal(final.entries, final.sent + final.filtered + final.dropped, 'entries == sent + filtered + dropped');
    assert.equal(final.sent, agent.entries().length, 'every entry frame written was read');
    const statsRss = Math.max(...agent.stats().map((s) => s.rssBytes));
    t.diagnostic(
      `load: ${report.completed} requests in ${report.elapsedMs} ms (${Math.round((report.completed * 1000) / report.elapsedMs)}/s), ${report.failed} failed, throttled ${report.throttled}`,
    );
    t.diagnostic(
      `final: packets ${final.packets}, entries ${final.entries}, sent ${final.sent}, dropped ${final.dropped}, kernelDrops ${final.kernelDrops}, ` +
        `memoryResets ${final.memoryResets}; peak RSS over the whole run ${(wholeRunPeak / MiB).toFixed(1)} MiB (/proc), ${(statsRss / MiB).toFixed(1)} MiB (stats frames)`,
    );
  } finally {
    await scope.close();
  }
});
