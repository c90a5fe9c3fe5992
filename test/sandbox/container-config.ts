/**
 * What the kubelet decides about a container before the runtime sees it (kuberuntime's
 * generateContainerConfig plus containerd's CRI defaults): the argv from command/args over the
 * image's ENTRYPOINT/CMD, the environment, the identity and capabilities, the seccomp profile, the
 * namespaces it joins, its mounts, cgroup and resources, and its OOM score as the QoS class sets it.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMemoryQuantity } from '../../src/kube/quantity.ts';
import type { SandboxImage } from './images/types.ts';
import type { Container, Pod } from './kobj.ts';
import type { BindMount, ContainerConfig, JoinedNamespaces } from './oci/types.ts';
import { allCapabilities } from './oci/capabilities.ts';
import { qosClass } from './pod-cgroups.ts';
import type { ProcessSecurity } from './security.ts';

/** A hostPath volume as the sandbox's pod specs carry it. */
export interface HostPathVolume {
  readonly name: string;
  readonly hostPath: { readonly path: string };
}

export interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
}

/** The node's memory, as the Node object reports it: the base of Burstable OOM scores. */
export const NODE_MEMORY_BYTES = 4 * 1024 ** 3;

/** The volume name of the checkout mounted into fixture containers (see sourceVolumes). */
export const SOURCE_VOLUME = 'source';

/**
 * The checkout (and node_modules' real folder when it lives elsewhere, as in a git worktree), as
 * read-only hostPath volumes: how tests get their scripts and node_modules into pods without an
 * image per test. They are mounted at their own host paths, so scripts keep their import paths.
 */
export function sourceVolumes(): HostPathVolume[] {
  const repo = realpathSync(fileURLToPath(new URL('../..', import.meta.url)));
  const volumes: HostPathVolume[] = [{ name: SOURCE_VOLUME, hostPath: { path: repo } }];
  const modules = join(repo, 'node_modules');
  if (existsSync(modules)) {
    const real = realpathSync(modules);
    if (relative(repo, real).startsWith('..')) volumes.push({ name: `${SOURCE_VOLUME}-modules`, hostPath: { path: real } });
  }
  return volumes;
}

/** command/args over ENTRYPOINT/CMD, as the kubelet combines them. */
export function containerArgv(spec: Container, image: SandboxImage): string[] {
  if (spec.command?.length) return [...spec.command, ...(spec.args ?? [])];
  if (spec.args?.length) return [...image.config.entrypoint, ...spec.args];
  return [...image.config.entrypoint, ...image.config.cmd];
}

/** The image's environment overlaid by the kubelet's and the container's. */
export function containerEnv(spec: Container, image: SandboxImage, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of image.config.env) {
    const at = kv.indexOf('=');
    if (at > 0) env[kv.slice(0, at)] = kv.slice(at + 1);
  }
  env['PATH'] ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  env['HOSTNAME'] = podName;
  env['KUBERNETES_SERVICE_HOST'] = '10.96.0.1';
  env['KUBERNETES_SERVICE_PORT'] = '443';
  for (const e of spec.env ?? []) if (typeof e.name === 'string') env[e.name] = e.value ?? '';
  return env;
}

let floor: number | undefined;

/**
 * The lowest oom_score_adj runc can give here: lowering it below our own needs CAP_SYS_RESOURCE,
 * which some machines (this one's VM among them) withhold even from root. There the kubelet's
 * negative scores (Guaranteed -997, pause -998) become our own; positive ones are unchanged.
 */
export function oomScoreFloor(): number {
  if (floor === undefined) {
    floor = allCapabilities().includes('SYS_RESOURCE') ? -1000 : Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
  }
  return floor;
}

/** The kubelet's OOM score: Guaranteed -997, BestEffort 1000, Burstable by the container's memory request, within [3, 999]. */
export function oomScoreAdj(pod: Pod, spec: Container): number {
  const qos = qosClass(pod.spec.containers);
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const resources = (spec['resources'] ?? {}) as { requests?: Record<string, string>; limits?: Record<string, string> };
  const request = parseMemoryQuantity(resources.requests?.['memory'] ?? resources.limits?.['memory']) ?? 0;
  const score = 1000 - Math.floor((1000 * request) / NODE_MEMORY_BYTES);
  return Math.min(999, Math.max(3, score));
}

