/**
 * The sandbox's container runtime (issue 14): containers run by `runc` from an OCI bundle, the way
 * containerd's shim runs them for a kubelet. The contract between oci/ (spec building, seccomp,
 * bundles, runc) and the kubelet in cluster.ts / streams.ts.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { SandboxImage } from '../images/types.ts';

/** Namespaces a container joins (host paths like /proc/PID/ns/pid or /var/run/netns/NAME); absent = a new one. */
export interface JoinedNamespaces {
  readonly network: string;
  readonly pid?: string | undefined;
  readonly ipc?: string | undefined;
  readonly uts?: string | undefined;
}

export interface BindMount {
  /** Path inside the container. */
  readonly destination: string;
  /** Host path. */
  readonly source: string;
  readonly readOnly: boolean;
}

/** Everything the kubelet decided about one container; oci/spec.ts turns it into config.json. */
export interface ContainerConfig {
  readonly image: SandboxImage;
  /** argv: command+args resolved against the image's entrypoint/cmd by the kubelet. */
  readonly args: readonly string[];
  /** Final environment (image env overlaid by the container's). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Set only for a container with its own UTS namespace (the pod's pause container). */
  readonly hostname?: string | undefined;
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  /** Upper-case capability names without CAP_; privileged containers get every one. */
  readonly capabilities: readonly string[];
  readonly privileged: boolean;
  readonly noNewPrivileges: boolean;
  /** RuntimeDefault: containerd's default profile (oci/seccomp.ts); Unconfined: none. */
  readonly seccomp: 'RuntimeDefault' | 'Unconfined';
  readonly namespaces: JoinedNamespaces;
  /** Extra binds: /etc/hosts, /etc/hostname, /etc/resolv.conf, /dev/termination-log, hostPath volumes. */
  readonly mounts: readonly BindMount[];
  /**
   * cgroupsPath as runc takes it: RELATIVE, so each hierarchy's group is made under runc's own
   * cgroup (the sandbox's), e.g. `ks-123-4-shop_web/app`.
   */
  readonly cgroupsPath: string;
  readonly memoryLimitBytes?: number | undefined;
  /** CFS quota in microseconds per 100 ms period (from limits.cpu). */
  readonly cpuQuotaUs?: number | undefined;
  readonly cpuShares?: number | undefined;
  readonly oomScoreAdj?: number | undefined;
  /** The process gets stdin (spec.stdin). */
  readonly stdin: boolean;
}

export interface ContainerExit {
  /** Exit code, or 128+signal. */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  /** The kernel's OOM killer killed a process of this container's memory cgroup. */
  readonly oomKilled: boolean;
}

export interface ExecOptions {
  readonly args: readonly string[];
  /** The exec'd process's whole environment (not added to the container's: pass that in when wanted). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** A terminal (runc exec -t, under a host pty from util-linux `script`). */
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

/** One running container (its `runc run --keep` in the foreground is the parent of its init). */
export interface RuncContainerApi {
  /** The runc container id (`ks-<pid>-<n>-...`: sweepable after a crash). */
  readonly id: string;
  /** Host pid of the container's init (its pid 1 when it has its own PID namespace). */
  readonly pid: number;
  /** Host path of the container's root filesystem (the overlay mount) while it exists. */
  readonly rootfs: string;
  /** The `runc run` process: stdin (when asked) is the container's stdin. */
  readonly child: ChildProcess;
  /**
   * The container's output from its first byte, held until read: read these, not child.stdout
   * (Node drains a child's unread pipes when it exits, and a short-lived container's runc can
   * exit before anyone has attached to it).
   */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves when the container's init has ended (after OOM accounting, before delete). */
  readonly exited: Promise<ContainerExit>;
  /** An executable `cmd` resolves to inside the container with this PATH, or undefined. */
  resolve(cmd: string, path: string, cwd: string): string | undefined;
  /** `runc exec` in the foreground: the returned process's stdio are the exec'd process's. */
  exec(o: ExecOptions): ChildProcess;
  /** `runc kill [--all]`. */
  kill(signal: NodeJS.Signals, all?: boolean): Promise<void>;
  /** SIGTERM, SIGKILL after graceMs, then `runc delete`, unmount, remove the bundle and its cgroups. */
  destroy(graceMs: number): Promise<void>;
}

/** What a sandbox run left on the machine (each empty after a clean stop). */
export interface RuntimeLeftovers {
  /** `runc --root <ours> list` ids. */
  readonly containers: readonly string[];
  /** cgroup folders of ours in any hierarchy. */
  readonly cgroups: readonly string[];
  /** Mount points under the sandbox's folders (/proc/self/mountinfo). */
  readonly mounts: readonly string[];
}
