/**
 * `npm run sandbox` for humans leaves nothing behind, whatever happens to its output: run as
 * `npm run sandbox 2>&1 | tee log` and stopped with Ctrl-C, the terminal sends SIGINT to the whole
 * foreground group, so the pipe's reader dies first and every later write of the sandbox meets a
 * closed pipe (EPIPE). The pod namespaces, their veths, the bridge, the temp dir and the pods'
 * memory cgroups must go all the same.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { memoryHierarchy, sweepStaleCgroups } from '../helpers/memory-cgroup.ts';
import { alive } from '../helpers/netns.ts';
import { SHOP_IMAGE_SCRIPT } from './demo-app.ts';
import { requireSandbox } from './index.ts';
import { sweepStaleSandboxes } from './net.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox());
if (skip) process.stderr.write(`skipping the npm run sandbox tests: ${skip}\n`);

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENV = { ...process.env, PATH: [join(REPO, 'node_modules', '.bin'), process.env.PATH ?? '/usr/bin:/bin'].join(delimiter) };

/** Everything a sandbox started by process `pid` may leave on this machine, by kind. */
function leftoversOf(pid: number): Record<string, string[]> {
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim().split(' ')[0]!);
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => /^\d+: ([^@:]+)/.exec(l)?.[1] ?? '');
  const h = memoryHierarchy();
  const cgroups = typeof h === 'string' ? [] : readdirSync(h.parentDir).filter((d) => d.startsWith(`ks-${pid}-`));
  return {
    netns: netns.filter((n) => n.startsWith(`ks-${pid}-`)),
    links: links.filter((l) => new RegExp(`^ks(br|a|b)${pid}x`).test(l)),
    tempDirs: readdirSync(tmpdir()).filter((d) => d.startsWith(`ks-${pid}-sandbox-`)),
    cgroups,
    podProcesses: shopProcesses().filter((p) => !shopBefore.has(p)).map(String),
  };
}

/** Pids of the demo shop's processes on this machine (its containers run the script of its image). */
function shopProcesses(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(SHOP_IMAGE_SCRIPT)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

const shopBefore = new Set(skip ? [] : shopProcesses());
const started: ChildProcess[] = [];

afterEach(async () => {
  // A failing run (the old cli.ts) leaves its pods running and its namespaces behind: remove them
  // here, so the next test starts clean.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  for (const pid of shopProcesses()) if (!shopBefore.has(pid)) process.kill(pid, 'SIGKILL');
  if (!skip) {
    await sweepStaleSandboxes();
    sweepStaleCgroups();
  }
});

async function until<T>(what: string, probe: () => T | undefined, show: () => string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${show()}`);
    await sleep(100);
  }
}

/** Runs `command` (a shell line) as the leader of a new process group, as a terminal runs a job. */
function job(command: string, stdout: 'pipe' | 'ignore'): ChildProcess {
  const child = spawn('sh', ['-c', command], { cwd: REPO, env: ENV, detached: true, stdio: ['ignore', stdout, 'ignore'] });
  started.push(child);
  return child;
}

/** Sends `signal` to the job's whole group, then waits until the sandbox process itself is gone. */
async function stopJob(child: ChildProcess, signal: NodeJS.Signals, sandboxPid: number): Promise<number> {
  const sentAt = Date.now();
  try {
    process.kill(-child.pid!, signal);
  } catch (err) {
    // The whole job has ended already (the old cli.ts died of its first write into the closed pipe).
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  await until('the sandbox process to end', () => (alive(sandboxPid) ? undefined : true), () => `pid ${sandboxPid} still runs`, 60_000);
  if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
  return Date.now() - sentAt;
}

test('npm run sandbox 2>&1 | reader, the reader killed first, then Ctrl-C (SIGINT to the group): nothing is left', { skip }, async () => {
  const child = job('exec npm run sandbox 2>&1', 'pipe');
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const kubeconfig = await until('the KUBECONFIG line', () => /export KUBECONFIG=(\S+)/.exec(out)?.[1], () => out);
  const pid = Number(/\/ks-(\d+)-sandbox-/.exec(kubeconfig)?.[1]);
  assert.ok(pid > 0, `the sandbox's temp dir names its pid: ${kubeconfig}`);
  const up = leftoversOf(pid);
  assert.equal(up.netns.length, 3, `the shop's three pods are namespaces: ${JSON.stringify(up)}`);
  assert.equal(up.links.filter((l) => l.startsWith('ksbr')).length, 1, JSON.stringify(up));
  assert.ok(up.cgroups.length === 0 || up.cgroups.length === 3, JSON.stringify(up));

  // The reader goes away first (tee killed by the same Ctrl-C): our end of the pipe closes.
  child.stdout!.destroy();
  await sleep(200);
  const ms = await stopJob(child, 'SIGINT', pid);
  process.stdout.write(`# stopped ${ms} ms after SIGINT; it had: ${JSON.stringify(up)}\n`);
  assert.deepEqual(leftoversOf(pid), { netns: [], links: [], tempDirs: [], cgroups: [], podProcesses: [] }, `left behind (had ${JSON.stringify(up)})`);
});

