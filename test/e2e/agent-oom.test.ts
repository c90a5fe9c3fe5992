/**
 * The agent in a pod's memory cgroup (issue 10, item 8). An ephemeral container has no limit of its
 * own: its memory counts against the pod's. Here a real memory cgroup plays the pod: an "app" (the
 * test HTTP server, and a ballast process holding most of the limit) and the agent under real HTTP
 * load, each in a child group as a pod's containers are.
 *
 * 1. The app grows until the pod hits its limit: the kernel's OOM killer must pick the agent (it
 *    raised its oom_score_adj to 1000), not the app, which is larger and would be the victim by size.
 * 2. Sized from the pod's headroom as tap sizes it (limit - working set), the agent stays inside it
 *    under load with a stalled reader: no OOM kill, and what it could not keep is counted as dropped.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sizeAgentMemory } from '../../src/kube/memory-headroom.ts';
import { prepareAgentDir, sleep, startAgent, type AgentProcess } from '../helpers/agent.ts';
import { NODE, REPO_ROOT } from '../helpers/capture.ts';
import { argvInCgroup, memoryHierarchy, MemoryCgroup } from '../helpers/memory-cgroup.ts';
import { alive, requireNetns, Scope, type Netns } from '../helpers/netns.ts';
import { agentTopology, startLoad } from './agent-fixtures/topology.ts';
import { skipFor, skipForFeature } from '../helpers/requirements.ts';

const MiB = 1024 * 1024;
const hierarchy = memoryHierarchy();
const skip = skipFor(requireNetns([])) || skipForFeature(typeof hierarchy === 'string' ? hierarchy : null);
if (skip) process.stdout.write(`# agent-oom skipped: ${skip}\n`);

const BALLAST = join(REPO_ROOT, 'test/e2e/agent-fixtures/ballast.ts');

interface Ballast {
  readonly child: ChildProcess;
  /** MiB held so far, from its "held N" lines. */
  heldMb(): number;
  reached(): boolean;
}

/** Starts the ballast in `group` inside the namespace: it grows to `targetMb` and holds it. */
function startBallast(ns: Netns, group: MemoryCgroup, targetMb: number, scope: Scope): Ballast {
  const [cmd, args] = ns.wrap(NODE, [BALLAST, String(targetMb), '4', '40']);
  const argv = argvInCgroup(group.procsFile, [cmd, ...args]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  scope.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let held = 0;
  let reached = false;
  child.stdout!.on('data', (b: Buffer) => {
    for (const m of b.toString('utf8').matchAll(/(held|reached) (\d+)/g)) {
      held = Math.max(held, Number(m[2]));
      if (m[1] === 'reached') reached = true;
    }
  });
  return { child, heldMb: () => held, reached: () => reached };
}

function procValue(pid: number, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').trim();
  } catch {
    return null;
  }
}

function mb(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

/** Peak of `sample()` while waiting `ms`. */
async function peakOver(ms: number, sample: () => number): Promise<number> {
  let peak = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    peak = Math.max(peak, sample());
    await sleep(100);
  }
  return peak;
}

/** Until the agent or the ballast is gone, or the ballast has held its target for 5 s, or the timeout. */
async function untilSomethingDies(agent: AgentProcess, ballast: Ballast, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reachedAt: number | null = null;
  while (Date.now() < deadline && agent.exit === null && ballast.child.exitCode === null && ballast.child.signalCode === null) {
    if (reachedAt === null && ballast.reached()) reachedAt = Date.now();
    if (reachedAt !== null && Date.now() - reachedAt > 5000) return;
    await sleep(50);
  }
}

