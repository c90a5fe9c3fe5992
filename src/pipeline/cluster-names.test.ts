import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Endpoint, Entry } from '../model/entry.ts';
import { HTTP1_1 } from '../remote-agent/dissect/http1/entry.ts';
import { ClusterNames, workloadOf, type PodInfo } from './cluster-names.ts';

function pod(name: string, ip: string, labels: Record<string, string> = {}, extra: Partial<PodInfo> = {}): PodInfo {
  return { namespace: 'shop', name, ip, labels, ...extra };
}

function entry(srcIp: string, dstIp: string): Entry {
  const endpoint = (ip: string, port: number): Endpoint => ({ ip, port, name: '', namespace: '' });
  return { id: '0-0', protocol: HTTP1_1, src: endpoint(srcIp, 40000), dst: endpoint(dstIp, 80) } as Entry;
}

test('workloadOf: a ReplicaSet owner names its Deployment; other owners name themselves; no owner: the pod', () => {
  assert.equal(workloadOf('front-end-7d4b9c8f5-x2x9q', 'ReplicaSet', 'front-end-7d4b9c8f5'), 'front-end');
  assert.equal(workloadOf('web-api-5d8f7b9c6d-abcde', 'ReplicaSet', 'web-api-5d8f7b9c6d', '5d8f7b9c6d'), 'web-api');
  assert.equal(workloadOf('x-abcde', 'ReplicaSet', 'standalone'), 'standalone');
  // Without the owner's name, the pod name pattern <deploy>-<hash>-<5 chars> still tells it.
  assert.equal(workloadOf('cart-svc-86c7b5b6d7-q8k2z', 'ReplicaSet'), 'cart-svc');
  assert.equal(workloadOf('odd', 'ReplicaSet'), 'odd');
  assert.equal(workloadOf('db-0', 'StatefulSet', 'db'), 'db');
  assert.equal(workloadOf('node-exporter-4kx2p', 'DaemonSet', 'node-exporter'), 'node-exporter');
  assert.equal(workloadOf('debug'), 'debug');
});

test('a pod IP names the pod, the selecting service and the namespace; the service wins the name', () => {
  const names = new ClusterNames();
  names.upsertPod(pod('catalogue-6b9c8d7f5-abcde', '10.244.0.5', { app: 'catalogue', tier: 'api' }, { workload: 'catalogue' }));
  names.upsertService({ namespace: 'shop', name: 'catalogue-svc', clusterIP: '10.96.0.10', selector: { app: 'catalogue' } });
  assert.deepEqual({ ...names.lookup('10.244.0.5') }, { name: 'catalogue-svc', namespace: 'shop', pod: 'catalogue-6b9c8d7f5-abcde', service: 'catalogue-svc' });
});

test('without a service the workload names the pod, and without a workload the pod name does', () => {
  const names = new ClusterNames();
  names.upsertPod(pod('front-end-7d4b9c8f5-x2x9q', '10.244.0.2', {}, { workload: 'front-end' }));
  names.upsertPod(pod('lonely', '10.244.0.3'));
  // A Deployment's pod tells its workload through pod-template-hash even when none was given.
  names.upsertPod(pod('orders-5d8f7b9c6d-k2j4m', '10.244.0.4', { 'pod-template-hash': '5d8f7b9c6d' }));
  assert.equal(names.lookup('10.244.0.2')?.name, 'front-end');
  assert.equal(names.lookup('10.244.0.2')?.service, '');
  assert.equal(names.lookup('10.244.0.3')?.name, 'lonely');
  assert.equal(names.lookup('10.244.0.4')?.name, 'orders');
});

test('service selectors: all labels must match, the same namespace only, no selector matches nothing, first name wins', () => {
  const names = new ClusterNames();
  names.upsertPod(pod('db-0', '10.244.0.9', { app: 'db', role: 'primary' }));
  names.upsertService({ namespace: 'shop', name: 'replica', clusterIP: null, selector: { app: 'db', role: 'replica' } });
  names.upsertService({ namespace: 'other', name: 'aaa', clusterIP: null, selector: { app: 'db' } });
  names.upsertService({ namespace: 'shop', name: 'manual', clusterIP: '10.96.0.2', selector: null });
  names.upsertService({ namespace: 'shop', name: 'empty', clusterIP: '10.96.0.3', selector: {} });
  assert.equal(names.lookup('10.244.0.9')?.service, '');
  names.upsertService({ namespace: 'shop', name: 'zeta', clusterIP: null, selector: { app: 'db' } });
  names.upsertService({ namespace: 'shop', name: 'db', clusterIP: 'None', selector: { app: 'db' } });
  assert.equal(names.lookup('10.244.0.9')?.service, 'db');
  assert.equal(names.lookup('10.244.0.9')?.name, 'db');
  names.deleteService('shop', 'db');
  assert.equal(names.lookup('10.244.0.9')?.service, 'zeta');
  names.upsertService({ namespace: 'shop', name: 'zeta', clusterIP: null, selector: { app: 'nope' } });
  assert.equal(names.lookup('10.244.0.9')?.service, '');
  assert.equal(names.lookup('10.244.0.9')?.name, 'db-0');
});

