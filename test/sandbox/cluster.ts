/**
 * The cluster behind the API: the registry (namespaces, the node, pods, services, endpoints in the
 * Store) and a kubelet that turns pods into network namespaces, a pause container and runc
 * containers from the local image store, restarts them per restartPolicy and reports their state
 * back as status updates.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { basename, join } from 'node:path';
import { alreadyExists, badRequest, conflict, notFound } from './errors.ts';
import { clone, now, type Container, type ContainerStatus, type Endpoints, type KObject, type Namespace, type Pod, type Service } from './kobj.ts';
import { Bridge, GATEWAY, pidsIn } from './net.ts';
import { applyPatch, type JsonValue, type PatchKind } from './patch.ts';
import { ContainerProcess, LogBuffer, fullImageRef, newContainerID, terminate } from './runtime.ts';
import { processSecurity, runAsNonRootViolation, type ProcessSecurity } from './security.ts';
import { Store } from './store.ts';
import type { Faults, FixtureNamespace, FixturePod, FixtureService } from './types.ts';
import { defaultContainer, ephemeralInvalid, podSecurityError, validateEphemeralUpdate, type PodSecurityLevel } from './validation.ts';
import { uniqueName, type Netns } from '../helpers/netns.ts';
import type { MemoryCgroup } from '../helpers/memory-cgroup.ts';
import { createPodCgroup, qosClass, removeCgroupEverywhere } from './pod-cgroups.ts';
import { containerConfig, oomScoreFloor, sourceVolumes, type HostPathVolume, type VolumeMount } from './container-config.ts';
import type { ImageStoreApi, SandboxImage } from './images/types.ts';
import type { ContainerConfig, ContainerExit, RuncContainerApi } from './oci/types.ts';
import { startContainer } from './oci/runc.ts';

export const NODE_NAME = 'sandbox-node';
const CREATING_DELAY_MS = 100;
const START_DELAY_MS = 100;
const BACKOFF_DELAY_MS = 1000;
/** The kubelet's crash-loop back-off starts at 10 s and doubles to 5 min; the sandbox's at 1 s, to 8 s. */
const RESTART_BACKOFF_MS = 1000;
const RESTART_BACKOFF_MAX_MS = 8000;
/** The cgroup leaf of the pod's pause container: the kubelet's name for it, never a valid container name. */
const PAUSE_CGROUP = 'POD';
const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
/** Real pods get 30 s; the sandbox's processes exit on SIGTERM at once, so wait less for stragglers. */
const MAX_GRACE_MS = 3000;

/** A container as the kubelet sees it: what runs, what it printed, how it ended before. */
export interface ContainerRuntime {
  readonly name: string;
  readonly ephemeral: boolean;
  readonly spec: Container;
  /** Its image (undefined when it cannot be pulled). */
  image?: SandboxImage | undefined;
  /** What runc was given for the current run (env and cwd for exec). */
  config?: ContainerConfig | undefined;
  /** Identity and capabilities of its processes, exec'd ones included. */
  security?: ProcessSecurity | undefined;
  /** Output of the current (or last) run; `previousLogs` of the one before (`logs --previous`). */
  logs: LogBuffer;
  previousLogs?: LogBuffer | undefined;
  proc?: ContainerProcess | undefined;
  containerID?: string | undefined;
  /** Waiting reason while not started (ContainerCreating, ErrImagePull, CrashLoopBackOff, ...). */
  waiting?: string | undefined;
  restartCount: number;
  /** The last run's end, as `lastState` reports it after a restart. */
  lastTerminated?: ContainerStatus['state']['terminated'];
  /** Its memory cgroup (runc's, inside the pod's) while it runs. */
  cgroup?: MemoryCgroup | undefined;
  /** Runs so far (bundle folders are per run). */
  runs: number;
}

