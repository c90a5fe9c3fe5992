/**
 * Watches of the cluster during a tap, on client-node's ListWatch (list, then watch from the list's
 * resourceVersion; relist on 410): pods and services feed ClusterNames, and target pods (the label
 * selector applied by the server) tell the tap about new and deleted pods. ListWatch stops on any
 * other error, so each watch is restarted with backoff and the loss and recovery are told once.
 */
import * as k8s from '@kubernetes/client-node';
import type { ClusterNames, PodInfo, ServiceInfo } from '../pipeline/cluster-names.ts';
import { workloadOf } from '../pipeline/cluster-names.ts';
import type { KubeClient } from './client.ts';
import type { NamespaceScope } from './targets.ts';

export function podInfo(pod: k8s.V1Pod): PodInfo {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const labels = pod.metadata?.labels ?? {};
  const name = pod.metadata?.name ?? '';
  return {
    namespace: pod.metadata?.namespace ?? '',
    name,
    ip: pod.status?.podIP ?? '',
    labels,
    workload: workloadOf(name, owner?.kind, owner?.name, labels['pod-template-hash']),
    ...(pod.spec?.hostNetwork ? { hostNetwork: true } : {}),
  };
}

export function serviceInfo(svc: k8s.V1Service): ServiceInfo {
  return {
    namespace: svc.metadata?.namespace ?? '',
    name: svc.metadata?.name ?? '',
    clusterIP: svc.spec?.clusterIP ?? null,
    selector: svc.spec?.selector ?? null,
  };
}

export interface TargetEvents {
  /** A pod of the target watch was added or changed (the tap decides whether it is a target). */
  podChanged(pod: k8s.V1Pod): void;
  podDeleted(pod: k8s.V1Pod): void;
}

export interface ClusterWatchOptions {
  readonly names: ClusterNames;
  /** Where pods and services are watched for names. */
  readonly namesScope: NamespaceScope;
  /** Where target pods are watched (with the selector). */
  readonly targetScope: NamespaceScope;
  readonly selector?: string | undefined;
  readonly targets: TargetEvents;
  readonly notice: (message: string) => void;
}

const MAX_BACKOFF_MS = 30_000;

/** One ListWatch kept alive: restarted after errors with backoff, with a notice on loss and recovery. */
class KeptWatch<T extends k8s.KubernetesObject> {
  readonly #lw: k8s.ListWatch<T>;
  readonly #what: string;
  readonly #notice: (message: string) => void;
  #stopped = false;
  #backoff = 1000;
  #broken = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: KubeClient, path: string, list: () => Promise<k8s.KubernetesListObject<T>>, what: string, notice: (m: string) => void, selector?: string) {
    this.#lw = new k8s.ListWatch<T>(path, client.watcher(), list, false, selector);
    this.#what = what;
    this.#notice = notice;
    this.#lw.on('error', (err: unknown) => this.#failed(err));
    this.#lw.on('connect', () => {
      if (this.#broken) {
        this.#broken = false;
        this.#notice(`watch of ${this.#what} resumed`);
      }
    });
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void {
    this.#lw.on(verb, cb);
  }

  #failed(err: unknown): void {
    if (this.#stopped) return;
    if (!this.#broken) {
      this.#broken = true;
      const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
      this.#notice(`watch of ${this.#what} lost (${text}); retrying`);
    }
    this.#timer = setTimeout(() => {
      if (!this.#stopped) void this.#lw.start();
    }, this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
  }

  /** Resolves once the first list is in and the watch is open. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#lw.start();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    void this.#lw.stop();
  }
}

function podsPath(namespace: string): string {
  return namespace === '' ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
}

function servicesPath(namespace: string): string {
  return namespace === '' ? '/api/v1/services' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`;
}

function scopeNamespaces(scope: NamespaceScope): string[] {
  return scope === 'all' ? [''] : [...scope];
}

export class ClusterWatch {
  readonly #client: KubeClient;
  readonly #o: ClusterWatchOptions;
  readonly #watches: KeptWatch<k8s.KubernetesObject>[] = [];

  constructor(client: KubeClient, options: ClusterWatchOptions) {
    this.#client = client;
    this.#o = options;
  }

  /** Starts every watch; resolves once names hold the current pods and services. */
  async start(): Promise<void> {
    const { names, notice, targets } = this.#o;
    const started: Promise<void>[] = [];
    for (const ns of scopeNamespaces(this.#o.namesScope)) {
      const where = ns === '' ? 'all namespaces' : `namespace ${ns}`;
      const pods = new KeptWatch<k8s.V1Pod>(this.#client, podsPath(ns), () => this.#client.listPodList(ns), `pods in ${where}`, notice);
      pods.on('add', (p) => names.upsertPod(podInfo(p)));
      pods.on('update', (p) => names.upsertPod(podInfo(p)));
      pods.on('delete', (p) => names.deletePod(p.metadata?.namespace ?? '', p.metadata?.name ?? ''));
      const services = new KeptWatch<k8s.V1Service>(this.#client, servicesPath(ns), () => this.#client.listServices(ns), `services in ${where}`, notice);
      services.on('add', (s) => names.upsertService(serviceInfo(s)));
      services.on('update', (s) => names.upsertService(serviceInfo(s)));
      services.on('delete', (s) => names.deleteService(s.metadata?.namespace ?? '', s.metadata?.name ?? ''));
      this.#watches.push(pods as KeptWatch<k8s.KubernetesObject>, services as KeptWatch<k8s.KubernetesObject>);
      // Services are optional (names only): a failure is told by the watch and retried.
      started.push(pods.start(), services.start().catch(() => undefined));
    }
    await Promise.all(started);
    for (const ns of scopeNamespaces(this.#o.targetScope)) {
      const where = ns === '' ? 'all namespaces' : `namespace ${ns}`;
      const selector = this.#o.selector || undefined;
      const pods = new KeptWatch<k8s.V1Pod>(
        this.#client,
        podsPath(ns),
        () => this.#client.listPodList(ns, selector),
        `target pods in ${where}`,
        notice,
        selector,
      );
      pods.on('add', (p) => targets.podChanged(p));
      pods.on('update', (p) => targets.podChanged(p));
      pods.on('delete', (p) => targets.podDeleted(p));
      this.#watches.push(pods as KeptWatch<k8s.KubernetesObject>);
      await pods.start();
    }
  }

  stop(): void {
    for (const w of this.#watches) w.stop();
  }
}
