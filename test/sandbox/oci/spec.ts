/**
 * config.json for one container, as containerd's CRI plugin writes it for a kubelet's container
 * (its default Unix spec plus the CRI options): the process, the root filesystem, the mounts, the
 * namespaces, the cgroup and its resources, the masked and read-only /proc and /sys paths, and the
 * seccomp profile. Only the runtime-spec fields we write are typed here.
 */
import { allCapabilities } from './capabilities.ts';
import { runtimeDefaultProfile, type SeccompProfile } from './seccomp.ts';
import type { ContainerConfig } from './types.ts';

export interface OciUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids?: readonly number[];
}

export interface OciCapabilities {
  readonly bounding: readonly string[];
  readonly effective: readonly string[];
  readonly permitted: readonly string[];
  readonly inheritable: readonly string[];
  readonly ambient: readonly string[];
}

export interface OciProcess {
  readonly terminal: boolean;
  readonly user: OciUser;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly capabilities: OciCapabilities;
  readonly noNewPrivileges: boolean;
  readonly oomScoreAdj?: number;
}

export interface OciMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

export type OciNamespaceType = 'pid' | 'ipc' | 'uts' | 'mount' | 'network';

export interface OciNamespace {
  readonly type: OciNamespaceType;
  /** Joined namespace (a /proc/PID/ns/... or /var/run/netns/... path); absent: a new one. */
  readonly path?: string;
}

export interface OciDeviceRule {
  readonly allow: boolean;
  readonly type?: 'a' | 'c' | 'b';
  readonly major?: number;
  readonly minor?: number;
  readonly access: string;
}

export interface OciResources {
  readonly devices: readonly OciDeviceRule[];
  readonly memory?: { readonly limit: number; readonly swap?: number };
  readonly cpu?: { readonly shares?: number; readonly quota?: number; readonly period?: number };
}

export interface OciLinux {
  readonly namespaces: readonly OciNamespace[];
  readonly cgroupsPath: string;
  readonly resources: OciResources;
  readonly maskedPaths: readonly string[];
  readonly readonlyPaths: readonly string[];
  readonly seccomp?: SeccompProfile;
}

export interface OciSpec {
  readonly ociVersion: string;
  readonly process: OciProcess;
  readonly root: { readonly path: string; readonly readonly: boolean };
  readonly hostname?: string;
  readonly mounts: readonly OciMount[];
  readonly linux: OciLinux;
}

/** containerd's default masked paths: kernel internals a container has no business reading. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** containerd's default read-only paths: host-wide kernel settings under /proc. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The character devices runc's own default spec allows (null, zero, full, random, urandom, tty, console, ptmx, pts). */
const DEFAULT_DEVICES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2]].map(([major, minor]): OciDeviceRule => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

const CFS_PERIOD_US = 100_000;

function capSet(names: readonly string[]): string[] {
  return names.map((n) => `CAP_${n}`);
}

/**
 * containerd's default mounts, minus /run (the CRI plugin drops it), with /sys and the cgroup
 * tree writable only for privileged containers; then the kubelet's binds in their order.
 */
function mountsOf(c: ContainerConfig): OciMount[] {
  const sysMode = c.privileged ? 'rw' : 'ro';
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sysMode] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', sysMode] },
  ];
  for (const m of c.mounts) {
    mounts.push({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'] });
  }
  return mounts;
}

function namespacesOf(c: ContainerConfig): OciNamespace[] {
  const ns = (type: OciNamespaceType, path: string | undefined): OciNamespace => (path === undefined ? { type } : { type, path });
  return [ns('pid', c.namespaces.pid), ns('ipc', c.namespaces.ipc), ns('uts', c.namespaces.uts), ns('mount', undefined), ns('network', c.namespaces.network)];
}

function resourcesOf(c: ContainerConfig, memorySwap: boolean): OciResources {
  const devices = c.privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICES;
  const memory =
    c.memoryLimitBytes === undefined
      ? undefined
      : // The kubelet gives containers no swap: swap = limit (v1 memsw, v2 swap.max = swap - limit = 0).
        memorySwap
        ? { limit: c.memoryLimitBytes, swap: c.memoryLimitBytes }
        : { limit: c.memoryLimitBytes };
  const cpu =
    c.cpuQuotaUs === undefined && c.cpuShares === undefined
      ? undefined
      : {
          ...(c.cpuShares === undefined ? {} : { shares: c.cpuShares }),
          ...(c.cpuQuotaUs === undefined ? {} : { quota: c.cpuQuotaUs, period: CFS_PERIOD_US }),
        };
  return { devices, ...(memory === undefined ? {} : { memory }), ...(cpu === undefined ? {} : { cpu }) };
}

export interface SpecOptions {
  /** The machine accounts swap per cgroup (v1 memory.memsw.*, v2 memory.swap.max): set swap = limit. */
  readonly memorySwap?: boolean;
}

/**
 * The runtime spec for one container (root.path "rootfs", relative to the bundle, as containerd
 * writes it). No rlimits: the CRI plugin clears the default spec's RLIMIT_NOFILE 1024, so
 * containers inherit the runtime's limits, as on a real node.
 */
export function ociSpec(c: ContainerConfig, options: SpecOptions = {}): OciSpec {
  const caps = capSet(c.privileged ? allCapabilities() : c.capabilities);
  const seccomp = c.privileged || c.seccomp === 'Unconfined' ? undefined : runtimeDefaultProfile(c.capabilities);
  const process: OciProcess = {
    terminal: false,
    user: { uid: c.uid, gid: c.gid, ...(c.groups.length > 0 ? { additionalGids: [...c.groups] } : {}) },
    args: [...c.args],
    env: Object.entries(c.env).map(([k, v]) => `${k}=${v}`),
    cwd: c.cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    noNewPrivileges: c.noNewPrivileges,
    ...(c.oomScoreAdj === undefined ? {} : { oomScoreAdj: c.oomScoreAdj }),
  };
  const linux: OciLinux = {
    namespaces: namespacesOf(c),
    cgroupsPath: c.cgroupsPath,
    resources: resourcesOf(c, options.memorySwap ?? false),
    maskedPaths: c.privileged ? [] : MASKED_PATHS,
    readonlyPaths: c.privileged ? [] : READONLY_PATHS,
    ...(seccomp === undefined ? {} : { seccomp }),
  };
  return {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: 'rootfs', readonly: false },
    ...(c.hostname === undefined ? {} : { hostname: c.hostname }),
    mounts: mountsOf(c),
    linux,
  };
}