export interface PodRuntime {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly dir: string;
  netns?: Netns;
  /** The pod's memory cgroup (null: this machine has none; see pod-cgroups.ts). */
  cgroup?: MemoryCgroup | null;
  /** The pod's cgroup folder name (under the sandbox's own cgroup in every hierarchy). */
  cgroupName: string;
  /** The pod's infrastructure container: holds its IPC and UTS (and shared PID) namespaces. */
  pause?: RuncContainerApi;
  /** OOM kills counted in containers whose cgroups are gone (runc removes them on delete). */
  oomKillsOfRemoved: number;
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
  images: ImageStoreApi;
  bridge: Bridge;
  faults: Faults;
}

export class Cluster {
  readonly store = new Store();
  readonly faults: Faults;
  readonly #dir: string;
  readonly #images: ImageStoreApi;
  readonly #bridge: Bridge;
  /** runc ids of this cluster's containers start with it (the sandbox's leftovers check). */
  readonly containerIdPrefix = `${uniqueName('-c')}-`;
  #containerSeq = 0;
  /** Pod cgroup folder names and network namespaces made by this cluster, removed or not. */
  readonly podCgroupNames = new Set<string>();
  readonly podNetnsNames = new Set<string>();
  readonly #pods = new Map<string, PodRuntime>();
  readonly #usedIPs = new Set<string>([GATEWAY]);
  readonly #usedClusterIPs = new Set<string>(['10.96.0.1']);
  #stopped = false;
  /** Pod creations in flight: stop() waits for them so no namespace is created after it. */
  readonly #creating = new Set<Promise<void>>();

  constructor(o: ClusterOptions) {
    this.#dir = o.dir;
    this.#images = o.images;
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

  /** The pod's processes (every one in its network namespace but its pause process). */
  processesIn(namespace: string, name: string): number[] {
    const rt = this.runtime(namespace, name);
    if (!rt?.netns) return [];
    const pause = rt.pause?.pid;
    return pidsIn(rt.netns.name).filter((p) => p !== pause);
  }

  /** The image, when the node can "pull" it: built in the local store and not made to fail. */
  #pull(image: string): SandboxImage | undefined {
    const ref = fullImageRef(image);
    if (this.faults.unknownImages.some((i) => fullImageRef(i) === ref)) return undefined;
    return this.#images.get(image);
  }

