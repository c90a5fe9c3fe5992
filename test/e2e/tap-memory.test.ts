/**
 * `tap` and the tapped pod's memory (issue 10, item 8), against the sandbox, whose pods have real
 * memory cgroups limited as their containers' limits say and a metrics API serving their usage:
 * the agent's --max-memory is sized from the pod's limit and usage (shown by --dry-run), a pod
 * without room is refused (exit 13) unless --force, and an agent the kernel OOM-kills is reported
 * as killed (a notice, a warning frame in -o json, the summary), restarted once, and not again.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { requireSandbox, startSandbox, type FixturePod, type Sandbox } from '../sandbox/index.ts';
import { SHOP_SCRIPT } from '../sandbox/demo-app.ts';
import { memoryCgroupsReason } from '../sandbox/pod-cgroups.ts';
import { agentsIn, assertNoAgents, coreApiOf, requireBuild, runTap, startTap } from '../helpers/tap.ts';
import { skipFor, skipForFeature } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild()) || skipForFeature(memoryCgroupsReason());
if (skip) process.stdout.write(`# tap-memory skipped: ${skip}\n`);

const MiB = 2 ** 20;
const MEMORY_APP = fileURLToPath(new URL('../sandbox/apps/memory-app.mjs', import.meta.url));
const IPS = { roomy: '10.244.3.10', tight: '10.244.3.11', caller: '10.244.3.12' } as const;
const TIGHT_LIMIT_MB = 192;
/** What tight leaves free: its keeper (~9 MiB) and the upload fit, the agent (~16 MiB charged at its hello) does not. */
const TIGHT_ROOM_MB = 18;

let sandbox: Sandbox;
let core: k8s.CoreV1Api;
/** What tight's app holds (MiB). */
let tightHeldMb = 0;
const pods: [string, string][] = [
  ['mem', 'roomy'],
  ['mem', 'tight'],
  ['mem', 'caller'],
];

/**
 * `cpu`: with a CPU limit too (requests default to limits) the pod is Guaranteed, and the kubelet
 * gives its app oom_score_adj -997, so the agent's 1000 makes it the kernel's first victim whatever
 * the app's size. A Burstable app (~969 here) larger than the agent is killed before it: see
 * tap-oom-real.test.ts and docs/tap.md.
 */
function app(name: keyof typeof IPS, limit: string, cpu?: string): FixturePod {
  return {
    namespace: 'mem',
    name,
    labels: { app: name },
    ip: IPS[name],
    containers: [{ name: 'app', image: 'node:24-slim', command: ['node', MEMORY_APP], env: { PORT: '8080' }, resources: { limits: cpu === undefined ? { memory: limit } : { memory: limit, cpu } } }],
  };
}

/** POST /hold?mb=N to an app pod from the host (through the sandbox bridge). */
function hold(ip: string, mb: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port: 8080, method: 'POST', path: `/hold?mb=${mb}`, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString('utf8')));
      res.on('end', () => resolve((JSON.parse(body) as { heldMb: number }).heldMb));
    });
    req.on('error', reject);
    req.end();
  });
}

