/** The sandbox's public types (Contract 1 of the issue-6 plan); index.ts re-exports them. */
import type { SecurityContext } from './kobj.ts';

export interface FixtureContainer {
  name: string;
  /** An image of the local store (images/catalog.ts); any other one fails to pull. */
  image: string;
  /** The image's ENTRYPOINT when absent (and `args` its CMD), as in a pod spec. */
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Record<string, string>;
  /** Mounts of the pod's `volumes` (the checkout's are added unless the pod says mountSource: false). */
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  /** Applied by runc (identity, capabilities, no_new_privs, seccomp; runAsNonRoot checked against the image's USER). */
  securityContext?: SecurityContext;
  /**
   * resources.limits / requests, e.g. `{ limits: { memory: '256Mi' } }`. When every container of
   * the pod has a memory limit, the pod's memory cgroup gets their sum as its limit (the kernel
   * enforces it), as the kubelet does.
   */
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

export interface FixturePod {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** Each a runc container in the pod's network namespace. */
  containers: FixtureContainer[];
  /** One PID namespace for the pod (the pause process its PID 1), as in a pod spec. */
  shareProcessNamespace?: boolean;
  /** Default Always: containers that end are restarted after a back-off (restartCount, lastState). */
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  /** hostPath volumes, mounted where containers' volumeMounts say. */
  volumes?: { name: string; hostPath: string }[];
  /**
   * Default true: the checkout (and node_modules' real folder) mounted read-only at their own paths
   * in every container of the pod, as hostPath volumes: how test scripts reach pods.
   */
  mountSource?: boolean;
  /** Default: the next free 10.244.0.x. */
  ip?: string;
  /** Sets metadata.ownerReferences to a ReplicaSet `<deploy>-<hash>`. */
  ownerDeployment?: string;
  /** The pod-level securityContext (runAsNonRoot, runAsUser, runAsGroup, supplementalGroups, ...). */
  securityContext?: SecurityContext;
}

export interface FixtureService {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  ports: { port: number; targetPort: number }[];
  /** Default: the next free 10.96.0.x. */
  clusterIP?: string;
}

export interface FixtureNamespace {
  name: string;
  podSecurityEnforce?: 'privileged' | 'baseline' | 'restricted';
}

export interface SandboxFixture {
  namespaces?: FixtureNamespace[];
  pods?: FixturePod[];
  services?: FixtureService[];
}

export interface DenyRule {
  verb: string;
  /** `pods`, or `pods/exec` (then `subresource` may be left out). */
  resource: string;
  /** A rule without one matches only the resource itself, not its subresources. */
  subresource?: string;
  /** A rule without one matches every namespace and the cluster scope. */
  namespace?: string;
  /** Sandbox extension: a rule without one applies to every user, admin included. */
  user?: string;
}

export interface Faults {
  /** PATCH pods/ephemeralcontainers -> 404 (the real "disabled" shape). */
  ephemeralContainersDisabled: boolean;
  /** RBAC 403 + SelfSubjectAccessReview allowed:false. */
  deny: DenyRule[];
  /** Extra images that fail to pull (ErrImagePull -> ImagePullBackOff). */
  unknownImages: string[];
  /**
   * An API server before 1.30: WebSocket exec/attach speak v4.channel.k8s.io only (what the kubelet
   * speaks; v5 came with the apiserver's stream translator), so a client's stdin EOF closes the
   * whole session.
   */
  websocketV4Only: boolean;
  /**
   * Bytes altered in transit: each stdin chunk of an exec (`offset` = bytes of that exec's stdin
   * before it) goes to the process as what this returns, as a meddling proxy between client and
   * kubelet would deliver it.
   */
  tamperExecStdin?: ((command: readonly string[], chunk: Buffer, offset: number) => Buffer) | undefined;
  /** Every request (and exec upgrade) answered 503 ServiceUnavailable: connections work, nothing else. */
  apiUnavailable: boolean;
  /** No metrics API (a cluster without metrics-server): metrics.k8s.io is 404 and not discovered. */
  metricsUnavailable: boolean;
}

/** A pod's memory cgroup as the kubelet keeps it (null when the machine has no memory cgroups). */
export interface PodMemory {
  /** The cgroup folder (its containers are subfolders). */
  readonly dir: string;
  /** The limit the kernel enforces (Infinity: none). */
  limitBytes(): number;
  usageBytes(): number;
  /** usage - inactive file: what the metrics API reports. */
  workingSetBytes(): number;
  /** Processes of the pod the kernel's OOM killer killed. */
  oomKills(): number;
}

export interface SandboxLeftovers {
  /** runc container ids. */
  readonly containers: readonly string[];
  /** cgroup folders in any hierarchy. */
  readonly cgroups: readonly string[];
  /** Mount points under the sandbox's folder. */
  readonly mounts: readonly string[];
  /** `ip netns` names. */
  readonly netns: readonly string[];
}

export interface Sandbox {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Path; context "sandbox", user "admin" (client cert, system:masters). */
  readonly kubeconfig: string;
  /** A kubeconfig for another user (token auth unless `token: false`, then a client certificate). */
  kubeconfigFor(user: string, opts?: { token?: boolean; namespace?: string }): string;
  /** Mutable at run time. */
  readonly faults: Faults;
  /** Resolves once the pod is Running (ADDED as Pending, then MODIFIED), its processes started. */
  createPod(pod: FixturePod): Promise<void>;
  /** Graceful: MODIFIED then DELETED, processes killed, netns removed. */
  deletePod(namespace: string, name: string): Promise<void>;
  /** `ip netns` name of the pod. */
  podNetns(namespace: string, name: string): string;
  podIP(namespace: string, name: string): string;
  /** Host path of the running container's root filesystem (its overlay mount). */
  containerRootfs(namespace: string, pod: string, container: string): string;
  /** Host pid of the running container's init. */
  containerPid(namespace: string, pod: string, container: string): number;
  /** Pids of the pod's processes in its netns right now (its pause process not counted). */
  processesIn(namespace: string, name: string): number[];
  /** What this sandbox left on the machine (each list empty after stop(), which fails otherwise). */
  leftovers(): SandboxLeftovers;
  /** runc's --root for this sandbox's containers (`runc --root <it> list`). */
  readonly runcRoot: string;
  /** The pod's memory cgroup (null when this machine has no memory cgroups: see memoryCgroupsReason). */
  podMemory(namespace: string, name: string): PodMemory | null;
  /** null when pods get real memory cgroups here, else why not. */
  readonly memoryCgroupsReason: string | null;
  /** API server down (connections refused, open ones dropped), pods keep running. */
  stopApi(): Promise<void>;
  /** API server back on the same address after stopApi(); watches resume from their resourceVersion. */
  startApi(): Promise<void>;
  /** Everything killed, namespaces and bridge removed, temp files deleted. */
  stop(): Promise<void>;
}
