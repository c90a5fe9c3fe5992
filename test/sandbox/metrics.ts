/**
 * The resource metrics API (metrics.k8s.io/v1beta1 PodMetrics, what `kubectl top pod` reads), as
 * metrics-server serves it from the kubelet: per container, memory is the working set of the
 * container's cgroup (usage minus inactive file cache) and cpu a rate. Here the cpu rate is the
 * container's processes' CPU time since the container started (the sandbox keeps no samples).
 */
import { readFileSync } from 'node:fs';
import type { ContainerRuntime, PodRuntime } from './cluster.ts';
import type { Pod } from './kobj.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
/** Linux's USER_HZ: /proc/<pid>/stat times are in these ticks. */
const TICKS_PER_SECOND = 100;

export interface PodMetrics {
  kind: 'PodMetrics';
  apiVersion: 'metrics.k8s.io/v1beta1';
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: { name: string; usage: { cpu: string; memory: string } }[];
}

/** CPU seconds (user + system) of a process so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function containerUsage(c: ContainerRuntime, nowMs: number): { cpu: string; memory: string } | null {
  if (!c.cgroup || !c.proc?.running) return null;
  const memoryKi = Math.ceil(c.cgroup.workingSetBytes() / 1024);
  const seconds = Math.max(0.001, (nowMs - Date.parse(c.proc.startedAt)) / 1000);
  const cpu = c.cgroup.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return { cpu: `${Math.round((cpu / seconds) * 1e9)}n`, memory: `${memoryKi}Ki` };
}

/** The pod's metrics; null when the sandbox has none for it (no memory cgroups here, or nothing running). */
export function podMetrics(pod: Pod, rt: PodRuntime | undefined): PodMetrics | null {
  if (!rt?.cgroup) return null;
  const nowMs = Date.now();
  const containers: PodMetrics['containers'] = [];
  for (const c of rt.containers.values()) {
    const usage = containerUsage(c, nowMs);
    if (usage !== null) containers.push({ name: c.name, usage });
  }
  if (containers.length === 0) return null;
  return {
    kind: 'PodMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace!,
      creationTimestamp: new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z'),
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z'),
    window: '10s',
    containers,
  };
}

const GV = { groupVersion: `${METRICS_GROUP}/${METRICS_VERSION}`, version: METRICS_VERSION };

export function metricsGroup(): Record<string, unknown> {
  return { name: METRICS_GROUP, versions: [GV], preferredVersion: GV };
}

export function metricsResources(): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GV.groupVersion,
    // Pods only: the sandbox serves no NodeMetrics.
    resources: [{ name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] }],
  };
}