async function sharkContainers(name: string): Promise<string[]> {
  const pod = await core.readNamespacedPod({ namespace: 'mem', name });
  return (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
}

before(async () => {
  if (skip) return;
  sandbox = await startSandbox({
    namespaces: [{ name: 'mem' }],
    pods: [
      app('roomy', '512Mi'),
      app('tight', `${TIGHT_LIMIT_MB}Mi`, '1'),
      {
        namespace: 'mem',
        name: 'caller',
        ip: IPS.caller,
        containers: [{ name: 'caller', image: 'node:24-slim', command: ['node', SHOP_SCRIPT], env: { SERVICE_NAME: 'caller', PORT: '8081', CALL: `http://${IPS.roomy}:8080`, INTERVAL_MS: '100' } }],
      },
    ],
  });
  core = coreApiOf(sandbox);
  // tight: its app fills the pod up to TIGHT_ROOM_MB below its limit (once it listens: a Running
  // pod's app may not yet), adjusted once for what holding costs besides the buffers.
  const memory = sandbox.podMemory('mem', 'tight')!;
  for (let attempt = 0; ; attempt++) {
    try {
      await hold(IPS.tight, 0);
      break;
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  for (let round = 0; round < 2; round++) {
    const freeMb = TIGHT_LIMIT_MB - TIGHT_ROOM_MB - memory.usageBytes() / MiB;
    tightHeldMb = await hold(IPS.tight, Math.max(0, tightHeldMb + Math.floor(freeMb)));
  }
  process.stdout.write(`# tight: ${(memory.usageBytes() / MiB).toFixed(1)} MiB in use of ${TIGHT_LIMIT_MB} MiB\n`);
});

after(async () => {
  if (!skip) await sandbox.stop();
});

test('--dry-run shows how each pod\'s agent would be sized, and which pod would be refused', { skip }, async () => {
  const res = await runTap(sandbox, ['-n', 'mem', '--dry-run']);
  assert.equal(res.code, 0, res.stderr);
  const out = res.stdout;
  assert.match(out, /mem\/roomy {2}10\.244\.3\.10\n {4}memory limit 512 MiB, usage \d+(\.\d)? MiB \(metrics API\), room for the agent \d+ MiB: agent --max-memory 200 MiB\n/);
  assert.match(out, /mem\/caller {2}10\.244\.3\.12\n {4}no memory limit: agent --max-memory 200 MiB \(default\)\n/);
  assert.match(out, /mem\/tight {2}10\.244\.3\.11\n {4}memory limit 192 MiB, usage 1\d\d(\.\d)? MiB \(metrics API\), room for the agent 0 MiB: too little for the agent \(needs 96 MiB\): refused without --force\n/);
  assert.match(out, /problems a real run would hit:\n {2}pod mem\/tight has too little free memory for the capture agent/);
  for (const [, name] of pods) assert.deepEqual(await sharkContainers(name), [], `nothing added to ${name}`);
  // Without metrics, a quarter of the limit is taken as free.
  sandbox.faults.metricsUnavailable = true;
  try {
    const blind = await runTap(sandbox, ['roomy', '-n', 'mem', '--dry-run']);
    assert.match(blind.stdout, /memory limit 512 MiB, usage unknown \(the metrics API \(metrics\.k8s\.io\) is not served, or has no sample of this pod yet; assuming 75% of the limit\), room for the agent 112 MiB: agent --max-memory 112 MiB/);
  } finally {
    sandbox.faults.metricsUnavailable = false;
  }
  // Nor when RBAC does not let us read it.
  sandbox.faults.deny.push({ verb: 'get', resource: 'pods.metrics.k8s.io' });
  try {
    const denied = await runTap(sandbox, ['roomy', '-n', 'mem', '--dry-run']);
    assert.match(denied.stdout, /usage unknown \(not allowed to get pods\.metrics\.k8s\.io; assuming 75% of the limit\)/);
  } finally {
    sandbox.faults.deny.pop();
  }
});

test('a pod without room for the agent is refused (exit 13) before anything is added to it', { skip }, async () => {
  const res = await runTap(sandbox, ['tight', '-n', 'mem', '-o', 'json']);
  assert.equal(res.code, 13, res.stderr);
  assert.match(
    res.stderr,
    /kubectl shark tap: pod mem\/tight has too little free memory for the capture agent \(limit 192 MiB, usage 1\d\d(\.\d)? MiB \(metrics API\), room for the agent 0 MiB\): the capture agent needs at least 96 MiB, and its memory counts against the pod's limit\. tap a replica with more room, raise the pod's memory limit, or pass --force/,
  );
  assert.deepEqual(await sharkContainers('tight'), []);
});

test('the agent runs sized from the pod, with the highest OOM score at nice 19, inside the pod\'s memory cgroup', { skip }, async () => {
  for (const [flags, expected] of [
    [[], 200],
    [['--max-memory', '150Mi'], 150],
  ] as const) {
    const tap = startTap(sandbox, ['roomy', '-n', 'mem', '-o', 'json', ...flags]);
    try {
      await tap.until('entries from roomy', () => tap.entries().length >= 2);
      const agents = agentsIn(sandbox, [['mem', 'roomy']]);
      assert.equal(agents.length, 1, agents.join('\n'));
      const pid = Number(/pid (\d+)/.exec(agents[0]!)![1]);
      assert.match(agents[0]!, new RegExp(`--max-memory=${expected}( |$)`));
      assert.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '1000');
      const nice = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16];
      assert.equal(nice, '19');
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      assert.match(cgroup, /\bmemory:\/.*\/ks-\d+-\d+-mem_roomy\/shark-[a-z0-9]{5}\n/, "charged to the pod, in the capture container's memory group");
      const res = await tap.interrupt();
      assert.equal(res.code, 0, res.stderr);
    } finally {
      if (tap.child.exitCode === null) await tap.interrupt();
    }
  }
  await assertNoAgents(sandbox, pods);
});

test('an agent the kernel OOM-kills is reported as killed, restarted once, and not again; the app lives', { skip, timeout: 120_000 }, async () => {
  const started = Date.now();
  const memory = sandbox.podMemory('mem', 'tight')!;
  const killsBefore = memory.oomKills();
  const tap = startTap(sandbox, ['tight', '-n', 'mem', '-o', 'json', '--force']);
  try {
    await tap.until('the second kill', () => /not restarted again/.test(tap.stderr), 90_000);
    const res = await tap.interrupt();
    // Not a silent stop: the pod's capture failed, so the tap says so in its exit code too.
    assert.equal(res.code, 12, res.stderr);
    assert.match(res.stderr, /the tap ended with 1 pod whose capture failed: mem\/tight/);
    const elapsed = Date.now() - started;
    process.stdout.write(`# killed twice and given up after ${(elapsed / 1000).toFixed(1)} s; OOM kills in the pod: ${memory.oomKills() - killsBefore}\n`);

    const killed = /pod mem\/tight: the agent was killed \(out of memory\?\): exit code 137, SIGKILL, with --max-memory 96 MiB, pod memory limit 192 MiB/g;
    assert.equal(res.stderr.match(killed)?.length, 2, res.stderr);
    assert.match(res.stderr, /; restarting it once, sized from the pod's memory now\n/);
    assert.match(res.stderr, /; it was killed before, so it is not restarted again\n/);
    assert.match(res.stderr, /pod mem\/tight: memory limit 192 MiB, .*: too little, forced: agent --max-memory 96 MiB \(--force; if the pod runs out of memory, the kernel's OOM killer picks its victim by size and score, so a Burstable app larger than the agent can be killed, not the agent: tap watches the pod and stops its capture if an app container is\)/);
    // -o json: warning frames on stdout, between the entries (there are none here).
    const frames = res.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type?: string; code?: string; namespace?: string; pod?: string; message?: string });
    const kills = frames.filter((f) => f.type === 'warning' && f.code === 'AGENT_KILLED');
    assert.equal(kills.length, 2, JSON.stringify(frames));
    for (const k of kills) {
      assert.deepEqual([k.namespace, k.pod], ['mem', 'tight']);
      assert.match(k.message!, /killed \(out of memory\?\)/);
    }
    assert.ok(frames.some((f) => f.type === 'warning' && f.code === 'MEMORY_FORCED'));
    // The summary: the pod's state and why.
    assert.match(res.stderr, /\nmem\/tight {2}killed {8}0 {8}0 {13}0 {2}agent killed \(out of memory\?\) 2 times, not restarted again \(--max-memory 96 MiB, limit 192 MiB\)\n/);

    assert.ok(memory.oomKills() - killsBefore >= 2, 'the kernel killed (twice)');
    const pod = await core.readNamespacedPod({ namespace: 'mem', name: 'tight' });
    assert.equal(pod.status?.phase, 'Running');
    assert.ok(pod.status?.containerStatuses?.[0]?.state?.running, 'the app container still runs');
    assert.equal(await hold(IPS.tight, tightHeldMb), tightHeldMb, 'the app answers, holding all it held');
  } finally {
    if (tap.child.exitCode === null) await tap.interrupt();
  }
  await assertNoAgents(sandbox, pods);
});
