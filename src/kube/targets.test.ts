import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import { candidacy, parseNamespaces, podMatcher, selectTargets } from './targets.ts';

function pod(namespace: string, name: string, phase = 'Running', deleting = false): k8s.V1Pod {
  return {
    metadata: { namespace, name, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
    status: { phase },
  };
}

test('-n takes repeats and comma lists, trims, drops empties and duplicates; none means the context namespace', () => {
  assert.deepEqual(parseNamespaces(['shop,db', ' web ', 'shop', ''], 'default'), ['shop', 'db', 'web']);
  assert.deepEqual(parseNamespaces('a,b', 'default'), ['a', 'b']);
  assert.deepEqual(parseNamespaces(undefined, 'team'), ['team']);
  assert.deepEqual(parseNamespaces([','], 'team'), ['team']);
});

test('a pod matches by name only when the compiled POD_REGEX says so; none matches any name', () => {
  const m = podMatcher({ namespaces: ['shop'], podRegex: 'web' }, /web/);
  assert.ok(m.matchesName('my-web-1'));
  assert.ok(!m.matchesName('catalogue'));
  assert.ok(podMatcher({ namespaces: 'all' }, null).matchesName('anything'));
});

test('only Running pods that are not being deleted are targets', () => {
  const m = podMatcher({ namespaces: ['shop'], podRegex: 'web' }, /web/);
  assert.equal(candidacy(pod('shop', 'web-1'), m), 'target');
  assert.equal(candidacy(pod('shop', 'web-2', 'Pending'), m), 'not-running');
  assert.equal(candidacy(pod('shop', 'web-3', 'Succeeded'), m), 'not-running');
  assert.equal(candidacy(pod('shop', 'web-4', 'Running', true), m), 'deleting');
  assert.equal(candidacy(pod('shop', 'db-1'), m), 'name');
  assert.equal(candidacy(pod('other', 'web-1'), m), 'scope');
  const targets = selectTargets([pod('shop', 'web-b'), pod('shop', 'web-x', 'Pending'), pod('shop', 'web-a')], m);
  assert.deepEqual(targets.map((p) => p.metadata?.name), ['web-a', 'web-b']);
});

test('no match: the error names the namespaces searched and what was seen', () => {
  const m = podMatcher({ namespaces: ['shop', 'db'], podRegex: 'web', selector: 'tier=front' }, /web/);
  assert.throws(
    () => selectTargets([pod('shop', 'web-1', 'Pending'), pod('shop', 'api-1')], m),
    (e: unknown) => {
      assert.ok(e instanceof SharkError);
      assert.equal(e.code, 'KUBE_NO_TARGETS');
      assert.match(e.message, /in namespaces shop, db/);
      assert.match(e.message, /name matching \/web\/, labels tier=front/);
      assert.match(e.message, /2 pods seen, 1 matching the name, 1 of them not Running/);
      return true;
    },
  );
  assert.throws(() => selectTargets([], podMatcher({ namespaces: 'all' }, null)), /in all namespaces \(no pods there\)/);
});
