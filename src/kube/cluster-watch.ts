/**
 * Watches of the cluster during a tap, on client-node's ListWatch (list, then watch from the list's
 * resourceVersion; relist on 410): pods and services go, as Kubernetes objects, to the caller's
 * name events (src/tap turns them into ClusterNames), and target pods (the label selector applied
 * by the server) tell the tap about new and deleted pods. ListWatch stops on any
 * other error, so each watch is restarted: after an API server outage once the ApiHealth finds it
 * answering again, else with backoff, the loss and recovery told once.
 */
import * as k8s from '@kubernetes/client-node';
import type { ApiHealth } from './api-health.ts';
import type { KubeClient } from './client.ts';
import type { NamespaceScope } from './targets.ts';

/** Every pod and service where names are watched, as the API server gives them. */
export interface NameEvents {
  podChanged(pod: k8s.V1Pod): void;
  podDeleted(pod: k8s.V1Pod): void;
  serviceChanged(service: k8s.V1Service): void;
  serviceDeleted(service: k8s.V1Service): void;
}

export interface TargetEvents {
  /** A pod of the target watch was added or changed (the tap decides whether it is a target). */
  podChanged(pod: k8s.V1Pod): void;
  podDeleted(pod: k8s.V1Pod): void;
}

export interface ClusterWatchOptions {
  readonly names: NameEvents;
  /** Where pods and services are watched for names. */
  readonly namesScope: NamespaceScope;
  /** Where target pods are watched (with the selector). */
  readonly targetScope: NamespaceScope;
  readonly selector?: string | undefined;
  readonly targets: TargetEvents;
  readonly notice: (message: string) => void;
  /** Where an API server outage is told and waited out. */
  readonly health: ApiHealth;
}

const MAX_BACKOFF_MS = 30_000;
const FIRST_BACKOFF_MS = 1000;

/**
 * One ListWatch kept alive. ListWatch stops on any error but a 410. An API server outage is told to
 * the ApiHealth and waited out there (one probe for everyone); any other error is retried here with
 * backoff, told once when it starts and once when a restart is answered, never on a mere attempt
 * (ListWatch's 'connect' fires before its list is even sent).
 */
class KeptWatch<T extends k8s.KubernetesObject> {
  readonly #lw: k8s.ListWatch<T>;
  readonly #what: string;
  readonly #notice: (message: string) => void;
  readonly #health: ApiHealth;
  #stopped = false;
  #backoff = FIRST_BACKOFF_MS;
  #broken = false;
  /** A restart is already scheduled or awaited: further errors of the same failure change nothing. */
  #pending = false;
  /** Errors seen so far: a start that saw none was answered. */
  #errors = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: KubeClient, path: string, list: () => Promise<k8s.KubernetesListObject<T>>, what: string, o: { notice: (m: string) => void; health: ApiHealth; selector?: string | undefined }) {
    this.#lw = new k8s.ListWatch<T>(path, client.watcher(), list, false, o.selector);
    this.#what = what;
    this.#notice = o.notice;
    this.#health = o.health;
    this.#lw.on('error', (err: unknown) => {
      this.#errors++;
      this.#failed(err);
    });
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void {
    this.#lw.on(verb, cb);
  }

  #failed(err: unknown): void {
    if (this.#stopped || this.#pending) return;
    this.#pending = true;
    if (this.#health.failed(err)) {
      void this.#health.whenUp().then(() => this.#restart());
      return;
    }
    if (!this.#broken) {
      this.#broken = true;
      const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
      this.#notice(`watch of ${this.#what} lost (${text}); retrying`);
    }
    this.#timer = setTimeout(() => this.#restart(), this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
  }

  #restart(): void {
    this.#pending = false;
    if (this.#stopped) return;
    this.#start().catch((err: unknown) => this.#failed(err));
  }

  /** Starts (or restarts) the ListWatch; a start that saw no error was answered: list and watch. */
  async #start(): Promise<void> {
    const before = this.#errors;
    await this.#lw.start();
    if (this.#stopped || this.#errors !== before) return;
    this.#backoff = FIRST_BACKOFF_MS;
    this.#health.succeeded();
    if (this.#broken) {
      this.#broken = false;
      this.#notice(`watch of ${this.#what} resumed`);
    }
  }

  /** Resolves once the first list is in and the watch is open. */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#start();
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

  /** Starts every watch; resolves once the current pods and services were given to the name events. */
  async start(): Promise<void> {
    const { names, notice, targets, health } = this.#o;
    const started: Promise<void>[] = [];
    for (const ns of scopeNamespaces(this.#o.namesScope)) {
      const where = ns === '' ? 'all namespaces' : `namespace ${ns}`;
      const pods = new KeptWatch<k8s.V1Pod>(this.#client, podsPath(ns), () => this.#client.listPodList(ns), `pods in ${where}`, { notice, health });
      pods.on('add', (p) => names.podChanged(p));
      pods.on('update', (p) => names.podChanged(p));
      pods.on('delete', (p) => names.podDeleted(p));
      const services = new KeptWatch<k8s.V1Service>(this.#client, servicesPath(ns), () => this.#client.listServices(ns), `services in ${where}`, { notice, health });
      services.on('add', (s) => names.serviceChanged(s));
      services.on('update', (s) => names.serviceChanged(s));
      services.on('delete', (s) => names.serviceDeleted(s));
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
        { notice, health, selector },
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
