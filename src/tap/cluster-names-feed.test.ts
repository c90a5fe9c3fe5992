import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { ClusterNames } from '../pipeline/cluster-names.ts';
import { feedClusterNames, podInfo } from './cluster-names-feed.ts';

function pod(name: string, ip: string, owner?: { kind: string; name: string }, labels: Record<string, string> = {}): k8s.V1Pod {
  return {
    metadata: { namespace: 'shop', name, labels, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'u', controller: true }] } : {}) },
    status: { podIP: ip },
  };
}

test("kube's pods and services, fed to ClusterNames: a service names its pods' IPs, the workload names the rest; deletes forget", () => {
  const names = new ClusterNames();
  const feed = feedClusterNames(names);
  const catalogue = pod('catalogue-6b9c8d7f5-abcde', '10.244.0.5', { kind: 'ReplicaSet', name: 'catalogue-6b9c8d7f5' }, { app: 'catalogue', 'pod-template-hash': '6b9c8d7f5' });
  assert.equal(podInfo(catalogue).workload, 'catalogue');
  feed.podChanged(catalogue);
  feed.podChanged(pod('debug', '10.244.0.9'));
  assert.equal(names.lookup('10.244.0.5')?.name, 'catalogue');
  const service: k8s.V1Service = { metadata: { namespace: 'shop', name: 'catalogue-svc' }, spec: { clusterIP: '10.96.0.10', selector: { app: 'catalogue' } } };
  feed.serviceChanged(service);
  assert.deepEqual({ ...names.lookup('10.244.0.5') }, { name: 'catalogue-svc', namespace: 'shop', pod: 'catalogue-6b9c8d7f5-abcde', service: 'catalogue-svc' });
  assert.equal(names.lookup('10.96.0.10')?.name, 'catalogue-svc');
  assert.equal(names.lookup('10.244.0.9')?.name, 'debug');
  feed.serviceDeleted(service);
  assert.equal(names.lookup('10.244.0.5')?.name, 'catalogue');
  feed.podDeleted(catalogue);
  assert.equal(names.lookup('10.244.0.5'), null);
});