test('the agent pushes the pod over its limit: the kernel kills the agent, never the larger app', { skip, timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const pod = MemoryCgroup.create('oom-pod');
    scope.defer(() => void pod.destroy());
    const app = pod.child('app');
    const shark = pod.child('shark');
    app.join(topo.serverPid);

    // Today's default --max-memory (200): what tap used whatever the pod's limit.
    const agent = startAgent(topo.server, ['--iface', 'any', '--idle-exit', '0'], { dir: prepareAgentDir(scope), scope, cgroup: shark, dropBodies: true });
    await agent.ready();
    const adj = procValue(agent.pid, 'oom_score_adj');
    t.diagnostic(`agent pid ${agent.pid}: oom_score_adj ${adj}, oom_score ${procValue(agent.pid, 'oom_score')}`);
    const load = startLoad(topo, { rate: 400, durationMs: 120_000, prefixes: ['oom'], minSize: 4096, maxSize: 16_384, maxInFlight: 64 });
    scope.defer(async () => {
      await load.stop().catch(() => undefined);
    });
    await agent.waitUntil(() => (agent.entries().length >= 200 ? true : undefined), 20_000, '200 entries under load');

    // The app holds 160 MiB, steady: larger than the agent, so the victim by size.
    const ballast = startBallast(topo.server, app, 160, scope);
    while (!ballast.reached()) await sleep(50);
    // The pod's limit: what is in use now (the agent's peak under this load) and a little room.
    const inUse = await peakOver(2000, () => pod.usageBytes());
    const ROOM = 6 * MiB;
    const LIMIT = inUse + ROOM;
    pod.setLimit(LIMIT);
    t.diagnostic(`pod limit ${mb(LIMIT)} MiB: in use ${mb(inUse)} MiB (app ballast ${ballast.heldMb()} MiB; agent ${mb(shark.usageBytes())} MiB, RSS ${mb(agent.rssBytes() ?? 0)} MiB)`);

    // Its reader stalls: the agent's queued output grows (within its --max-memory) past the room left.
    agent.pauseReading();
    await untilSomethingDies(agent, ballast, 30_000);
    await sleep(500);
    const oomKills = pod.oomKills();
    const agentExit = agent.exit;
    t.diagnostic(
      `after: OOM kills ${oomKills}, limit hits ${pod.limitHits()}; agent exit ${agentExit ? `${agentExit.code ?? '-'}/${agentExit.signal ?? '-'}` : 'running'}; ` +
        `ballast ${ballast.child.exitCode ?? ballast.child.signalCode ?? 'running'} holding ${ballast.heldMb()} MiB; ` +
        `server ${alive(topo.serverPid) ? 'running' : 'gone'}; the test took ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    assert.ok(oomKills >= 1, 'the pod hit its limit and the OOM killer ran');
    assert.equal(ballast.child.exitCode ?? ballast.child.signalCode, null, `the app (its ballast) was the OOM victim; agent: ${agentExit?.signal ?? 'alive'}`);
    assert.ok(alive(topo.serverPid), 'the app server survives');
    assert.equal(agentExit?.signal, 'SIGKILL', 'the agent is the one the OOM killer took');
    assert.equal(oomKills, 1, 'one victim only');
    assert.equal(adj, '1000', 'the agent raised its oom_score_adj to 1000');
  } finally {
    await scope.close();
  }
});

test('sized from the pod headroom, the agent stays inside it under load: no OOM kill, drops counted', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const topo = await agentTopology(scope);
    const pod = MemoryCgroup.create('sized-pod');
    scope.defer(() => void pod.destroy());
    const app = pod.child('app');
    const shark = pod.child('shark');
    app.join(topo.serverPid);
    const LIMIT = 384 * MiB;
    pod.setLimit(LIMIT);
    const ballast = startBallast(topo.server, app, 160, scope);
    while (!ballast.reached()) await sleep(100);

    // What tap does: the pod's limit and its working set (the metrics API's usage) size the agent.
    const usage = pod.workingSetBytes();
    const decision = sizeAgentMemory({ limitBytes: LIMIT, usage: { bytes: usage, source: 'metrics' }, addsContainer: true, force: false });
    t.diagnostic(`pod limit ${mb(LIMIT)} MiB, working set ${mb(usage)} MiB: ${decision.summary}`);
    assert.equal(decision.verdict, 'ok', decision.summary);
    const maxMb = Math.floor(decision.maxMemoryBytes / MiB);
    const agent = startAgent(topo.server, ['--iface', 'any', '--idle-exit', '0', `--max-memory=${maxMb}`], { dir: prepareAgentDir(scope), scope, cgroup: shark, dropBodies: true });
    await agent.ready();
    const load = startLoad(topo, { rate: 500, durationMs: 60_000, prefixes: ['sized'], minSize: 4096, maxSize: 16_384, maxInFlight: 64 });
    scope.defer(async () => {
      await load.stop().catch(() => undefined);
    });
    await agent.waitUntil(() => (agent.entries().length >= 200 ? true : undefined), 20_000, '200 entries under load');
    agent.pauseReading();
    let peakRss = 0;
    const peakPod = await peakOver(10_000, () => {
      peakRss = Math.max(peakRss, agent.rssBytes() ?? 0);
      return pod.usageBytes();
    });
    agent.resumeReading();
    await load.stop();
    const exit = await agent.stop(10_000);
    const final = agent.stats().at(-1)!;
    t.diagnostic(`peak: pod ${mb(peakPod)} of ${mb(LIMIT)} MiB, agent RSS ${mb(peakRss)} MiB (--max-memory ${maxMb}); final stats ${JSON.stringify(final)}`);
    assert.equal(pod.oomKills(), 0, 'no process was OOM-killed');
    assert.equal(exit.code, 0);
    assert.equal(ballast.child.exitCode ?? ballast.child.signalCode, null, 'the app lives');
    assert.ok(peakPod < LIMIT, 'the pod stayed under its limit');
    assert.ok(final.dropped > 0, 'the stalled reader cost entries, counted in the stats');
    assert.equal(final.entries, final.sent + final.filtered + final.dropped);
  } finally {
    await scope.close();
  }
});