test('a clusterIP names the service with no pod; headless services have no IP to name', () => {
  const names = new ClusterNames();
  names.upsertService({ namespace: 'shop', name: 'carts', clusterIP: '10.96.0.20', selector: { app: 'carts' } });
  names.upsertService({ namespace: 'shop', name: 'headless', clusterIP: 'None', selector: { app: 'x' } });
  assert.deepEqual({ ...names.lookup('10.96.0.20') }, { name: 'carts', namespace: 'shop', pod: '', service: 'carts' });
  assert.equal(names.lookup('None'), null);
  // A changed clusterIP frees the old one.
  names.upsertService({ namespace: 'shop', name: 'carts', clusterIP: '10.96.0.21', selector: { app: 'carts' } });
  assert.equal(names.lookup('10.96.0.20'), null);
  assert.equal(names.lookup('10.96.0.21')?.service, 'carts');
  names.deleteService('shop', 'carts');
  assert.equal(names.lookup('10.96.0.21'), null);
});

test('nameEntry names both ends; an unknown IP keeps its fields and gets empty pod and service', () => {
  const names = new ClusterNames();
  names.upsertPod(pod('front-end-1', '10.244.0.2', { app: 'front-end' }));
  names.upsertService({ namespace: 'shop', name: 'front-end', clusterIP: '10.96.0.1', selector: { app: 'front-end' } });
  const e = names.nameEntry(entry('10.244.0.2', '93.184.216.34'));
  assert.deepEqual(e.src, { ip: '10.244.0.2', port: 40000, name: 'front-end', namespace: 'shop', pod: 'front-end-1', service: 'front-end' });
  assert.deepEqual(e.dst, { ip: '93.184.216.34', port: 80, name: '', namespace: '', pod: '', service: '' });
});

test('a reused pod IP names the new pod; deleting the old pod later leaves the new mapping alone', () => {
  const names = new ClusterNames();
  names.upsertPod(pod('old', '10.244.0.7'));
  names.upsertPod(pod('new', '10.244.0.7'));
  assert.equal(names.lookup('10.244.0.7')?.pod, 'new');
  // The terminating pod's status updates do not take the IP back.
  names.upsertPod(pod('old', '10.244.0.7', { terminating: 'yes' }));
  assert.equal(names.lookup('10.244.0.7')?.pod, 'new');
  names.deletePod('shop', 'old');
  assert.equal(names.lookup('10.244.0.7')?.pod, 'new');
  names.deletePod('shop', 'new');
  assert.equal(names.lookup('10.244.0.7'), null);
  names.deletePod('shop', 'never-there');
});

test('deleting the newest holder of an IP gives it back to a pod still holding it', () => {
  const names = new ClusterNames();
  names.upsertPod(pod('a', '10.244.0.8'));
  names.upsertPod(pod('b', '10.244.0.8'));
  names.deletePod('shop', 'b');
  assert.equal(names.lookup('10.244.0.8')?.pod, 'a');
});

test('a pod that changes IP or loses it frees the old IP; hostNetwork pods name no IP', () => {
  const names = new ClusterNames();
  names.upsertPod(pod('p', ''));
  assert.equal(names.lookup(''), null);
  names.upsertPod(pod('p', '10.244.0.11'));
  names.upsertPod(pod('p', '10.244.0.12'));
  assert.equal(names.lookup('10.244.0.11'), null);
  assert.equal(names.lookup('10.244.0.12')?.pod, 'p');
  names.upsertPod(pod('kube-proxy-x', '172.18.0.2', {}, { hostNetwork: true }));
  assert.equal(names.lookup('172.18.0.2'), null);
});

test('label changes on a pod re-resolve its service at once', () => {
  const names = new ClusterNames();
  names.upsertService({ namespace: 'shop', name: 'carts', clusterIP: '10.96.0.20', selector: { app: 'carts' } });
  names.upsertPod(pod('p', '10.244.0.30', { app: 'orders' }));
  assert.equal(names.lookup('10.244.0.30')?.service, '');
  names.upsertPod(pod('p', '10.244.0.30', { app: 'carts' }));
  assert.equal(names.lookup('10.244.0.30')?.service, 'carts');
});

test('many pods and services: a service change recomputes its namespace only, quickly', () => {
  const names = new ClusterNames();
  for (let ns = 0; ns < 20; ns++) {
    for (let i = 0; i < 500; i++) {
      names.upsertPod({ namespace: `ns${ns}`, name: `p${i}`, ip: `10.${ns}.${i >> 8}.${i & 255}`, labels: { app: `a${i % 50}` } });
    }
  }
  const started = performance.now();
  for (let i = 0; i < 50; i++) names.upsertService({ namespace: 'ns3', name: `s${i}`, clusterIP: `10.96.3.${i}`, selector: { app: `a${i}` } });
  const elapsed = performance.now() - started;
  assert.equal(names.lookup('10.3.0.7')?.service, 's7');
  assert.equal(names.lookup('10.4.0.7')?.service, '');
  assert.ok(elapsed < 1000, `50 services over 500 pods took ${elapsed} ms`);
});
