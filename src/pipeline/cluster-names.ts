/**
 * Names the endpoints of tapped entries from the cluster's pods and services (fed by watches).
 *
 * A pod IP names the pod, the service selecting it (alphabetically first when several do) and its
 * workload; a service clusterIP names the service. Everything is indexed by IP so naming an entry
 * costs two map lookups; the per-pod answer is cached and recomputed only for the pod that changed
 * or, when a service changes, for the pods of that service's namespace (against that service).
 */
import type { Endpoint, Entry } from '../model/entry.ts';

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  /** "" while the pod has no IP yet. */
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Deployment name from an owner ReplicaSet `<deploy>-<hash>`, or the other owner's name (see workloadOf). */
  readonly workload?: string;
  /** hostNetwork pods share their node's IP with every other such pod: that IP names none of them. */
  readonly hostNetwork?: boolean;
}

export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  /** null (or "None"/"" for headless services) when the service has no virtual IP. */
  readonly clusterIP: string | null;
  /** null (or {}) when the service selects no pods (its endpoints are managed by hand). */
  readonly selector: Readonly<Record<string, string>> | null;
}

export interface ClusterName {
  readonly name: string;
  readonly namespace: string;
  readonly pod: string;
  readonly service: string;
}

/** The pod-template-hash part of a Deployment's ReplicaSet name and its pods' names. */
const HASH = '[a-z0-9]{1,10}';
const DEPLOYMENT_POD = new RegExp(`^(.+)-${HASH}-[a-z0-9]{5}$`);

/**
 * The workload a pod belongs to: for a ReplicaSet owner, the Deployment (the owner's name minus its
 * `-<pod-template-hash>`, or, without the owner's name, the pod name `<deploy>-<hash>-<5 chars>`
 * minus its last two parts); for another owner (StatefulSet, DaemonSet, Job), the owner's name;
 * without an owner, the pod's own name.
 */
export function workloadOf(podName: string, ownerKind?: string, ownerName?: string, templateHash?: string): string {
  if (ownerKind === 'ReplicaSet') {
    if (ownerName !== undefined && ownerName !== '') {
      if (templateHash !== undefined && templateHash !== '' && ownerName.endsWith(`-${templateHash}`)) {
        return ownerName.slice(0, -(templateHash.length + 1));
      }
      const cut = ownerName.lastIndexOf('-');
      return cut > 0 ? ownerName.slice(0, cut) : ownerName;
    }
    return DEPLOYMENT_POD.exec(podName)?.[1] ?? podName;
  }
  if (ownerName !== undefined && ownerName !== '') return ownerName;
  return podName;
}

/** Without an explicit workload, a Deployment's pod still tells its name through pod-template-hash. */
function derivedWorkload(pod: PodInfo): string {
  if (pod.workload !== undefined && pod.workload !== '') return pod.workload;
  const hash = pod.labels['pod-template-hash'];
  if (hash !== undefined && hash !== '') {
    const suffix = new RegExp(`^(.+)-${escapeRegExp(hash)}-[a-z0-9]{5}$`).exec(pod.name);
    if (suffix) return suffix[1]!;
  }
  return '';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hasSelector(selector: ServiceInfo['selector']): selector is Readonly<Record<string, string>> {
  return selector !== null && Object.keys(selector).length > 0;
}

function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector)) {
    if (labels[key] !== value) return false;
  }
  return true;
}

function virtualIP(clusterIP: string | null): string | null {
  return clusterIP === null || clusterIP === '' || clusterIP === 'None' ? null : clusterIP;
}

