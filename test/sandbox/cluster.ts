/**
 * The cluster behind the API: the registry (namespaces, the node, pods, services, endpoints in the
 * Store) and a kubelet that turns pods into network namespaces with real processes and reports their
 * state back as status updates.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { alreadyExists, badRequest, conflict, notFound } from './errors.ts';
import { clone, now, type Container, type ContainerStatus, type Endpoints, type KObject, type Namespace, type Pod, type Service } from './kobj.ts';
import { Bridge, GATEWAY, pidsIn } from './net.ts';
import { applyPatch, type JsonValue, type PatchKind } from './patch.ts';
import {
  ContainerProcess,
  DEFAULT_IMAGES,
  LogBuffer,
  defaultEntrypoint,
  exitCodeOf,
  fullImageRef,
  imageID,
  newContainerID,
  resolveExecutable,
  terminate,
  type ExitInfo,
} from './runtime.ts';
import { processSecurity, runAsNonRootViolation, setprivPrefix, type ProcessSecurity } from './security.ts';
import { Store } from './store.ts';
import type { Faults, FixtureNamespace, FixturePod, FixtureService } from './types.ts';
import { defaultContainer, ephemeralInvalid, podSecurityError, validateEphemeralUpdate, type PodSecurityLevel } from './validation.ts';
import type { Netns } from '../helpers/netns.ts';
import type { MemoryCgroup } from '../helpers/memory-cgroup.ts';
import { createPodCgroup, qosClass } from './pod-cgroups.ts';

export const NODE_NAME = 'sandbox-node';
const CREATING_DELAY_MS = 100;
const START_DELAY_MS = 100;
const BACKOFF_DELAY_MS = 1000;
/** Real pods get 30 s; the sandbox's processes exit on SIGTERM at once, so wait less for stragglers. */
const MAX_GRACE_MS = 3000;

/** A container as the kubelet sees it: where it runs and what it printed. */
export interface ContainerRuntime {
  readonly name: string;
  readonly ephemeral: boolean;
  readonly spec: Container;
  readonly dir: string;
  readonly env: Record<string, string>;
  /** Identity and capabilities of its processes, exec'd ones included. */
  readonly security: ProcessSecurity;
  readonly logs: LogBuffer;
  proc?: ContainerProcess;
  containerID?: string;
  /** Waiting reason while not started (ContainerCreating, ErrImagePull, ...). */
  waiting?: string;
  /** Its memory cgroup, inside the pod's (what it and everything exec'd into it are charged to). */
  readonly cgroup?: MemoryCgroup | undefined;
}

export interface PodRuntime {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly dir: string;
  netns?: Netns;
  /** The pod's memory cgroup (null: this machine has none; see pod-cgroups.ts). */
  cgroup?: MemoryCgroup | null;
  readonly containers: Map<string, ContainerRuntime>;
  /** Exec'd processes, killed with the pod. */
  readonly execs: Set<ChildProcess>;
  readonly timers: Set<NodeJS.Timeout>;
  deleting?: Promise<void>;
}

function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The `<hash>` of a ReplicaSet `<deploy>-<hash>`, stable per deployment like pod-template-hash. */
export function templateHash(deploy: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha256').update(deploy).digest();
  return [...digest.subarray(0, 10)].map((b) => alphabet[b % alphabet.length]).join('');
}

export interface ClusterOptions {
  dir: string;
  binDir: string;
  bridge: Bridge;
  faults: Faults;
}

export class Cluster {
  readonly store = new Store();
  readonly faults: Faults;
  readonly #dir: string;
  readonly #binDir: string;
  readonly #bridge: Bridge;
  readonly #pods = new Map<string, PodRuntime>();
  readonly #usedIPs = new Set<string>([GATEWAY]);
  readonly #usedClusterIPs = new Set<string>(['10.96.0.1']);
  readonly #knownImages = new Set<string>(DEFAULT_IMAGES.map(fullImageRef));
  #stopped = false;
  /** Pod creations in flight: stop() waits for them so no namespace is created after it. */
  readonly #creating = new Set<Promise<void>>();

