/**
 * Server-side printing (meta.k8s.io/v1 Table) as `kubectl get` asks for it, with the columns of
 * the apiserver's printers for the resources the sandbox serves.
 */
import type { Endpoints, KObject, Namespace, Pod, ResourceName, Service } from './kobj.ts';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

function col(name: string, priority = 0, format = '', type = 'string'): Column {
  return { name, type, format, description: `${name} of the object`, priority };
}

const COLUMNS: Record<ResourceName, Column[]> = {
  pods: [
    col('Name', 0, 'name'),
    col('Ready'),
    col('Status'),
    col('Restarts', 0, '', 'string'),
    col('Age'),
    col('IP', 1),
    col('Node', 1),
    col('Nominated Node', 1),
    col('Readiness Gates', 1),
  ],
  services: [col('Name', 0, 'name'), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), col('Age'), col('Selector', 1)],
  endpoints: [col('Name', 0, 'name'), col('Endpoints'), col('Age')],
  namespaces: [col('Name', 0, 'name'), col('Status'), col('Age')],
  nodes: [
    col('Name', 0, 'name'),
    col('Status'),
    col('Roles'),
    col('Age'),
    col('Version'),
    col('Internal-IP', 1),
    col('External-IP', 1),
    col('OS-Image', 1),
    col('Kernel-Version', 1),
    col('Container-Runtime', 1),
  ],
};

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function age(obj: KObject): string {
  return humanDuration(Date.now() - Date.parse(obj.metadata.creationTimestamp));
}

/** The STATUS column of `kubectl get pods` (printPod). */
export function podStatusText(pod: Pod): string {
  let reason = pod.status.reason ?? pod.status.phase;
  for (const cs of [...(pod.status.containerStatuses ?? [])].reverse()) {
    const s = cs.state;
    if (s.waiting?.reason) reason = s.waiting.reason;
    else if (s.terminated?.reason) reason = s.terminated.reason;
    else if (s.terminated) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
  }
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return reason;
}

function podCells(pod: Pod): unknown[] {
  const statuses = pod.status.containerStatuses ?? [];
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((n, c) => n + c.restartCount, 0);
  // printPod: "N (AGE ago)", the age of the latest restart (lastState's finishedAt) once there is one.
  const lastRestart = Math.max(...statuses.map((c) => Date.parse(c.lastState.terminated?.finishedAt ?? '') || 0), 0);
  return [
    pod.metadata.name,
    `${ready}/${pod.spec.containers.length}`,
    podStatusText(pod),
    restarts > 0 && lastRestart > 0 ? `${restarts} (${humanDuration(Date.now() - lastRestart)} ago)` : String(restarts),
    age(pod),
    pod.status.podIP ?? '<none>',
    pod.spec.nodeName ?? '<none>',
    pod.status.nominatedNodeName ?? '<none>',
    '<none>',
  ];
}

function serviceCells(svc: Service): unknown[] {
  const ports = svc.spec.ports.map((p) => `${p.port}/${p.protocol}`).join(',') || '<none>';
  const selector = Object.entries(svc.spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
  return [svc.metadata.name, svc.spec.type, svc.spec.clusterIP, '<none>', ports, age(svc), selector];
}

function endpointsCells(ep: Endpoints): unknown[] {
  const list: string[] = [];
  for (const s of ep.subsets ?? []) {
    for (const a of s.addresses ?? []) for (const p of s.ports ?? []) list.push(`${a.ip}:${p.port}`);
  }
  const shown = list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
  return [ep.metadata.name, shown || '<none>', age(ep)];
}

function namespaceCells(ns: Namespace): unknown[] {
  return [ns.metadata.name, ns.status.phase, age(ns)];
}

function nodeCells(node: KObject): unknown[] {
  const status = node['status'] as { addresses?: { type: string; address: string }[]; nodeInfo?: Record<string, string> };
  const internal = status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '<none>';
  const info = status.nodeInfo ?? {};
  return [node.metadata.name, 'Ready', 'control-plane', age(node), info['kubeletVersion'] ?? '', internal, '<none>', info['osImage'] ?? '', info['kernelVersion'] ?? '', info['containerRuntimeVersion'] ?? ''];
}

function cells(resource: ResourceName, obj: KObject): unknown[] {
  switch (resource) {
    case 'pods':
      return podCells(obj as Pod);
    case 'services':
      return serviceCells(obj as Service);
    case 'endpoints':
      return endpointsCells(obj as Endpoints);
    case 'namespaces':
      return namespaceCells(obj as Namespace);
    case 'nodes':
      return nodeCells(obj);
  }
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: Column[];
  rows: { cells: unknown[]; object: { kind: 'PartialObjectMetadata'; apiVersion: 'meta.k8s.io/v1'; metadata: KObject['metadata'] } }[];
}

export function toTable(resource: ResourceName, objects: readonly KObject[], meta: Table['metadata'], withColumns = true): Table {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: withColumns ? COLUMNS[resource] : [],
    rows: objects.map((o) => ({
      cells: cells(resource, o),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}