  isImageKnown(image: string): boolean {
    return this.#pull(image) !== undefined;
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

  #newContainerRuntime(rt: PodRuntime, spec: Container, ephemeral: boolean): ContainerRuntime {
    const c: ContainerRuntime = { name: spec.name, ephemeral, spec, logs: new LogBuffer(), waiting: 'ContainerCreating', restartCount: 0, runs: 0 };
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
    const source = f.mountSource === false ? [] : sourceVolumes();
    const volumes: HostPathVolume[] = [...source, ...(f.volumes ?? []).map((v) => ({ name: v.name, hostPath: { path: v.hostPath } }))];
    const sourceMounts: VolumeMount[] = source.map((v) => ({ name: v.name, mountPath: v.hostPath.path, readOnly: true }));
    const containers: Container[] = f.containers.map((c) => ({
      name: c.name,
      image: c.image,
      ...(c.command ? { command: c.command } : {}),
      ...(c.args ? { args: c.args } : {}),
      ...(c.workingDir ? { workingDir: c.workingDir } : {}),
      ...(c.env ? { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) } : {}),
      ...(sourceMounts.length > 0 || c.volumeMounts ? { volumeMounts: [...sourceMounts, ...(c.volumeMounts ?? [])] } : {}),
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
        ...(volumes.length > 0 ? { volumes } : {}),
        containers,
        restartPolicy: f.restartPolicy ?? 'Always',
        ...(f.shareProcessNamespace ? { shareProcessNamespace: true } : {}),
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
      cgroupName: '',
      oomKillsOfRemoved: 0,
    };
    this.#pods.set(podKey(f.namespace, f.name), rt);
    try {
      const netns = await this.#bridge.attachPod(`${f.namespace}-${f.name}`.slice(0, 40), ip);
      rt.netns = netns;
      this.podNetnsNames.add(netns.name);
      if (rt.deleting || this.#stopped) {
        // Deleted or stopped while the namespace was being made: the teardown did not see it.
        await netns.destroy();
        return;
      }
      rt.cgroup = createPodCgroup(f.namespace, f.name, containers);
      rt.cgroupName = rt.cgroup ? basename(rt.cgroup.dir) : uniqueName(`-${f.namespace}_${f.name}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60));
      this.podCgroupNames.add(rt.cgroupName);
      this.#writePodFiles(rt);
      await this.#startPause(rt);
      if (rt.deleting || this.#stopped) return;
      await Promise.all(
        containers.map(async (spec) => {
          const c = this.#newContainerRuntime(rt, spec, false);
          if (this.isImageKnown(spec.image!)) await this.#startContainer(rt, c);
          else this.#pullFails(rt, c);
        }),
      );
      this.#refreshPod(rt);
      this.syncEndpoints();
    } catch (err) {
      await this.deletePod(f.namespace, f.name, 0).done.catch(() => undefined);
      throw err;
    }
  }

  /** The pod's files every container mounts: /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  #writePodFiles(rt: PodRuntime): void {
    mkdirSync(rt.dir, { recursive: true, mode: 0o755 });
    writeFileSync(join(rt.dir, 'hosts'), `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${rt.ip}\t${rt.name}\n`);
    writeFileSync(join(rt.dir, 'hostname'), `${rt.name}\n`);
    // The sandbox runs no cluster DNS: the pods get the search path a real one would give and no server.
    writeFileSync(join(rt.dir, 'resolv.conf'), `search ${rt.namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
  }

  #podFiles(rt: PodRuntime): { hosts: string; hostname: string; resolvConf: string } {
    return { hosts: join(rt.dir, 'hosts'), hostname: join(rt.dir, 'hostname'), resolvConf: join(rt.dir, 'resolv.conf') };
  }

  #nextContainerId(): string {
    this.#containerSeq += 1;
    return `${this.containerIdPrefix}${this.#containerSeq}`;
  }

  /** The pod sandbox: catatonit as PID 1 of the pod's namespaces (IPC, UTS, and PID when shared). */
  async #startPause(rt: PodRuntime): Promise<void> {
    const image = this.#images.get(PAUSE_IMAGE);
    if (!image) throw new Error(`the sandbox's pause image ${PAUSE_IMAGE} is not built (images/store.ts)`);
    const pod = this.pod(rt.namespace, rt.name)!;
    const spec: Container = { name: 'POD', image: PAUSE_IMAGE };
    const config: ContainerConfig = {
      ...containerConfig({
        pod,
        spec,
        image,
        security: { uid: 65535, gid: 65535, groups: [], capabilities: [], noNewPrivs: true },
        namespaces: { network: `/var/run/netns/${rt.netns!.name}` },
        podFiles: this.#podFiles(rt),
        terminationLog: join(rt.dir, 'pause-termination-log'),
        cgroupsPath: `${rt.cgroupName}/${PAUSE_CGROUP}`,
      }),
      hostname: rt.name,
      oomScoreAdj: Math.max(oomScoreFloor(), -998),
      mounts: [],
    };
    writeFileSync(join(rt.dir, 'pause-termination-log'), '');
    rt.pause = await startContainer({ id: this.#nextContainerId(), bundleDir: join(rt.dir, 'pause'), config });
  }

  /** Starts the container with runc (or records CreateContainerConfigError / StartError). */
  async #startContainer(rt: PodRuntime, c: ContainerRuntime): Promise<void> {
    const pod = this.pod(rt.namespace, rt.name)!;
    const image = this.#pull(c.spec.image!)!;
    c.image = image;
    c.security = processSecurity(pod, c.spec, image.config.user);
    // The kubelet checks runAsNonRoot while making the container's config, before the runtime sees it;
    // it retries on every sync, and the container stays waiting.
    const nonRoot = runAsNonRootViolation(pod, c.spec, image.config.user);
    if (nonRoot !== undefined) {
      c.waiting = 'CreateContainerConfigError';
      this.#setStatus(rt, c, { state: { waiting: { reason: 'CreateContainerConfigError', message: nonRoot } } });
      return;
    }
    const target = c.ephemeral ? c.spec.targetContainerName : undefined;
    if (target && !rt.containers.get(target)?.proc?.running) {
      // The kubelet hands the runtime the target's PID namespace; a target that is not running has none.
      c.waiting = undefined;
      c.containerID = newContainerID();
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: target container ${JSON.stringify(target)} is not running: unknown`;
      this.#setStatus(rt, c, { state: { terminated: { exitCode: 128, reason: 'StartError', message, startedAt: null, finishedAt: now(), containerID: c.containerID } } });
      return;
    }
    c.runs += 1;
    const bundleDir = join(rt.dir, `${c.name}-${c.runs}`);
    mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
    const terminationLog = join(bundleDir, 'termination-log');
    writeFileSync(terminationLog, '');
    const config = containerConfig({
      pod,
      spec: c.spec,
      image,
      security: c.security,
      namespaces: this.#namespacesOf(rt, c, pod),
      podFiles: this.#podFiles(rt),
      terminationLog,
      cgroupsPath: `${rt.cgroupName}/${c.name}`,
    });
    c.config = config;
    c.containerID = newContainerID();
    let container: RuncContainerApi;
    try {
      container = await startContainer({ id: this.#nextContainerId(), bundleDir, config });
    } catch (err) {
      const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: ${(err as Error).message.trim()}: unknown`;
      c.waiting = undefined;
      this.#setStatus(rt, c, {
        state: { terminated: { exitCode: 128, reason: 'StartError', message, startedAt: null, finishedAt: now(), containerID: c.containerID } },
      });
      return;
    }
    if (rt.deleting || this.#stopped) {
      await container.destroy(0);
      return;
    }
    c.cgroup = rt.cgroup?.existingChild(c.name);
    const startedAt = now();
    c.logs = new LogBuffer();
    c.proc = new ContainerProcess(container, c.logs, startedAt);
    c.waiting = undefined;
    const proc = c.proc;
    void proc.closed.then((exit) => this.#containerExited(rt, c, proc, exit));
    this.#setStatus(rt, c, { state: { running: { startedAt } } });
  }

  /**
   * The kubelet's namespace choices: the pod's network; IPC and UTS of the pause container; PID of
   * the pause container with shareProcessNamespace, of the target for an ephemeral container with
   * targetContainerName, else a new one.
   */
  #namespacesOf(rt: PodRuntime, c: ContainerRuntime, pod: Pod): { network: string; ipc?: string; uts?: string; pid?: string } {
    const pausePid = rt.pause!.pid;
    const shared = pod.spec['shareProcessNamespace'] === true;
    let pid: string | undefined;
    if (shared) pid = `/proc/${pausePid}/ns/pid`;
    else if (c.ephemeral && c.spec.targetContainerName) {
      // #startContainer checked that the target runs.
      pid = `/proc/${rt.containers.get(c.spec.targetContainerName)!.proc!.container.pid}/ns/pid`;
    }
    return { network: `/var/run/netns/${rt.netns!.name}`, ipc: `/proc/${pausePid}/ns/ipc`, uts: `/proc/${pausePid}/ns/uts`, ...(pid ? { pid } : {}) };
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
      imageID: c.containerID && c.image && !state.waiting ? `${c.image.ref.replace(/[:@][^/]*$/, '')}@${c.image.id}` : '',
      ...(c.containerID && !state.waiting ? { containerID: c.containerID } : {}),
      ready: !c.ephemeral && running,
      restartCount: c.restartCount,
      state,
      lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
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

  /** Phase and conditions from the app containers (a container that will restart keeps the pod Running). */
  #derivePhase(pod: Pod, rt: PodRuntime): void {
    const statuses = pod.status.containerStatuses ?? [];
    const allRunning = statuses.length === pod.spec.containers.length && statuses.every((s) => s.state.running);
    const allDone = statuses.length === pod.spec.containers.length && statuses.every((s) => s.state.terminated);
    // A container restarting after a run (lastState set) keeps the pod Running, as the kubelet's phase rule says.
    const anyStarted = statuses.some((s) => s.state.running || s.state.terminated || s.lastState.terminated);
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

  async #containerExited(rt: PodRuntime, c: ContainerRuntime, proc: ContainerProcess, exit: ContainerExit): Promise<void> {
    const terminated = {
      exitCode: exit.exitCode,
      ...(exit.signal ? { signal: exit.exitCode - 128 } : {}),
      // As the kubelet tells it: the kernel's OOM killer took a process of the container.
      reason: exit.oomKilled ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error',
      ...(this.#terminationMessage(c) ? { message: this.#terminationMessage(c) } : {}),
      startedAt: proc.startedAt,
      finishedAt: now(),
      containerID: c.containerID!,
    };
    if (exit.oomKilled) rt.oomKillsOfRemoved += 1;
    c.proc = undefined;
    c.cgroup = undefined;
    // A container ends with its init: what was exec'd into it goes too, and so do its rootfs and cgroup.
    await proc.destroy(0);
    if (rt.deleting || this.#stopped) return;
    const policy = this.pod(rt.namespace, rt.name)?.spec.restartPolicy ?? 'Always';
    const restart = !c.ephemeral && (policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0));
    if (!restart) {
      this.#setStatus(rt, c, { state: { terminated } });
      return;
    }
    c.lastTerminated = terminated;
    c.restartCount += 1;
    c.previousLogs = c.logs;
    const backoff = Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_MS * 2 ** (c.restartCount - 1));
    c.waiting = 'CrashLoopBackOff';
    this.#setStatus(rt, c, {
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(backoff / 1000)}s restarting failed container=${c.name} pod=${rt.name}_${rt.namespace}(${this.pod(rt.namespace, rt.name)?.metadata.uid ?? ''})` } },
    });
    this.#later(rt, backoff, () => void this.#startContainer(rt, c));
  }

  /** What the container wrote to its terminationMessagePath (the kubelet reads at most 4 KiB). */
  #terminationMessage(c: ContainerRuntime): string | undefined {
    const file = c.config?.mounts.find((m) => m.destination === (c.spec.terminationMessagePath ?? '/dev/termination-log'))?.source;
    if (!file) return undefined;
    try {
      const text = readFileSync(file).subarray(0, 4096).toString('utf8');
      return text === '' ? undefined : text;
    } catch {
      return undefined;
    }
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
    // Ephemeral containers first (they may share a target's PID namespace), then the app's, then the pause.
    const all = [...rt.containers.values()].sort((a, b) => Number(b.ephemeral) - Number(a.ephemeral));
    const ephemeral = all.filter((c) => c.ephemeral);
    const regular = all.filter((c) => !c.ephemeral);
    await Promise.all(rt.execs.size > 0 ? [...rt.execs].map((child) => terminate(child, Math.min(graceMs, 1000))) : []);
    for (const group of [ephemeral, regular]) {
      await Promise.all(
        group.map(async (c) => {
          const proc = c.proc;
          if (!proc) return;
          await proc.destroy(graceMs);
          await proc.closed;
        }),
      );
    }
    await rt.pause?.destroy(0);
    await rt.netns?.destroy();
    const left = [...(rt.cgroup?.destroy() ?? []), ...removeCgroupEverywhere(rt.cgroupName)];
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
        if (!rt.netns || !rt.pause) return;
        if (this.isImageKnown(spec.image!)) void this.#startContainer(rt, c);
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