  constructor(o: ClusterOptions) {
    this.#dir = o.dir;
    this.#binDir = o.binDir;
    this.#bridge = o.bridge;
    this.faults = o.faults;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.ensureNamespace({ name });
    this.#createNode();
  }

  // ---- namespaces, node, services ----

  ensureNamespace(ns: FixtureNamespace): Namespace {
    const existing = this.store.get<Namespace>('namespaces', undefined, ns.name);
    const labels: Record<string, string> = { 'kubernetes.io/metadata.name': ns.name };
    if (ns.podSecurityEnforce) {
      labels['pod-security.kubernetes.io/enforce'] = ns.podSecurityEnforce;
      labels['pod-security.kubernetes.io/enforce-version'] = 'latest';
    }
    if (existing) {
      if (!ns.podSecurityEnforce) return existing;
      return this.store.update<Namespace>('namespaces', undefined, ns.name, (o) => {
        o.metadata.labels = { ...o.metadata.labels, ...labels };
      })!;
    }
    return this.store.create<Namespace>('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, uid: '', resourceVersion: '', creationTimestamp: '', labels },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  podSecurityLevel(namespace: string): PodSecurityLevel {
    const ns = this.store.get<Namespace>('namespaces', undefined, namespace);
    const level = ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'];
    return level === 'baseline' || level === 'restricted' ? level : 'privileged';
  }

  #createNode(): void {
    this.store.create('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: NODE_NAME,
        uid: '',
        resourceVersion: '',
        creationTimestamp: '',
        labels: {
          'kubernetes.io/hostname': NODE_NAME,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node-role.kubernetes.io/control-plane': '',
        },
      },
      spec: { podCIDR: '10.244.0.0/16', podCIDRs: ['10.244.0.0/16'] },
      status: {
        addresses: [
          { type: 'InternalIP', address: GATEWAY },
          { type: 'Hostname', address: NODE_NAME },
        ],
        capacity: { cpu: '2', memory: '4Gi', pods: '110' },
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        conditions: [
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now(), lastTransitionTime: now() },
        ],
        nodeInfo: {
          architecture: 'amd64',
          operatingSystem: 'linux',
          osImage: 'kubectl-shark sandbox',
          kernelVersion: release(),
          kubeletVersion: 'v1.32.0',
          kubeProxyVersion: 'v1.32.0',
          containerRuntimeVersion: 'containerd://sandbox',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
      },
    });
  }

  #allocClusterIP(wanted?: string): string {
    if (wanted) {
      if (this.#usedClusterIPs.has(wanted)) throw badRequest(`provided IP is already allocated: ${wanted}`);
      this.#usedClusterIPs.add(wanted);
      return wanted;
    }
    for (let i = 10; i < 65000; i += 1) {
      const ip = `10.96.${Math.floor(i / 254)}.${(i % 254) + 1}`;
      if (!this.#usedClusterIPs.has(ip)) {
        this.#usedClusterIPs.add(ip);
        return ip;
      }
    }
    throw new Error('no cluster IP left');
  }

  createService(f: FixtureService): Service {
    if (this.store.get('services', f.namespace, f.name)) throw alreadyExists('services', f.name);
    this.ensureNamespace({ name: f.namespace });
    const ip = this.#allocClusterIP(f.clusterIP);
    const svc = this.store.create<Service>('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: f.name, namespace: f.namespace, uid: '', resourceVersion: '', creationTimestamp: '' },
      spec: {
        clusterIP: ip,
        clusterIPs: [ip],
        ports: f.ports.map((p) => ({ ...(f.ports.length > 1 ? { name: `port-${p.port}` } : {}), protocol: 'TCP', port: p.port, targetPort: p.targetPort })),
        selector: f.selector,
        type: 'ClusterIP',
        sessionAffinity: 'None',
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    });
    this.syncEndpoints();
    return svc;
  }

  /** Endpoints follow the services' selectors over Running pods, as the endpoints controller does. */
  syncEndpoints(): void {
    const services = this.store.list('services') as Service[];
    for (const svc of services) {
      const ns = svc.metadata.namespace!;
      const selector = svc.spec.selector ?? {};
      const pods = (this.store.list('pods', ns) as Pod[]).filter(
        (p) =>
          Object.keys(selector).length > 0 &&
          Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v) &&
          p.status.phase === 'Running' &&
          p.status.podIP &&
          !p.metadata.deletionTimestamp,
      );
      const addresses = pods
        .map((p) => ({ ip: p.status.podIP!, nodeName: NODE_NAME, targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid } }))
        .sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
      const ports = svc.spec.ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
        protocol: p.protocol,
      }));
      const subsets = addresses.length > 0 ? [{ addresses, ports }] : undefined;
      const existing = this.store.get<Endpoints>('endpoints', ns, svc.metadata.name);
      if (!existing) {
        this.store.create<Endpoints>('endpoints', {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: svc.metadata.name, namespace: ns, uid: '', resourceVersion: '', creationTimestamp: '', labels: { 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' } },
          ...(subsets ? { subsets } : {}),
        });
      } else {
        this.store.update<Endpoints>('endpoints', ns, svc.metadata.name, (e) => {
          if (subsets) e.subsets = subsets;
          else delete e.subsets;
        });
      }
    }
  }

  // ---- pods ----

  runtime(namespace: string, name: string): PodRuntime | undefined {
    return this.#pods.get(podKey(namespace, name));
  }

  pod(namespace: string, name: string): Pod | undefined {
    return this.store.get<Pod>('pods', namespace, name);
  }

  processesIn(namespace: string, name: string): number[] {
    const rt = this.runtime(namespace, name);
    return rt?.netns ? pidsIn(rt.netns.name) : [];
  }

  isImageKnown(image: string): boolean {
    const ref = fullImageRef(image);
    if (this.faults.unknownImages.some((i) => fullImageRef(i) === ref)) return false;
    return this.#knownImages.has(ref);
  }

  #allocIP(wanted?: string): string {
    if (wanted) {
      if (!/^10\.244\.\d+\.\d+$/.test(wanted)) throw new Error(`pod IP ${wanted} is not in 10.244.0.0/16`);
      if (this.#usedIPs.has(wanted)) throw new Error(`pod IP ${wanted} is already in use`);
      this.#usedIPs.add(wanted);
      return wanted;
    }
    for (let i = 2; i < 65000; i += 1) {
      const ip = `10.244.${Math.floor(i / 256)}.${i % 256}`;
      if (i % 256 === 0 || i % 256 === 255 || this.#usedIPs.has(ip)) continue;
      this.#usedIPs.add(ip);
      return ip;
    }
    throw new Error('no pod IP left');
  }

  #containerEnv(podName: string, dir: string, spec: Container): Record<string, string> {
    const env: Record<string, string> = {
      PATH: `${this.#binDir}:/usr/bin:/bin`,
      HOSTNAME: podName,
      HOME: dir,
      TMPDIR: dir,
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    };
    for (const e of spec.env ?? []) if (typeof e.name === 'string') env[e.name] = e.value ?? '';
    return env;
  }

  #newContainerRuntime(rt: PodRuntime, spec: Container, ephemeral: boolean): ContainerRuntime {
    const dir = join(rt.dir, spec.name);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const security = processSecurity(this.pod(rt.namespace, rt.name)!, spec);
    // The container's own directory (cwd, HOME, TMPDIR) belongs to its user, as an image's would.
    chownSync(dir, security.uid, security.gid);
    const c: ContainerRuntime = {
      name: spec.name,
      ephemeral,
      spec,
      dir,
      env: this.#containerEnv(rt.name, dir, spec),
      security,
      logs: new LogBuffer(),
      waiting: 'ContainerCreating',
      cgroup: rt.cgroup?.child(spec.name),
    };
    rt.containers.set(spec.name, c);
    return c;
  }

  /** Creates the pod (ADDED, Pending), its namespace and processes; resolves once it is Running. */
  createPod(f: FixturePod): Promise<void> {
    const p = this.#createPod(f);
    const tracked = p.catch(() => undefined);
    this.#creating.add(tracked);
    void tracked.then(() => this.#creating.delete(tracked));
    return p;
  }

  async #createPod(f: FixturePod): Promise<void> {
    if (this.#stopped) throw new Error('the sandbox is stopped');
    if (this.pod(f.namespace, f.name)) throw alreadyExists('pods', f.name);
    if (f.containers.length === 0) throw new Error(`pod ${f.name} has no containers`);
    this.ensureNamespace({ name: f.namespace });
    for (const c of f.containers) this.#knownImages.add(fullImageRef(c.image));
    const ip = this.#allocIP(f.ip);
    const restricted = this.podSecurityLevel(f.namespace) === 'restricted';
    const labels = { ...f.labels };
    let ownerReferences: KObject['metadata']['ownerReferences'];
    if (f.ownerDeployment) {
      const hash = templateHash(f.ownerDeployment);
      labels['pod-template-hash'] = hash;
      const rsName = `${f.ownerDeployment}-${hash}`;
      ownerReferences = [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: createHash('sha256').update(rsName).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, '$1-$2-$3-$4-$5'), controller: true, blockOwnerDeletion: true },
      ];
    }
    // In a restricted namespace the fixture's containers are made compliant (the sandbox's images run as root).
    const restrictedContainer = restricted ? { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } : undefined;
    const containers: Container[] = f.containers.map((c) => ({
      name: c.name,
      image: c.image,
      command: c.command,
      ...(c.env ? { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) } : {}),
      resources: c.resources ?? {},
      ...(restrictedContainer || c.securityContext ? { securityContext: { ...restrictedContainer, ...c.securityContext } } : {}),
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: defaultContainer({ name: c.name, image: c.image }).imagePullPolicy!,
    }));
    const created = now();
    this.store.create<Pod>('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: f.name,
        namespace: f.namespace,
        uid: '',
        resourceVersion: '',
        creationTimestamp: created,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        ...(ownerReferences ? { ownerReferences, generateName: `${ownerReferences[0]!.name}-` } : {}),
      },
      spec: {
        containers,
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        nodeName: NODE_NAME,
        serviceAccountName: 'default',
        serviceAccount: 'default',
        securityContext: { ...(restricted ? { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } } : {}), ...f.securityContext },
        schedulerName: 'default-scheduler',
        enableServiceLinks: true,
        preemptionPolicy: 'PreemptLowerPriority',
        priority: 0,
      },
      status: {
        phase: 'Pending',
        conditions: [
          { type: 'PodReadyToStartContainers', status: 'False', lastProbeTime: null, lastTransitionTime: created },
          { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: created },
          { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: created },
          { type: 'ContainersReady', status: 'False', lastProbeTime: null, lastTransitionTime: created },
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: created },
        ],
        hostIP: GATEWAY,
        hostIPs: [{ ip: GATEWAY }],
        startTime: created,
        qosClass: qosClass(containers),
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: fullImageRef(c.image!),
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        })),
      },
    });
    const uid = this.pod(f.namespace, f.name)!.metadata.uid;
    const rt: PodRuntime = {
      namespace: f.namespace,
      name: f.name,
      ip,
      dir: join(this.#dir, 'pods', `${f.namespace}_${f.name}_${uid.slice(0, 8)}`),
      containers: new Map(),
      execs: new Set(),
      timers: new Set(),
    };
    this.#pods.set(podKey(f.namespace, f.name), rt);
    try {
      const netns = await this.#bridge.attachPod(`${f.namespace}-${f.name}`.slice(0, 40), ip);
      rt.netns = netns;
      if (rt.deleting || this.#stopped) {
        // Deleted or stopped while the namespace was being made: the teardown did not see it.
        await netns.destroy();
        return;
      }
      rt.cgroup = createPodCgroup(f.namespace, f.name, containers);
      for (const spec of containers) {
        const c = this.#newContainerRuntime(rt, spec, false);
        if (this.isImageKnown(spec.image!)) this.#startContainer(rt, c);
        else this.#pullFails(rt, c);
      }
      this.#refreshPod(rt);
      this.syncEndpoints();
    } catch (err) {
      await this.deletePod(f.namespace, f.name, 0).done.catch(() => undefined);
      throw err;
    }
  }

  /** Starts the container's process in the pod's namespace (or records StartError). */
  #startContainer(rt: PodRuntime, c: ContainerRuntime): void {
    const argv = [...(c.spec.command?.length ? c.spec.command : defaultEntrypoint(c.spec.image!)), ...(c.spec.args ?? [])];
    const cwd = c.spec.workingDir || c.dir;
    // The kubelet checks runAsNonRoot while making the container's config, before the runtime sees it;
    // it retries on every sync, and the container stays waiting.
    const nonRoot = runAsNonRootViolation(this.pod(rt.namespace, rt.name)!, c.spec);
    if (nonRoot !== undefined) {
      c.waiting = 'CreateContainerConfigError';
      this.#setStatus(rt, c, { state: { waiting: { reason: 'CreateContainerConfigError', message: nonRoot } } });
      return;
    }
    c.containerID = newContainerID();
    if (resolveExecutable(argv[0]!, c.env['PATH']!, cwd) === undefined) {
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: ${JSON.stringify(argv[0])}: executable file not found in $PATH: unknown`;
      c.waiting = undefined;
      this.#setStatus(rt, c, {
        state: { terminated: { exitCode: 128, reason: 'StartError', message, startedAt: null, finishedAt: now(), containerID: c.containerID } },
      });
      return;
    }
    const startedAt = now();
    c.proc = new ContainerProcess(
      { netns: rt.netns!.name, wrap: setprivPrefix(c.security), argv, cwd, env: c.env, stdin: c.spec.stdin === true, cgroupProcs: c.cgroup?.procsFile },
      c.logs,
      startedAt,
    );
    c.waiting = undefined;
    void c.proc.closed.then((exit) => this.#containerExited(rt, c, exit));
    if (c.ephemeral) this.#setStatus(rt, c, { state: { running: { startedAt } } });
  }

  #pullFails(rt: PodRuntime, c: ContainerRuntime): void {
    const ref = fullImageRef(c.spec.image!);
    c.waiting = 'ErrImagePull';
    const message = `rpc error: code = NotFound desc = failed to pull and unpack image ${JSON.stringify(ref)}: failed to resolve reference ${JSON.stringify(ref)}: ${ref}: not found`;
    this.#setStatus(rt, c, { state: { waiting: { reason: 'ErrImagePull', message } } });
    this.#later(rt, BACKOFF_DELAY_MS, () => {
      c.waiting = 'ImagePullBackOff';
      this.#setStatus(rt, c, { state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image ${JSON.stringify(c.spec.image)}` } } });
    });
  }

  #later(rt: PodRuntime, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      rt.timers.delete(t);
      if (!rt.deleting && !this.#stopped) fn();
    }, ms);
    rt.timers.add(t);
  }

  #statusOf(c: ContainerRuntime, state: ContainerStatus['state']): ContainerStatus {
    const running = state.running !== undefined;
    const status: ContainerStatus = {
      name: c.name,
      image: fullImageRef(c.spec.image!),
      imageID: c.containerID && !state.waiting ? imageID(c.spec.image!) : '',
      ...(c.containerID && !state.waiting ? { containerID: c.containerID } : {}),
      ready: !c.ephemeral && running,
      restartCount: 0,
      state,
      lastState: {},
    };
    if (!c.ephemeral) status.started = running;
    return status;
  }

  #setStatus(rt: PodRuntime, c: ContainerRuntime, s: { state: ContainerStatus['state'] }): void {
    if (rt.deleting) return;
    const status = this.#statusOf(c, s.state);
    this.store.update<Pod>('pods', rt.namespace, rt.name, (pod) => {
      const field = c.ephemeral ? 'ephemeralContainerStatuses' : 'containerStatuses';
      const list = [...(pod.status[field] ?? [])];
      const at = list.findIndex((x) => x.name === c.name);
      if (at >= 0) list[at] = status;
      else list.push(status);
      pod.status[field] = list;
      if (!c.ephemeral) this.#derivePhase(pod, rt);
    });
    if (!c.ephemeral) this.syncEndpoints();
  }

  /** Phase and conditions from the app containers (no restarts in the sandbox). */
  #derivePhase(pod: Pod, rt: PodRuntime): void {
    const statuses = pod.status.containerStatuses ?? [];
    const allRunning = statuses.length === pod.spec.containers.length && statuses.every((s) => s.state.running);
    const allDone = statuses.length === pod.spec.containers.length && statuses.every((s) => s.state.terminated);
    const anyStarted = statuses.some((s) => s.state.running || s.state.terminated);
    if (allDone) pod.status.phase = statuses.every((s) => s.state.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
    else if (anyStarted) pod.status.phase = 'Running';
    else pod.status.phase = 'Pending';
    if (pod.status.phase !== 'Pending' && rt.netns) {
      pod.status.podIP = rt.ip;
      pod.status.podIPs = [{ ip: rt.ip }];
    }
    const t = now();
    for (const cond of pod.status.conditions ?? []) {
      let want: string | undefined;
      if (cond.type === 'PodReadyToStartContainers') want = rt.netns ? 'True' : 'False';
      if (cond.type === 'Ready' || cond.type === 'ContainersReady') want = allRunning ? 'True' : 'False';
      if (want !== undefined && cond.status !== want) {
        cond.status = want;
        cond.lastTransitionTime = t;
      }
    }
  }

  /** Writes the whole pod status from the runtime (after the pod's processes were started). */
  #refreshPod(rt: PodRuntime): void {
    if (rt.deleting) return;
    this.store.update<Pod>('pods', rt.namespace, rt.name, (pod) => {
      pod.status.containerStatuses = pod.spec.containers.map((spec) => {
        const c = rt.containers.get(spec.name)!;
        const prev = pod.status.containerStatuses?.find((s) => s.name === spec.name);
        if (c.proc?.running) return this.#statusOf(c, { running: { startedAt: c.proc.startedAt } });
        return prev ?? this.#statusOf(c, { waiting: { reason: c.waiting ?? 'ContainerCreating' } });
      });
      this.#derivePhase(pod, rt);
    });
  }

  #containerExited(rt: PodRuntime, c: ContainerRuntime, exit: ExitInfo): void {
    const exitCode = exitCodeOf(exit);
    // As the kubelet tells it: killed (SIGKILL) while the kernel's OOM killer took something in it.
    const oomKilled = exit.signal === 'SIGKILL' && (c.cgroup?.oomKills() ?? 0) > 0;
    // A container ends with its main process: what was exec'd into it goes too (in a real pod its
    // PID namespace goes with its init). Only its cgroup tells the sandbox which processes are its.
    for (const pid of c.cgroup?.pids() ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    this.#setStatus(rt, c, {
      state: {
        terminated: {
          exitCode,
          reason: oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
          startedAt: c.proc!.startedAt,
          finishedAt: now(),
          containerID: c.containerID!,
        },
      },
    });
  }

  /**
   * Graceful delete: MODIFIED with deletionTimestamp (unless grace 0), processes stopped,
   * namespace removed, then DELETED. `pod` is what the DELETE request answers.
   */
  deletePod(namespace: string, name: string, graceSeconds?: number): { pod: Pod; done: Promise<void> } {
    const current = this.pod(namespace, name);
    if (!current) throw notFound('pods', name);
    const rt = this.runtime(namespace, name);
    if (rt?.deleting) return { pod: current, done: rt.deleting };
    const grace = graceSeconds ?? current.spec.terminationGracePeriodSeconds ?? 30;
    let answer = current;
    if (grace > 0) {
      answer = this.store.update<Pod>('pods', namespace, name, (pod) => {
        pod.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        pod.metadata.deletionGracePeriodSeconds = grace;
      })!;
      this.syncEndpoints();
    }
    const done = (async () => {
      if (rt) {
        await this.#teardown(rt, Math.min(grace * 1000, MAX_GRACE_MS));
        this.#pods.delete(podKey(namespace, name));
        this.#usedIPs.delete(rt.ip);
      }
      this.store.delete('pods', namespace, name);
      this.syncEndpoints();
    })();
    if (rt) rt.deleting = done;
    if (grace === 0) answer = clone(current);
    return { pod: answer, done };
  }

  async #teardown(rt: PodRuntime, graceMs: number): Promise<void> {
    // Set before any await: status updates from dying processes are dropped.
    rt.deleting ??= Promise.resolve();
    for (const t of rt.timers) clearTimeout(t);
    rt.timers.clear();
    const children = [...[...rt.containers.values()].flatMap((c) => (c.proc ? [c.proc.child] : [])), ...rt.execs];
    await Promise.all(children.map((child) => terminate(child, graceMs)));
    await rt.netns?.destroy();
    const left = rt.cgroup?.destroy() ?? [];
    if (left.length > 0) process.stderr.write(`sandbox: pod ${rt.namespace}/${rt.name}: cgroups not removed: ${left.join(', ')}\n`);
    rmSync(rt.dir, { recursive: true, force: true });
  }

  // ---- ephemeral containers ----

  /** PATCH pods/NAME/ephemeralcontainers: the patched list, validated, admitted, stored, started. */
  patchEphemeral(namespace: string, name: string, kind: PatchKind, raw: string): Pod {
    const pod = this.pod(namespace, name);
    if (!pod) throw notFound('pods', name);
    const patched = applyPatch(pod as unknown as JsonValue, kind, raw) as unknown as Pod;
    return this.#updateEphemeral(pod, patched?.spec?.ephemeralContainers);
  }

  /** PUT pods/NAME/ephemeralcontainers: a whole Pod, with optimistic concurrency on resourceVersion. */
  replaceEphemeral(namespace: string, name: string, body: Pod): Pod {
    const pod = this.pod(namespace, name);
    if (!pod) throw notFound('pods', name);
    const rv = body?.metadata?.resourceVersion;
    if (rv && rv !== pod.metadata.resourceVersion) throw conflict('pods', name);
    return this.#updateEphemeral(pod, body?.spec?.ephemeralContainers);
  }

  #updateEphemeral(pod: Pod, list: unknown): Pod {
    if (list !== undefined && list !== null && !Array.isArray(list)) {
      throw badRequest('json: cannot unmarshal object into Go struct field PodSpec.spec.ephemeralContainers of type []v1.EphemeralContainer');
    }
    const next = ((list ?? []) as Container[]).map((c) => (c !== null && typeof c === 'object' ? defaultContainer(c) : (c as Container)));
    const errors = validateEphemeralUpdate(pod, next);
    if (errors.length > 0) throw ephemeralInvalid(pod, errors);
    const candidate = clone(pod);
    if (next.length > 0) candidate.spec.ephemeralContainers = next;
    else delete candidate.spec.ephemeralContainers;
    const level = this.podSecurityLevel(pod.metadata.namespace!);
    const denied = podSecurityError(candidate, level);
    if (denied) throw denied;
    const before = new Set((pod.spec.ephemeralContainers ?? []).map((c) => c.name));
    const stored = this.store.update<Pod>('pods', pod.metadata.namespace, pod.metadata.name, (p) => {
      p.spec = candidate.spec;
    })!;
    const rt = this.runtime(pod.metadata.namespace!, pod.metadata.name);
    if (rt && !rt.deleting) {
      for (const c of next) if (!before.has(c.name)) this.#scheduleEphemeral(rt, c);
    }
    return stored;
  }

  /** No status, then waiting ContainerCreating, then running (or ErrImagePull). */
  #scheduleEphemeral(rt: PodRuntime, spec: Container): void {
    const c = this.#newContainerRuntime(rt, spec, true);
    this.#later(rt, CREATING_DELAY_MS, () => {
      this.#setStatus(rt, c, { state: { waiting: { reason: 'ContainerCreating' } } });
      this.#later(rt, START_DELAY_MS, () => {
        if (!rt.netns) return;
        if (this.isImageKnown(spec.image!)) this.#startContainer(rt, c);
        else this.#pullFails(rt, c);
      });
    });
  }

  // ---- shutdown ----

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#creating);
    const all = [...this.#pods.values()];
    await Promise.all(
      all.map(async (rt) => {
        if (rt.deleting) await rt.deleting.catch(() => undefined);
        else await this.#teardown(rt, 1000);
      }),
    );
    this.#pods.clear();
  }
}
