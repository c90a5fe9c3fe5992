/**
 * Names endpoints by IP. For capture files the names come from pcapng name-resolution records;
 * for live taps the cluster's pods and services will feed the same table.
 * A name of the form `<name>.<namespace>.svc.cluster.local` (or `.pod.`) is split into the two fields.
 */
import type { Endpoint, Entry } from '../model/entry.ts';

export interface ResolvedName {
  readonly name: string;
  readonly namespace: string;
}

const CLUSTER_NAME = /^([^.]+)\.([^.]+)\.(?:svc|pod)\.cluster\.local\.?$/;

export function splitClusterName(fqdn: string): ResolvedName {
  const m = CLUSTER_NAME.exec(fqdn);
  return m ? { name: m[1]!, namespace: m[2]! } : { name: fqdn, namespace: '' };
}

export class NameTable {
  #byIp = new Map<string, ResolvedName>();

  /** The first name recorded for an address wins, as in Wireshark's name resolution. */
  add(ip: string, names: readonly string[]): void {
    const first = names[0];
    if (first === undefined || first === '' || this.#byIp.has(ip)) return;
    this.#byIp.set(ip, splitClusterName(first));
  }

  get size(): number {
    return this.#byIp.size;
  }

  lookup(ip: string): ResolvedName | undefined {
    return this.#byIp.get(ip);
  }

  /** Fills empty names of the entry's endpoints in place. */
  nameEntry(entry: Entry): Entry {
    this.#nameEndpoint(entry.src);
    this.#nameEndpoint(entry.dst);
    return entry;
  }

  #nameEndpoint(endpoint: Endpoint): void {
    if (endpoint.name !== '') return;
    const found = this.#byIp.get(endpoint.ip);
    if (found === undefined) return;
    endpoint.name = found.name;
    if (endpoint.namespace === '') endpoint.namespace = found.namespace;
  }
}
