/**
 * OOM safety for real (issue 14, "Tap against it", point 2): a pod whose app container has a
 * 128 MiB limit and really uses ~100 MiB, called all the time by another pod, tapped with --force
 * (without it tap refuses: the agent needs 96 MiB, the pod has ~28 left). The pod's and the
 * containers' memory cgroups are runc's, the OOM killer the kernel's: nothing is faked. Either the
 * app survives untouched (same process, restartCount 0, no lastState, no OOM kill in its cgroup,
 * all it held still held) and the agent stays within its budget or is the one killed and tap says
 * so; or the kernel kills the app (it is larger than the agent, and its Burstable score is close to
 * the agent's), and tap says so in one line, exits 12 and stops that pod's capture at once.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { formatBytes } from '../../src/model/byte-units.ts';
import { requireSandbox, startSandbox, type PodMemory, type Sandbox } from '../sandbox/index.ts';
import { SHOP_SCRIPT } from '../sandbox/demo-app.ts';
import { memoryCgroupsReason } from '../sandbox/pod-cgroups.ts';
import { agentsIn, assertNoAgents, coreApiOf, requireBuild, runTap, startTap } from '../helpers/tap.ts';
import { assertNothingLeft, containerMemoryCgroup, eventually, oomKillsIn, procStatus } from '../helpers/container-sandbox.ts';
import { skipFor, skipForFeature } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild()) || skipForFeature(memoryCgroupsReason());
if (skip) process.stdout.write(`# tap-oom-real skipped: ${skip}\n`);

const MiB = 2 ** 20;
const MEMORY_APP = fileURLToPath(new URL('../sandbox/apps/memory-app.mjs', import.meta.url));
const IPS = { app: '10.244.8.10', load: '10.244.8.11' } as const;
const LIMIT_MB = 128;
/** What the app container uses, as its cgroup counts it. */
const USE_MB = 100;
/** How long the tap runs under load. */
const LOAD_MS = 30_000;

let sandbox: Sandbox;
let core: k8s.CoreV1Api;
let memory: PodMemory;
let heldMb = 0;
/** The app container's init (host pid) and memory cgroup before anything was tapped. */
let appPid = 0;
let appCgroup = '';

/** POST /hold?mb=N to the app from the host (through the sandbox bridge): what it holds now. */
function hold(mb: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: IPS.app, port: 8080, method: 'POST', path: `/hold?mb=${mb}`, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString('utf8')));
      res.on('end', () => resolve((JSON.parse(body) as { heldMb: number }).heldMb));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  if (skip) return;
  sandbox = await startSandbox({
    namespaces: [{ name: 'oom' }],
    pods: [
      {
        namespace: 'oom',
        name: 'app',
        labels: { app: 'app' },
        ip: IPS.app,
        containers: [{ name: 'app', image: 'node:24-slim', command: ['node', MEMORY_APP], env: { PORT: '8080' }, resources: { limits: { memory: `${LIMIT_MB}Mi` } } }],
      },
      {
        // About a hundred calls a second, for as long as the test runs.
        namespace: 'oom',
        name: 'load',
        ip: IPS.load,
        containers: [{ name: 'load', image: 'node:24-slim', command: ['node', SHOP_SCRIPT], env: { SERVICE_NAME: 'load', PORT: '8081', CALL: `http://${IPS.app}:8080`, INTERVAL_MS: '10' } }],
      },
    ],
  });
  core = coreApiOf(sandbox);
  memory = sandbox.podMemory('oom', 'app')!;
  await eventually('the app listening', () => hold(0).then(() => true, () => false), 30_000);
  // Up to USE_MB of charged memory, adjusted for what holding costs besides the buffers.
  for (let round = 0; round < 3; round++) {
    const freeMb = USE_MB - memory.usageBytes() / MiB;
    heldMb = await hold(Math.max(0, heldMb + Math.floor(freeMb)));
  }
  appPid = sandbox.containerPid('oom', 'app', 'app');
  appCgroup = containerMemoryCgroup(memory.dir, appPid);
  process.stdout.write(`# app: holding ${heldMb} MiB, pod usage ${formatBytes(memory.usageBytes())} of ${LIMIT_MB} MiB (limit ${formatBytes(memory.limitBytes())})\n`);
});