/** The IP that names this pod, if any. */
function indexedIp(p: PodInfo): string | null {
  return p.ip === '' || p.hostNetwork === true ? null : p.ip;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

export class ClusterNames {
  readonly #pods = new Map<string, PodInfo>();
  readonly #podsByNamespace = new Map<string, Set<string>>();
  /**
   * Pods holding each IP, oldest first: an IP is reused once its pod is gone, but the old pod may
   * still be terminating when the new one appears. The newest holder names the IP.
   */
  readonly #podsByIp = new Map<string, string[]>();
  readonly #podNames = new Map<string, ClusterName>();

  readonly #services = new Map<string, ServiceInfo>();
  readonly #servicesByNamespace = new Map<string, Set<string>>();
  readonly #serviceByIp = new Map<string, string>();
  readonly #serviceNames = new Map<string, ClusterName>();

  upsertPod(p: PodInfo): void {
    const key = keyOf(p.namespace, p.name);
    const old = this.#pods.get(key);
    const ip = indexedIp(p);
    // An update keeps the pod's place among the IP's holders: a terminating pod's status updates
    // must not take its IP back from the pod that has just been given it.
    if (old !== undefined && indexedIp(old) !== ip) this.#unindexIp(old, key);
    this.#pods.set(key, p);
    addTo(this.#podsByNamespace, p.namespace, key);
    if (ip !== null) {
      const holders = this.#podsByIp.get(ip);
      if (holders === undefined) this.#podsByIp.set(ip, [key]);
      else if (!holders.includes(key)) holders.push(key);
    }
    this.#podNames.set(key, this.#resolvePod(p));
  }

  deletePod(namespace: string, name: string): void {
    const key = keyOf(namespace, name);
    const old = this.#pods.get(key);
    if (old === undefined) return;
    this.#unindexIp(old, key);
    this.#pods.delete(key);
    this.#podNames.delete(key);
    removeFrom(this.#podsByNamespace, namespace, key);
  }

  upsertService(s: ServiceInfo): void {
    const key = keyOf(s.namespace, s.name);
    const old = this.#services.get(key);
    if (old !== undefined) this.#unindexServiceIp(old, key);
    this.#services.set(key, s);
    addTo(this.#servicesByNamespace, s.namespace, key);
    const ip = virtualIP(s.clusterIP);
    if (ip !== null) this.#serviceByIp.set(ip, key);
    this.#serviceNames.set(key, Object.freeze({ name: s.name, namespace: s.namespace, pod: '', service: s.name }));
    this.#serviceChanged(s.namespace, s.name, s.selector);
  }

  deleteService(namespace: string, name: string): void {
    const key = keyOf(namespace, name);
    const old = this.#services.get(key);
    if (old === undefined) return;
    this.#unindexServiceIp(old, key);
    this.#services.delete(key);
    this.#serviceNames.delete(key);
    removeFrom(this.#servicesByNamespace, namespace, key);
    this.#serviceChanged(namespace, name, null);
  }

  /** Names both endpoints in place (name, namespace, pod, service) and returns the entry. */
  nameEntry(entry: Entry): Entry {
    this.#nameEndpoint(entry.src);
    this.#nameEndpoint(entry.dst);
    return entry;
  }

  /** Lookup for one IP (also used by the TUI/summary). */
  lookup(ip: string): ClusterName | null {
    const holders = this.#podsByIp.get(ip);
    if (holders !== undefined) return this.#podNames.get(holders[holders.length - 1]!) ?? null;
    const service = this.#serviceByIp.get(ip);
    return service === undefined ? null : (this.#serviceNames.get(service) ?? null);
  }

  #nameEndpoint(endpoint: Endpoint): void {
    const found = this.lookup(endpoint.ip);
    if (found === null) {
      // Traffic from a cluster always carries the fields, so filters on them never see "absent".
      endpoint.pod = '';
      endpoint.service = '';
      return;
    }
    endpoint.name = found.name;
    endpoint.namespace = found.namespace;
    endpoint.pod = found.pod;
    endpoint.service = found.service;
  }

  #resolvePod(p: PodInfo): ClusterName {
    let service = '';
    for (const key of this.#servicesByNamespace.get(p.namespace) ?? []) {
      const s = this.#services.get(key)!;
      if (!hasSelector(s.selector) || !selects(s.selector, p.labels)) continue;
      if (service === '' || s.name < service) service = s.name;
    }
    return this.#named(p, service);
  }

  #named(p: PodInfo, service: string): ClusterName {
    const name = service !== '' ? service : derivedWorkload(p) || p.name;
    return Object.freeze({ name, namespace: p.namespace, pod: p.name, service });
  }

  /**
   * One service of the namespace changed (selector null: deleted). Each pod is tested against that
   * service only; the full scan of the namespace's services is needed only for a pod that this
   * service named and no longer selects. A service change thus costs O(pods in the namespace).
   */
  #serviceChanged(namespace: string, service: string, selector: ServiceInfo['selector']): void {
    for (const key of this.#podsByNamespace.get(namespace) ?? []) {
      const p = this.#pods.get(key)!;
      const current = this.#podNames.get(key)!;
      const matches = hasSelector(selector) && selects(selector, p.labels);
      if (matches) {
        if (current.service === '' || service < current.service) this.#podNames.set(key, this.#named(p, service));
      } else if (current.service === service) {
        this.#podNames.set(key, this.#resolvePod(p));
      }
    }
  }

  #unindexIp(p: PodInfo, key: string): void {
    const ip = indexedIp(p);
    const holders = ip === null ? undefined : this.#podsByIp.get(ip);
    if (ip === null || holders === undefined) return;
    const at = holders.indexOf(key);
    if (at >= 0) holders.splice(at, 1);
    if (holders.length === 0) this.#podsByIp.delete(ip);
  }

  #unindexServiceIp(s: ServiceInfo, key: string): void {
    const ip = virtualIP(s.clusterIP);
    if (ip !== null && this.#serviceByIp.get(ip) === key) this.#serviceByIp.delete(ip);
  }
}
