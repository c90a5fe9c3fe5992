import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameTable, splitClusterName } from './naming.ts';

test('cluster DNS names split into name and namespace', () => {
  assert.deepEqual(splitClusterName('front-end.sock-shop.pod.cluster.local'), { name: 'front-end', namespace: 'sock-shop' });
  assert.deepEqual(splitClusterName('carts.sock-shop.svc.cluster.local.'), { name: 'carts', namespace: 'sock-shop' });
  assert.deepEqual(splitClusterName('www.example.com'), { name: 'www.example.com', namespace: '' });
});

test('the first name recorded for an address wins and fills only empty endpoint names', () => {
  const names = new NameTable();
  names.add('10.0.0.1', ['a.ns1.svc.cluster.local', 'other']);
  names.add('10.0.0.1', ['b.ns2.svc.cluster.local']);
  names.add('10.0.0.3', []);
  assert.equal(names.size, 1);
  const src = { ip: '10.0.0.1', port: 1, name: '', namespace: '' };
  const dst = { ip: '10.0.0.2', port: 2, name: 'kept', namespace: '' };
  names.nameEntry({ src, dst } as Parameters<NameTable['nameEntry']>[0]);
  assert.deepEqual(src, { ip: '10.0.0.1', port: 1, name: 'a', namespace: 'ns1' });
  assert.equal(dst.name, 'kept');
});
