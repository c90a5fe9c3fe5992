/**
 * A sandbox leaves nothing on the machine (issue 14, "nothing leaks"): after stop() no runc
 * container, no cgroup folder in any hierarchy, no mount and no network namespace of it is left,
 * looked for independently of what the sandbox says of itself (`sb.leftovers()`), by the
 * `ks-<pid>-` names everything it makes carries. And a sandbox whose process was SIGKILLed (no
 * clean-up ran; its containers live on) is swept by the next sandbox started on the machine.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { run } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';
import { requireSandbox, startSandbox, type FixturePod, type SandboxFixture } from './index.ts';

const skip = skipFor(requireSandbox());
if (skip) process.stderr.write(`skipping the sandbox leak tests: ${skip}\n`);

const CGROUP_ROOT = '/sys/fs/cgroup';
const INDEX = new URL('./index.ts', import.meta.url).pathname;

/** What the sandbox of process `pid` has on this machine, found by name (`ks-<pid>-`), by kind. */
interface Found {
  containers: string[];
  cgroups: string[];
  mounts: string[];
  netns: string[];
  /** Processes whose cgroup (any hierarchy) is one of the sandbox's. */
  processes: string[];
}

/** Folders named `ks-<pid>-*` at any depth of every cgroup hierarchy (not below a match: its children go with it). */
function cgroupsOf(prefix: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith(prefix)) found.push(join(dir, name));
      else if (depth < 6) walk(join(dir, name), depth + 1);
    }
  };
  walk(CGROUP_ROOT, 0);
  return found;
}

