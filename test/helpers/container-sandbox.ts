/**
 * Looking at the sandbox's runc containers from the host, for the tap acceptance tests of issue 14:
 * a process's /proc status and namespaces, a container's memory cgroup, exec into a container, the
 * capture container of a pod, and, after `stop()`, that nothing of the sandbox is left on the
 * machine, checked by the sandbox's own account and again by asking runc, `ip netns`, the mount
 * table and the cgroup hierarchies directly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { CONTAINER_PREFIX } from '../../src/kube/ephemeral.ts';
import type { Sandbox } from '../sandbox/index.ts';

/** /proc/PID/status as a map of its fields (values trimmed). */
export function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/** A capability mask of /proc/PID/status (CapEff, CapBnd, ...) as a number. */
export function capabilityMask(status: Record<string, string>, field: 'CapEff' | 'CapPrm' | 'CapBnd' | 'CapInh' | 'CapAmb'): bigint {
  const hex = status[field];
  assert.ok(hex !== undefined, `no ${field} in /proc status`);
  return BigInt(`0x${hex}`);
}

/** The effective uid (first of /proc status's Uid line). */
export function uidOf(status: Record<string, string>): number {
  return Number(status['Uid']!.split(/\s+/)[0]);
}

/** `pid:[4026531836]`: which namespace of a kind a process is in. */
export function namespaceOf(pid: number | 'self', kind: 'pid' | 'mnt' | 'net' | 'ipc' | 'uts'): string {
  return readlinkSync(`/proc/${pid}/ns/${kind}`);
}

/** A process's command line with spaces between its arguments ('' once it is gone). */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Pids of a cgroup folder and its subfolders. */
function pidsUnder(dir: string): number[] {
  let own: number[] = [];
  try {
    own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return [...own, ...subdirs(dir).flatMap(pidsUnder)];
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/**
 * The memory cgroup folder below `podDir` (the pod's group) that holds `pid` itself: the
 * container's group, however the kubelet names it.
 */
export function containerMemoryCgroup(podDir: string, pid: number): string {
  const search = (dir: string): string | undefined => {
    let own: number[] = [];
    try {
      own = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return undefined;
    }
    if (own.includes(pid)) return dir;
    for (const sub of subdirs(dir)) {
      const found = search(sub);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const found = search(podDir);
  assert.ok(found !== undefined, `pid ${pid} is in no memory cgroup below ${podDir} (it holds ${pidsUnder(podDir).join(' ')})`);
  return found;
}

/** The kernel's count of OOM kills in one memory cgroup (v1 memory.oom_control, v2 memory.events). */
export function oomKillsIn(dir: string): number {
  for (const file of ['memory.oom_control', 'memory.events']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('oom_kill '));
    return Number(line?.split(/\s+/)[1] ?? 0);
  }
  throw new Error(`${dir} is not a memory cgroup`);
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: k8s.V1Status;
}

/** `kubectl exec` through client-node (WebSocket): what the command wrote, and its Status. */
export function execIn(sandbox: Sandbox, namespace: string, pod: string, container: string, command: readonly string[]): Promise<ExecResult> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sandbox.kubeconfig);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    new k8s.Exec(kc)
      .exec(namespace, pod, container, [...command], stdout, stderr, null, false, (status) => {
        // The last output frames are delivered before the Status, on the same socket.
        setImmediate(() => resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status }));
      })
      .catch(reject);
  });
}

/** A shell loop printing `PID ARGS...` for every process the container can see (busybox and Debian alike). */
export const LIST_PROCESSES = ['sh', '-c', 'for d in /proc/[0-9]*; do [ -r "$d/cmdline" ] && printf "%s %s\\n" "${d#/proc/}" "$(tr "\\0" " " < "$d/cmdline")"; done; true'];

/** What LIST_PROCESSES printed, as pid -> command line. */
export function parseProcessList(stdout: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\d+) (.*)$/.exec(line);
    if (m) out.set(Number(m[1]), m[2]!.trim());
  }
  return out;
}

/** The pod's running capture container (`shark-*`): there is exactly one while a tap runs. */
export async function runningSharkContainer(core: k8s.CoreV1Api, namespace: string, name: string): Promise<string> {
  const pod = await core.readNamespacedPod({ namespace, name });
  const running = (pod.status?.ephemeralContainerStatuses ?? []).filter((s) => s.name.startsWith(CONTAINER_PREFIX) && s.state?.running !== undefined).map((s) => s.name);
  assert.equal(running.length, 1, `one running capture container in ${namespace}/${name}: ${JSON.stringify(pod.status?.ephemeralContainerStatuses)}`);
  return running[0]!;
}

/** Polls `check` every 100 ms until it holds, or fails naming `what`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Folders and files under `dir` (depth-limited) whose name starts with `prefix`. */
function namedUnder(dir: string, prefix: string, depth: number): string[] {
  if (depth < 0) return [];
  const found: string[] = [];
  for (const sub of subdirs(dir)) {
    const name = sub.slice(dir.length + 1);
    if (name.startsWith(prefix)) found.push(sub);
    else found.push(...namedUnder(sub, prefix, depth - 1));
  }
  return found;
}

/**
 * After `sandbox.stop()`: nothing of it is left on the machine. The sandbox's own account
 * (`leftovers()`), then what runc, `ip netns`, the mount table and every cgroup hierarchy say about
 * names of this process (`ks-<pid>-`).
 */
export function assertNothingLeft(sandbox: Sandbox): void {
  assert.deepEqual(sandbox.leftovers(), { containers: [], cgroups: [], mounts: [], netns: [] }, "the sandbox's own account of what it left");
  const ours = `ks-${process.pid}-`;
  if (existsSync(sandbox.runcRoot)) {
    const list = spawnSync('runc', ['--root', sandbox.runcRoot, 'list', '-q'], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim(), '', `runc --root ${sandbox.runcRoot} list`);
  }
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.deepEqual(
    netns.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(ours)),
    [],
    'ip netns list',
  );
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.includes(ours));
  assert.deepEqual(mounts, [], 'mount points of ours');
  const cgroups = existsSync('/sys/fs/cgroup') ? subdirs('/sys/fs/cgroup').filter((d) => statSync(d).isDirectory()).flatMap((h) => namedUnder(h, ours, 4)) : [];
  assert.deepEqual(cgroups, [], 'cgroups of ours in any hierarchy');
}

/** Bit numbers of the capabilities containerd may give a container (linux/capability.h). */
const CAPABILITY_BITS: Readonly<Record<string, number>> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  FOWNER: 3,
  FSETID: 4,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  NET_BIND_SERVICE: 10,
  NET_RAW: 13,
  SYS_CHROOT: 18,
  MKNOD: 27,
  AUDIT_WRITE: 29,
  SETFCAP: 31,
};

/** A set of capabilities by name as the mask /proc status shows. */
export function capabilitySet(names: readonly string[]): bigint {
  return names.reduce((mask, name) => {
    const bit = CAPABILITY_BITS[name];
    assert.ok(bit !== undefined, `unknown capability ${name}`);
    return mask | (1n << BigInt(bit));
  }, 0n);
}