/**
 * The seccomp profile: the container's, else the pod's, else RuntimeDefault (the kubelet's
 * --seccomp-default, which managed clusters turn on). Privileged containers run unconfined.
 */
export function seccompOf(pod: Pod, spec: Container): 'RuntimeDefault' | 'Unconfined' {
  if (spec.securityContext?.privileged === true) return 'Unconfined';
  const type = spec.securityContext?.seccompProfile?.type ?? pod.spec.securityContext?.seccompProfile?.type;
  return type === 'Unconfined' ? 'Unconfined' : 'RuntimeDefault';
}

/** CPU limit in millicores ("500m", "2"), or undefined. */
function milliCpu(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
}

/** The binds of the pod's hostPath volumes named by the container's volumeMounts. */
export function volumeBinds(pod: Pod, spec: Container): BindMount[] {
  const volumes = (pod.spec['volumes'] ?? []) as HostPathVolume[];
  const mounts = (spec['volumeMounts'] ?? []) as VolumeMount[];
  const binds: BindMount[] = [];
  for (const m of mounts) {
    const v = volumes.find((x) => x.name === m.name);
    if (v?.hostPath?.path) binds.push({ destination: m.mountPath, source: v.hostPath.path, readOnly: m.readOnly === true });
  }
  return binds;
}

export interface ConfigInput {
  readonly pod: Pod;
  readonly spec: Container;
  readonly image: SandboxImage;
  readonly security: ProcessSecurity;
  readonly namespaces: JoinedNamespaces;
  /** The pod's files: hosts, hostname, resolv.conf; the container's termination-log. */
  readonly podFiles: { readonly hosts: string; readonly hostname: string; readonly resolvConf: string };
  readonly terminationLog: string;
  readonly cgroupsPath: string;
}

export function containerConfig(i: ConfigInput): ContainerConfig {
  const { pod, spec, image, security } = i;
  const resources = (spec['resources'] ?? {}) as { limits?: Record<string, string>; requests?: Record<string, string> };
  const memoryLimit = parseMemoryQuantity(resources.limits?.['memory']);
  const cpuLimit = milliCpu(resources.limits?.['cpu']);
  const cpuRequest = milliCpu(resources.requests?.['cpu'] ?? resources.limits?.['cpu']);
  const privileged = spec.securityContext?.privileged === true;
  return {
    image,
    args: containerArgv(spec, image),
    env: containerEnv(spec, image, pod.metadata.name),
    cwd: spec.workingDir || image.config.workingDir || '/',
    uid: security.uid,
    gid: security.gid,
    groups: security.groups,
    capabilities: security.capabilities ?? [],
    privileged,
    noNewPrivileges: security.noNewPrivs,
    seccomp: seccompOf(pod, spec),
    namespaces: i.namespaces,
    mounts: [
      { destination: '/etc/hosts', source: i.podFiles.hosts, readOnly: false },
      { destination: '/etc/hostname', source: i.podFiles.hostname, readOnly: false },
      { destination: '/etc/resolv.conf', source: i.podFiles.resolvConf, readOnly: false },
      { destination: spec.terminationMessagePath ?? '/dev/termination-log', source: i.terminationLog, readOnly: false },
      ...volumeBinds(pod, spec),
    ],
    cgroupsPath: i.cgroupsPath,
    memoryLimitBytes: memoryLimit ?? undefined,
    cpuQuotaUs: cpuLimit === undefined ? undefined : Math.max(1000, Math.round(cpuLimit * 100)),
    // The kubelet's shares: 1024 per core requested, at least 2.
    cpuShares: cpuRequest === undefined ? 2 : Math.max(2, Math.round((cpuRequest * 1024) / 1000)),
    oomScoreAdj: Math.max(oomScoreFloor(), oomScoreAdj(pod, spec)),
    stdin: spec.stdin === true,
  };
}