function processesOf(prefix: string): string[] {
  const pids: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`/${prefix}`)) pids.push(`${entry} ${readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

function findLeftovers(pid: number, runcRoot: string): Found {
  const prefix = `ks-${pid}-`;
  const ids = (root: string): string[] => {
    const r = spawnSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8' });
    return r.stdout.split('\n').filter(Boolean);
  };
  return {
    // In the sandbox's runc root (shared by every sandbox on the machine) and runc's default one.
    containers: [...ids(runcRoot), ...ids('/run/runc')].filter((id) => id.startsWith(prefix)),
    cgroups: cgroupsOf(prefix),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.includes(prefix)),
    netns: spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(prefix)),
    processes: processesOf(prefix),
  };
}

const none = (f: Found): boolean => Object.values(f).every((v: string[]) => v.length === 0);

/** Pods that make every kind of thing: a pause container with a shared PID namespace, limits (pod and container cgroups), a restarted container, several containers. */
const PODS: FixturePod[] = [
  {
    namespace: 'leaks',
    name: 'shared',
    shareProcessNamespace: true,
    containers: [
      { name: 'app', image: 'busybox:1.36', command: ['sleep', '3607'], resources: { limits: { memory: '32Mi', cpu: '100m' } } },
      { name: 'side', image: 'node:24-slim', command: ['sleep', '3608'] },
    ],
  },
  { namespace: 'leaks', name: 'crashing', containers: [{ name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 0.3; exit 1'] }] },
];
const FIXTURE: SandboxFixture = { namespaces: [{ name: 'leaks' }], pods: PODS };

describe('a sandbox leaves nothing behind', { skip }, () => {
  test('after stop(): no runc container, cgroup, mount, namespace or process of it (an exec and an ephemeral container still running)', async () => {
    const sb = await startSandbox(FIXTURE);
    let stopped = false;
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(sb.kubeconfig);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.patchNamespacedPodEphemeralcontainers(
        { namespace: 'leaks', name: 'shared', body: { spec: { ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36', command: ['sleep', '3609'], targetContainerName: 'app' }] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      );
      // An exec that is still running when the sandbox stops.
      const out = new PassThrough();
      let printed = '';
      out.on('data', (b: Buffer) => (printed += b.toString('utf8')));
      const ws = await new k8s.Exec(kc).exec('leaks', 'shared', 'side', ['sh', '-c', 'echo started; exec sleep 3610'], out, new PassThrough(), null, false);
      const deadline = Date.now() + 20_000;
      const wanted = (f: Found): boolean => f.processes.some((p) => p.includes('sleep 3609')) && f.processes.some((p) => p.includes('sleep 3610'));
      let during = findLeftovers(process.pid, sb.runcRoot);
      while (!wanted(during) || !printed.includes('started')) {
        if (Date.now() > deadline) throw new Error(`the ephemeral container and the exec did not start: ${JSON.stringify(during)}`);
        await new Promise((r) => setTimeout(r, 100));
        during = findLeftovers(process.pid, sb.runcRoot);
      }
      // The search finds what a running sandbox has (else its emptiness below would prove nothing).
      assert.ok(during.containers.length >= 4, `runc list: ${during.containers.join(' ')}`);
      for (const kind of ['cgroups', 'mounts', 'netns'] as const) assert.ok(during[kind].length > 0, `${kind} while running`);
      const reported = sb.leftovers();
      assert.ok(reported.containers.length >= 4 && reported.cgroups.length > 0 && reported.mounts.length > 0 && reported.netns.length > 0, JSON.stringify(reported));
      ws.close();
      await sb.stop();
      stopped = true;
      const afterStop = findLeftovers(process.pid, sb.runcRoot);
      assert.ok(none(afterStop), `left after stop(): ${JSON.stringify(afterStop, null, 1)}`);
      assert.deepEqual(sb.leftovers(), { containers: [], cgroups: [], mounts: [], netns: [] });
    } finally {
      if (!stopped) await sb.stop();
    }
  });

  test('a sandbox SIGKILLed mid-run leaves its containers running; the next sandbox started sweeps them all', async (t) => {
    // The victim: a sandbox in a process of its own, which prints its pid and runc root once its pods run.
    const victim = spawn(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { startSandbox } = await import(${JSON.stringify(INDEX)});
       const sb = await startSandbox(JSON.parse(process.argv[1]));
       console.log(JSON.stringify({ pid: process.pid, runcRoot: sb.runcRoot }));
       setInterval(() => {}, 1e9);`,
      JSON.stringify(FIXTURE),
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    let line = '';
    victim.stdout.on('data', (b: Buffer) => (line += b.toString('utf8')));
    const started = await new Promise<{ pid: number; runcRoot: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the victim sandbox did not start: ${line}`)), 120_000);
      victim.stdout.on('data', () => {
        if (!line.includes('\n')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { pid: number; runcRoot: string });
      });
      victim.on('exit', (code) => reject(new Error(`the victim sandbox exited (${code}) before it started: ${line}`)));
    });
    assert.equal(started.pid, victim.pid);
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));

    const orphaned = findLeftovers(started.pid, started.runcRoot);
    assert.ok(orphaned.containers.length >= 3, `runc containers of the killed sandbox: ${JSON.stringify(orphaned)}`);
    assert.ok(orphaned.processes.some((p) => p.includes('sleep 3607')), 'its app keeps running');
    for (const kind of ['cgroups', 'mounts', 'netns'] as const) assert.ok(orphaned[kind].length > 0, `${kind} of the killed sandbox: ${JSON.stringify(orphaned)}`);

    // The next sandbox on this machine (a fresh process: a process sweeps once, at its first start).
    const next = await run(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { startSandbox } = await import(${JSON.stringify(INDEX)}); const sb = await startSandbox({}); await sb.stop();`,
    ]);
    assert.equal(next.code, 0, next.stderr);
    t.diagnostic(next.stderr.trim());
    assert.match(next.stderr, new RegExp(`removed leftovers of killed runs: .*ks-${started.pid}-`));
    const swept = findLeftovers(started.pid, started.runcRoot);
    assert.ok(none(swept), `left after the sweep: ${JSON.stringify(swept, null, 1)}`);
    const state = existsSync(started.runcRoot) ? readdirSync(started.runcRoot).filter((id) => id.startsWith(`ks-${started.pid}-`)) : [];
    assert.deepEqual(state, [], `runc state left in ${started.runcRoot}`);
  });
});
