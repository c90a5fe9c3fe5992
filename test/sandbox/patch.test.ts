/** Patch flavours and the apiserver's ephemeral-container validation / PodSecurity, without a cluster. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.ts';
import type { Container, Pod } from './kobj.ts';
import { applyPatch, mergePatch, strategicMerge, type JsonValue } from './patch.ts';
import { defaultContainer, ephemeralInvalid, podSecurityError, validateEphemeralUpdate } from './validation.ts';

function pod(ephemeral: Container[] = []): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'nginx', image: 'nginx:1' }, { name: 'sidecar', image: 'busybox:1.36' }], ...(ephemeral.length ? { ephemeralContainers: ephemeral } : {}) },
    status: { phase: 'Running' },
  };
}

const debuggerC = defaultContainer({ name: 'debugger-a', image: 'busybox:1.36', targetContainerName: 'nginx' });

function ephemeralAfter(p: Pod, kind: 'strategic' | 'merge' | 'json', body: unknown): Container[] {
  const out = applyPatch(p as unknown as JsonValue, kind, JSON.stringify(body)) as unknown as Pod;
  return (out.spec.ephemeralContainers ?? []).map(defaultContainer);
}

test('strategic merge adds to ephemeralContainers by name and keeps the rest of the pod', () => {
  const p = pod([debuggerC]);
  const list = ephemeralAfter(p, 'strategic', {
    spec: { '$setElementOrder/ephemeralContainers': [{ name: 'debugger-a' }, { name: 'debugger-b' }], ephemeralContainers: [{ name: 'debugger-b', image: 'busybox:1.36' }] },
  });
  assert.deepEqual(list.map((c) => c.name), ['debugger-a', 'debugger-b']);
  assert.deepEqual(list[0], debuggerC, 'the existing one is untouched');
  assert.deepEqual(validateEphemeralUpdate(p, list), []);
  // Re-sending an existing entry unchanged is a no-op.
  assert.deepEqual(ephemeralAfter(p, 'strategic', { spec: { ephemeralContainers: [{ name: 'debugger-a', image: 'busybox:1.36' }] } }), [debuggerC]);
});

test('strategic merge directives: $patch delete/replace and null', () => {
  const doc = { spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'b', image: 'y' }], extra: 1 } } as JsonValue;
  assert.deepEqual(strategicMerge(doc, { spec: { containers: [{ name: 'b', $patch: 'delete' }], extra: null } }), {
    spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }] },
  });
  assert.deepEqual(strategicMerge(doc, { spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '2' }] }] } }), {
    spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'b', image: 'y' }], extra: 1 },
  });
  assert.deepEqual(strategicMerge(doc, { spec: { containers: [{ $patch: 'replace' }, { name: 'c', image: 'z' }] } }), {
    spec: { containers: [{ name: 'c', image: 'z' }], extra: 1 },
  });
});

test('merge patch replaces the list: leaving out an existing entry is "may not be removed"', () => {
  const p = pod([debuggerC]);
  assert.deepEqual(mergePatch({ a: { b: 1, c: 2 } }, { a: { b: null, d: 3 } }), { a: { c: 2, d: 3 } });
  const list = ephemeralAfter(p, 'merge', { spec: { ephemeralContainers: [{ name: 'debugger-b', image: 'busybox:1.36' }] } });
  const err = ephemeralInvalid(p, validateEphemeralUpdate(p, list));
  assert.equal(err.code, 422);
  assert.equal(err.message, 'Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-a" may not be removed');
});

test('JSON patch: real operations, a missing list, and an object body', () => {
  const p = pod([debuggerC]);
  const list = ephemeralAfter(p, 'json', [{ op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'debugger-b', image: 'busybox:1.36' } }]);
  assert.deepEqual(list.map((c) => c.name), ['debugger-a', 'debugger-b']);
  // The list is omitted when empty, so appending to it fails like on a real apiserver.
  assert.throws(
    () => applyPatch(pod() as unknown as JsonValue, 'json', JSON.stringify([{ op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'x' } }])),
    (err: unknown) => err instanceof StatusError && err.code === 422 && err.body.details?.causes?.[0]?.message.includes('missing path') === true,
  );
  assert.throws(
    () => applyPatch(pod() as unknown as JsonValue, 'json', JSON.stringify({ spec: {} })),
    (err: unknown) =>
      err instanceof StatusError &&
      err.code === 400 &&
      err.message === 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp',
  );
  const tested = applyPatch({ a: [1, 2] }, 'json', JSON.stringify([{ op: 'test', path: '/a/1', value: 2 }, { op: 'replace', path: '/a/0', value: 9 }, { op: 'copy', from: '/a', path: '/b' }, { op: 'remove', path: '/a/1' }]));
  assert.deepEqual(tested, { a: [9], b: [9, 2] });
  assert.throws(() => applyPatch({ a: 1 }, 'json', JSON.stringify([{ op: 'test', path: '/a', value: 2 }])), /rejected our request/);
});

test('validation: duplicate and invalid names, missing target, forbidden fields, changed entries', () => {
  const p = pod([debuggerC]);
  const next = [
    { ...debuggerC, image: 'busybox:1.37' },
    defaultContainer({ name: 'nginx', image: 'busybox:1.36' }),
    defaultContainer({ name: 'Bad_Name', image: 'busybox:1.36', targetContainerName: 'nope' }),
    defaultContainer({ name: 'probe', image: '', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } }, lifecycle: { preStop: {} }, readinessProbe: { exec: {} } }),
    defaultContainer({ name: 'ok', image: 'busybox:1.36', resources: {} }),
  ];
  const errors = validateEphemeralUpdate(p, next);
  const text = errors.map((e) => `${e.field}: ${e.body}`);
  assert.ok(text.includes('spec.ephemeralContainers[1].name: Duplicate value: "nginx"'), text.join('\n'));
  assert.ok(text.some((t) => t.startsWith('spec.ephemeralContainers[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label')));
  assert.ok(text.includes('spec.ephemeralContainers[2].targetContainerName: Not found: "nope"'));
  assert.ok(text.includes('spec.ephemeralContainers[3].image: Required value'));
  for (const f of ['ports', 'resources', 'readinessProbe', 'lifecycle']) {
    assert.ok(text.includes(`spec.ephemeralContainers[3].${f}: Forbidden: cannot be set for an Ephemeral Container`), f);
  }
  assert.ok(!text.some((t) => t.startsWith('spec.ephemeralContainers[4]')), 'empty resources are fine');
  assert.ok(text.includes('spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-a" may not be changed'));
  const err = ephemeralInvalid(p, errors.slice(0, 1));
  assert.deepEqual(err.body.details, { name: 'web', kind: 'Pod', causes: [{ reason: errors[0]!.reason, message: errors[0]!.body, field: errors[0]!.field }] });
  assert.match(ephemeralInvalid(p, errors).message, /^Pod "web" is invalid: \[.*, .*\]$/);
});

test('PodSecurity: baseline rejects NET_ADMIN/NET_RAW and privileged; restricted wants more', () => {
  const net = pod([defaultContainer({ name: 'debugger-x', image: 'busybox:1.36', securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW', 'CHOWN'] } } })]);
  assert.equal(
    podSecurityError(net, 'baseline')?.message,
    'pods "web" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "debugger-x" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add)',
  );
  assert.deepEqual(podSecurityError(net, 'baseline')?.body.details, { name: 'web', kind: 'pods' });
  assert.equal(podSecurityError(net, 'privileged'), undefined);
  const allowed = pod([defaultContainer({ name: 'd', image: 'busybox:1.36', securityContext: { capabilities: { add: ['NET_BIND_SERVICE', 'KILL'] } } })]);
  assert.equal(podSecurityError(allowed, 'baseline'), undefined);
  const priv = pod([defaultContainer({ name: 'd', image: 'busybox:1.36', securityContext: { privileged: true } })]);
  assert.match(podSecurityError(priv, 'baseline')!.message, /privileged \(container "d" must not set securityContext.privileged=true\)/);

  const compliant: Pod = { ...pod(), spec: { ...pod().spec, securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } } };
  compliant.spec.containers = compliant.spec.containers.map((c) => ({ ...c, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }));
  assert.equal(podSecurityError(compliant, 'restricted'), undefined);
  compliant.spec.ephemeralContainers = [defaultContainer({ name: 'shark-abcde', image: 'node:24-slim', securityContext: { capabilities: { add: ['NET_RAW'] } } })];
  assert.equal(
    podSecurityError(compliant, 'restricted')?.message,
    'pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "shark-abcde" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "shark-abcde" must set securityContext.capabilities.drop=["ALL"]; container "shark-abcde" must not include "NET_RAW" in securityContext.capabilities.add)',
  );
});

test('defaulting: pull policy from the tag, termination message fields', () => {
  assert.equal(defaultContainer({ name: 'a', image: 'busybox' }).imagePullPolicy, 'Always');
  assert.equal(defaultContainer({ name: 'a', image: 'busybox:latest' }).imagePullPolicy, 'Always');
  assert.equal(defaultContainer({ name: 'a', image: 'busybox:1.36' }).imagePullPolicy, 'IfNotPresent');
  assert.equal(defaultContainer({ name: 'a', image: 'localhost:5000/x' }).imagePullPolicy, 'Always');
  assert.equal(defaultContainer({ name: 'a', image: 'busybox:1.36' }).terminationMessagePath, '/dev/termination-log');
});
