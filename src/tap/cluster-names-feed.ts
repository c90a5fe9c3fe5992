/**
 * The cluster's pods and services, as kube's ClusterWatch hands them over, turned into the
 * pipeline's ClusterNames (IP -> pod/service/workload) that name the endpoints of entries.
 */
import type * as k8s from '@kubernetes/client-node';
import type { NameEvents } from '../kube/cluster-watch.ts';
import { workloadOf, type ClusterNames, type PodInfo, type ServiceInfo } from '../pipeline/cluster-names.ts';

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

/** Name events that keep `names` up to date. */
export function feedClusterNames(names: ClusterNames): NameEvents {
  return {
    podChanged: (pod) => names.upsertPod(podInfo(pod)),
    podDeleted: (pod) => names.deletePod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? ''),
    serviceChanged: (svc) => names.upsertService(serviceInfo(svc)),
    serviceDeleted: (svc) => names.deleteService(svc.metadata?.namespace ?? '', svc.metadata?.name ?? ''),
  };
}