test('npm run sandbox 2>&1 | head -c 100 (the reader gone before the banner), then the terminal closes (SIGHUP): nothing is left', { skip }, async () => {
  const before = new Set(readdirSync(tmpdir()));
  const child = job('npm run sandbox 2>&1 | head -c 100 >/dev/null', 'ignore');
  const pid = await until(
    'the sandbox pods',
    () => {
      const dir = readdirSync(tmpdir()).find((d) => !before.has(d) && /^ks-\d+-sandbox-/.test(d));
      const p = dir === undefined ? 0 : Number(/^ks-(\d+)-/.exec(dir)![1]);
      return p > 0 && leftoversOf(p).netns.length === 3 ? p : undefined;
    },
    () => 'no new ks-PID-sandbox- temp dir with three pod namespaces',
  );
  // Let it print its banner into the closed pipe (the old cli.ts died here, everything left).
  await sleep(2000);
  const up = leftoversOf(pid);
  const ms = await stopJob(child, 'SIGHUP', pid);
  process.stdout.write(`# stopped ${ms} ms after SIGHUP; it had: ${JSON.stringify(up)}\n`);
  assert.deepEqual(leftoversOf(pid), { netns: [], links: [], tempDirs: [], cgroups: [], podProcesses: [] }, `left behind (had ${JSON.stringify(up)})`);
});

/** Moments of a sandbox's start, in order: the temp dir and its CA, the bridge, the pods. */
const START_STAGES: Record<string, (left: Record<string, string[]>) => boolean> = {
  'its temp dir': () => true,
  'its bridge': (left) => left.links.some((l) => l.startsWith('ksbr')),
  'its first pod namespace': (left) => left.netns.length > 0,
};

for (const [stage, reached] of Object.entries(START_STAGES)) {
  test(`Ctrl-C while it starts, once it has ${stage}: what was made so far is removed`, { skip }, async () => {
    const before = new Set(readdirSync(tmpdir()));
    const child = job('exec npm run sandbox 2>&1', 'pipe');
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const pid = await until(
      stage,
      () => {
        const dir = readdirSync(tmpdir()).find((d) => !before.has(d) && /^ks-\d+-sandbox-/.test(d));
        const p = dir === undefined ? 0 : Number(/^ks-(\d+)-/.exec(dir)![1]);
        return p > 0 && reached(leftoversOf(p)) ? p : undefined;
      },
      () => out,
      60_000,
    );
    const ms = await stopJob(child, 'SIGINT', pid);
    process.stdout.write(`# stopped ${ms} ms after SIGINT; it printed:\n${out.trim().replace(/^/gm, '#   ')}\n`);
    assert.doesNotMatch(out, /export KUBECONFIG/, 'the signal came before the banner');
    assert.doesNotMatch(out, /could not start/, 'a stop is not a failure to start');
    assert.deepEqual(leftoversOf(pid), { netns: [], links: [], tempDirs: [], cgroups: [], podProcesses: [] });
  });
}
