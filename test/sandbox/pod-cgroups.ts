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
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseMemoryQuantity } from '../../src/kube/quantity.ts';
import { memoryHierarchy, MemoryCgroup } from '../helpers/memory-cgroup.ts';
import type { Container } from './kobj.ts';
import { hierarchies } from './oci/cgroups.ts';

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
  return hierarchies().flatMap((h) => rmdirTree(join(h.base, name)));
}

/** The folders named `name` below the sandbox's own cgroup that exist now (the leftovers check). */
export function cgroupFoldersNamed(name: string): string[] {
  return hierarchies()
    .map((h) => join(h.base, name))
    .filter((d) => existsSync(d));
}