after(async () => {
  if (skip) return;
  await sandbox.stop();
  assertNothingLeft(sandbox);
});

/** The app container is as it was: same process, never restarted, never OOM-killed, holding all it held. */
async function assertAppUntouched(): Promise<void> {
  const pod = await core.readNamespacedPod({ namespace: 'oom', name: 'app' });
  const status = pod.status?.containerStatuses?.find((s) => s.name === 'app');
  assert.equal(status?.lastState?.terminated, undefined, `the app container was not killed: lastState ${JSON.stringify(status?.lastState)}, restartCount ${status?.restartCount}`);
  assert.equal(status?.restartCount, 0);
  assert.ok(status?.state?.running, `the app container runs: ${JSON.stringify(status?.state)}`);
  assert.equal(sandbox.containerPid('oom', 'app', 'app'), appPid, "the app container's process is the same");
  assert.equal(oomKillsIn(appCgroup), 0, `no OOM kill in the app container's cgroup ${appCgroup}`);
  assert.equal(await hold(heldMb), heldMb, 'the app answers, holding all it held');
}

test('without --force the pod is refused (exit 13): the agent needs 96 MiB, the pod has less', { skip }, async () => {
  const res = await runTap(sandbox, ['app', '-n', 'oom', '-o', 'json']);
  assert.equal(res.code, 13, res.stderr);
  assert.match(res.stderr, /pod oom\/app has too little free memory for the capture agent \(limit 128 MiB, usage \d+(\.\d)? MiB/);
  const pod = await core.readNamespacedPod({ namespace: 'oom', name: 'app' });
  assert.deepEqual(pod.spec?.ephemeralContainers ?? [], []);
  await assertAppUntouched();
});

interface AgentSample {
  readonly at: number;
  readonly pid: number;
  /** VmHWM: the process's peak RSS so far. */
  readonly peakRss: number;
}

/** The line tap says when the app container was killed for memory while tapped (app-container-ends.ts). */
const APP_KILLED_LINE =
  /pod oom\/app: container app was (OOM-killed|killed \(exit code 137, SIGKILL: out of memory\?\)) while tapped \(pod memory limit 128 MiB, the capture agent's memory counts against it\): capture stopped for this pod; tap it without --force \(a pod without room is refused\), or raise the pod's memory limit/g;
/** After that line: longer than tap's wait before restarting a killed agent (2 s) and a whole restart (~2 s here). */
const WATCH_AFTER_KILL_MS = 10_000;

/** The capture containers of the pod: added (in the spec) and running now. */
async function captureContainers(): Promise<{ added: string[]; running: string[] }> {
  const pod = await core.readNamespacedPod({ namespace: 'oom', name: 'app' });
  return {
    added: (pod.spec?.ephemeralContainers ?? []).map((c) => c.name),
    running: (pod.status?.ephemeralContainerStatuses ?? []).filter((s) => s.state?.running).map((s) => s.name),
  };
}

/**
 * At 100 of 128 MiB the pod has no room for even an idle agent (~25 MiB charged with its keeper):
 * the pod's cgroup hits its limit, and the kernel picks its victim by RSS + oom_score_adj x limit /
 * 1000. The agent's 1000 beats the app's 969 (the kubelet's score for this Burstable container) by
 * only ~4 MiB of that score, so the larger app (~145 MiB RSS against the agent's ~58) is the one
 * killed most of the time, and the agent, in the PID namespace of the app it joined, dies with it.
 * Either outcome is allowed, each with what tap must then do.
 */
test('tapped with --force under load: the app survives (the agent within its budget, or killed and said), or the app is OOM-killed and tap says so, exits 12 and stops that pod\'s capture at once', { skip, timeout: 180_000 }, async () => {
  const killsBefore = memory.oomKills();
  const tap = startTap(sandbox, ['app', '-n', 'oom', '-o', 'json', '--force'], 150_000);
  const samples: AgentSample[] = [];
  let podPeak = 0;
  let loadStarted = 0;
  const killed = (): boolean => /the agent was killed/.test(tap.stderr);
  const appKilled = (): boolean => tap.stderr.match(APP_KILLED_LINE) !== null;
  const sample = (): void => {
    for (const line of agentsIn(sandbox, [['oom', 'app']])) {
      const pid = Number(/pid (\d+)/.exec(line)![1]);
      try {
        samples.push({ at: Date.now(), pid, peakRss: Number(procStatus(pid)['VmHWM']!.split(/\s+/)[0]) * 1024 });
      } catch {
        // gone between the listing and the read (killed, most likely)
      }
    }
    podPeak = Math.max(podPeak, memory.usageBytes());
  };
  /** When tap said the app was killed, and what was there then. */
  let appKilledAt = 0;
  let containersAtKill: { added: string[]; running: string[] } | undefined;
  /** Agents seen in the pod from a moment after that line on (tap kills the agent at once; the PID namespace's end kills it anyway). */
  const agentsAfterKill: string[] = [];
  const containersAfterKill: string[] = [];
  try {
    // The app or the agent may be killed before the first entry: then the load window starts from the kill.
    await tap.until('the first entries, or a kill', () => tap.entries().length >= 5 || killed() || appKilled(), 60_000);
    loadStarted = Date.now();
    while (Date.now() - loadStarted < LOAD_MS && tap.child.exitCode === null && !appKilled()) {
      sample();
      await new Promise((r) => setTimeout(r, 250));
    }
    if (appKilled()) {
      appKilledAt = Date.now();
      containersAtKill = await captureContainers();
      // Nothing new is started in the pod: no agent process, no capture container, for longer than a restart takes.
      await eventually('the agent gone after the app was killed', () => agentsIn(sandbox, [['oom', 'app']]).length === 0, 3000);
      // The capture container ends with its agent; its status says so a moment later (an agent that
      // had not started yet when the app was killed leaves a container running for a few hundred ms).
      await eventually('no capture container running after the app was killed', async () => (await captureContainers()).running.length === 0, 3000);
      while (Date.now() - appKilledAt < WATCH_AFTER_KILL_MS && tap.child.exitCode === null) {
        agentsAfterKill.push(...agentsIn(sandbox, [['oom', 'app']]));
        const now = await captureContainers();
        containersAfterKill.push(...now.added.filter((n) => !containersAtKill!.added.includes(n)), ...now.running);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    if (tap.child.exitCode === null) tap.child.kill('SIGINT');
  }
  const res = await tap.exited;
  const kernelKills = memory.oomKills() - killsBefore;
  const entries = tap.entries();
  const agentPids = [...new Set(samples.map((s) => s.pid))];
  const peakRss = Math.max(0, ...samples.map((s) => s.peakRss));
  const reported = res.stderr.match(/pod oom\/app: the agent was killed \(out of memory\?\): [^\n]*/g) ?? [];
  const appLines = res.stderr.match(APP_KILLED_LINE) ?? [];
  const appStatus = (await core.readNamespacedPod({ namespace: 'oom', name: 'app' })).status?.containerStatuses?.find((s) => s.name === 'app');
  process.stdout.write(
    `# ${entries.length} entries in ${((Date.now() - tap.startedAt) / 1000).toFixed(1)} s; agent processes ${agentPids.length}, peak RSS ${formatBytes(peakRss)}; ` +
      `pod peak usage ${formatBytes(podPeak)} of ${LIMIT_MB} MiB; kernel OOM kills in the pod ${kernelKills}; victim: ${appLines.length > 0 ? 'the app' : reported.length > 0 ? 'the agent' : 'none'}; ` +
      `tap reported ${reported.length} agent kill(s), ${appLines.length} app kill(s); app restarts ${appStatus?.restartCount} (${appStatus?.lastState?.terminated?.reason ?? 'no lastState'}); exit ${res.code}\n`,
  );

  for (const line of [...appLines, ...reported]) process.stdout.write(`# tap said: ${line}\n`);
  const frames = res.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type?: string; code?: string; message?: string; namespace?: string; pod?: string });
  const forced = frames.find((f) => f.type === 'warning' && f.code === 'MEMORY_FORCED');
  assert.ok(forced, 'the forced sizing is said');
  // The warning tells the truth about who the kernel kills.
  assert.match(forced.message ?? '', /picks its victim by size and score, so a Burstable app larger than the agent can be killed, not the agent: tap watches the pod and stops its capture if an app container is/);
  assert.doesNotMatch(res.stderr, /the kernel kills the agent first/);
  const warned = (code: string) => frames.filter((f) => f.type === 'warning' && f.code === code);

  if (appLines.length > 0) {
    // The kernel chose the app. Tap said so once, in one line naming the pod, the container, the reason and what to do.
    assert.equal(appLines.length, 1, res.stderr);
    assert.ok(kernelKills >= 1, `the kernel killed ${kernelKills} process(es) in the pod`);
    assert.ok(appStatus !== undefined && appStatus.restartCount >= 1, `the app container was restarted: ${JSON.stringify(appStatus)}`);
    assert.equal(appStatus.lastState?.terminated?.reason, 'OOMKilled', `the kubelet reports the app OOMKilled: ${JSON.stringify(appStatus.lastState)}`);
    const appFrames = warned('APP_KILLED');
    assert.equal(appFrames.length, 1, 'the app kill is a warning frame in -o json too');
    assert.deepEqual([appFrames[0]!.namespace, appFrames[0]!.pod], ['oom', 'app']);
    assert.match(appFrames[0]!.message ?? '', APP_KILLED_LINE);
    // The capture of that pod stopped at once: no agent restarted, no capture container added or running after the line.
    assert.doesNotMatch(res.stderr, /restarting it once/, 'no agent restart was announced');
    assert.deepEqual(agentsAfterKill, [], 'no agent started in the pod after the app was killed');
    assert.deepEqual(containersAfterKill, [], 'no capture container added or running after the app was killed');
    // The exit code says it: the pod's capture was stopped, not ended as asked.
    assert.equal(res.code, 12, res.stderr);
    assert.match(res.stderr, /the tap ended with 1 pod whose capture failed: oom\/app/);
    assert.match(res.stderr, /container app OOM-killed while tapped, capture stopped \(limit 128 MiB, --force\)/, 'the summary says why');
  } else {
    await assertAppUntouched();
    assert.deepEqual(warned('APP_KILLED'), []);
    if (reported.length === 0) {
      // The agent lived: within its --max-memory (96 MiB forced), entries all along, no kill anywhere.
      assert.equal(res.code, 0, res.stderr);
      assert.equal(kernelKills, 0, `the kernel killed ${kernelKills} process(es) in the pod, and tap said nothing:\n${res.stderr}`);
      assert.equal(agentPids.length, 1, 'one agent all along');
      assert.ok(peakRss > 0 && peakRss <= 96 * MiB, `agent peak RSS ${formatBytes(peakRss)} within its 96 MiB`);
      // By when they arrived here.
      const arrivals = tap.lines.filter((l) => l.value.type === undefined).map((l) => l.at);
      const late = arrivals.filter((at) => at >= loadStarted + LOAD_MS / 2).length;
      const early = arrivals.filter((at) => at < loadStarted + LOAD_MS / 2).length;
      assert.ok(early > 0 && late > 0, `entries keep coming: ${early} in the first half of the load, ${late} in the second`);
    } else {
      // The kernel chose the agent (oom_score_adj 1000): tap names the pod, the kill and the sizing.
      assert.ok(kernelKills >= reported.length, `the kernel killed ${kernelKills}, tap reported ${reported.length}`);
      for (const r of reported) assert.match(r, /exit code 137, SIGKILL, with --max-memory 96 MiB, pod memory limit 128 MiB|its container was OOMKilled/);
      assert.equal(warned('AGENT_KILLED').length, reported.length, 'each kill is a warning frame in -o json too');
      if (/not restarted again|not restarted:/.test(res.stderr)) {
        assert.equal(res.code, 12, res.stderr);
        assert.match(res.stderr, /the tap ended with 1 pod whose capture failed: oom\/app/);
      } else {
        assert.equal(res.code, 0, res.stderr);
      }
    }
  }
  await eventually('no agent left', () => agentsIn(sandbox, [['oom', 'app']]).length === 0, 5000);
  await assertNoAgents(sandbox, [['oom', 'app']]);
  if (appLines.length === 0) assert.notEqual(readFileSync(`/proc/${appPid}/oom_score_adj`, 'utf8').trim(), '1000', "the app is not marked as the pod's first victim");
});
