/**
 * The kubelet's memory cgroups: one per pod, limited to the sum of its containers' memory limits
 * (none when a container has none), and one per container inside it, so the processes of every
 * container, the ones exec'd into it and those of ephemeral containers (which can have no limit of
 * their own) are charged to the pod and killed by the kernel's OOM killer when it runs out. The
 * QoS class follows from the same resources.
 *
 * This is the cluster side `tap` is tested against, so the pod limit is worked out here on its
 * own (the kubelet's simple case: regular containers only), not with tap's podMemoryLimit().
 */
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseMemoryQuantity } from '../../src/kube/quantity.ts';
import { memoryHierarchy, MemoryCgroup } from '../helpers/memory-cgroup.ts';
import type { Container } from './kobj.ts';

interface Resources {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
}

function resourcesOf(c: Container): Resources {
  return (c['resources'] ?? {}) as Resources;
}

/** Sum of the containers' memory limits; Infinity when one has none. */
export function podMemoryLimitBytes(containers: readonly Container[]): number {
  let sum = 0;
  for (const c of containers) {
    const limit = parseMemoryQuantity(resourcesOf(c).limits?.['memory']);
    if (limit === null) return Infinity;
    sum += limit;
  }
  return sum;
}

/** Guaranteed: every container has cpu and memory limits equal to its requests (requests default to limits). */
export function qosClass(containers: readonly Container[]): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = containers.map(resourcesOf);
  if (all.every((r) => Object.keys(r.limits ?? {}).length === 0 && Object.keys(r.requests ?? {}).length === 0)) return 'BestEffort';
  const guaranteed = all.every((r) =>
    ['cpu', 'memory'].every((k) => {
      const limit = r.limits?.[k];
      const request = r.requests?.[k] ?? limit;
      return limit !== undefined && request === limit;
    }),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** null when pods get memory cgroups on this machine, else why not. */
export function memoryCgroupsReason(): string | null {
  const h = memoryHierarchy();
  return typeof h === 'string' ? h : null;
}

/** The pod's cgroup with its limit, or null when this machine has no memory cgroups. */
export function createPodCgroup(namespace: string, name: string, containers: readonly Container[]): MemoryCgroup | null {
  if (memoryCgroupsReason() !== null) return null;
  const group = MemoryCgroup.create(`${namespace}_${name}`);
  try {
    group.setLimit(podMemoryLimitBytes(containers));
  } catch (err) {
    group.destroy();
    throw err;
  }
  return group;
}

/** Every mounted cgroup hierarchy's folder of this process (v1: one per controller mount; v2: the unified one). */
function ownCgroupDirs(): string[] {
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[2]!, m[3]!);
  }
  const dirs: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const root = fields[3]!;
    const mountPoint = fields[4]!;
    let path: string | undefined;
    if (fstype === 'cgroup2') path = own.get('');
    else if (fstype === 'cgroup') {
      const options = superOptions.split(',');
      const key = [...own.keys()].find((k) => k !== '' && k.split(',').every((c) => options.includes(c) || options.includes(`name=${c.replace(/^name=/, '')}`)));
      path = key === undefined ? undefined : own.get(key);
    }
    if (path === undefined) continue;
    const inside = root !== '/' && path.startsWith(root) ? path.slice(root.length) : path;
    dirs.push(join(mountPoint, inside));
  }
  return [...new Set(dirs)];
}

/** Depth-first rmdir of a cgroup folder and the folders below it; what could not be removed. */
function rmdirTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const left: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) left.push(...rmdirTree(join(dir, e.name)));
  try {
    rmdirSync(dir);
  } catch {
    left.push(dir);
  }
  return left;
}

/**
 * Removes a pod's cgroup folder `name` (made by runc below the sandbox's own cgroup in every
 * hierarchy it uses) wherever it is; returns the folders still there (something runs in them).
 */
export function removeCgroupEverywhere(name: string): string[] {
  if (name === '') return [];
  return ownCgroupDirs().flatMap((d) => rmdirTree(join(d, name)));
}

/** The folders named `name` below the sandbox's own cgroup that exist now (the leftovers check). */
export function cgroupFoldersNamed(name: string): string[] {
  return ownCgroupDirs()
    .map((d) => join(d, name))
    .filter((d) => existsSync(d));
}
