import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharkError } from '../model/errors.ts';
import { apiFailure, kubeError, networkCode } from './api-errors.ts';

const ctx = { action: 'listing pods in namespace shop', server: 'https://127.0.0.1:6443', context: 'sandbox', user: 'alice' };

/** The shape client-node 1.4 throws: ApiException with the Status JSON as a string body. */
function apiException(code: number, status: object): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify(status), headers: {} });
}

test('connection failures (node-fetch and ws shapes) are "unreachable", naming the server', () => {
  const fetchErr = Object.assign(new Error('request to https://127.0.0.1:1/api failed, reason: connect ECONNREFUSED'), { type: 'system', code: 'ECONNREFUSED' });
  const wsErr = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { error: { code: 'ECONNREFUSED' } });
  for (const err of [fetchErr, wsErr]) {
    const e = kubeError(err, ctx);
    assert.equal(e.code, 'KUBE_UNREACHABLE');
    assert.match(e.message, /cannot reach the cluster at https:\/\/127\.0\.0\.1:6443 \(context "sandbox"\) while listing pods in namespace shop: ECONNREFUSED/);
  }
  assert.equal(networkCode(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.match(kubeError(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), ctx).message, /certificate/);
});

test('401 is "unauthorised"; 403 names the permission; PodSecurity 403 has its own code', () => {
  const unauthorized = kubeError(apiException(401, { kind: 'Status', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }), ctx);
  assert.equal(unauthorized.code, 'KUBE_UNAUTHORIZED');
  assert.match(unauthorized.message, /rejected the credentials of context "sandbox" \(401 Unauthorized\)/);

  const forbidden = kubeError(
    apiException(403, { message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "shop"', reason: 'Forbidden', code: 403 }),
    { ...ctx, permission: { verb: 'list', resource: 'pods', namespace: 'shop' } },
  );
  assert.equal(forbidden.code, 'KUBE_FORBIDDEN');
  assert.match(forbidden.message, /user "alice" of context "sandbox" may not list pods in namespace shop/);
  assert.match(forbidden.message, /kind: Role/);

  const pss = kubeError(
    apiException(403, {
      message: 'pods "web" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "shark-x" must not include "NET_RAW" in securityContext.capabilities.add)',
      reason: 'Forbidden',
      code: 403,
    }),
    { ...ctx, permission: { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'locked' } },
  );
  assert.equal(pss.code, 'KUBE_POD_SECURITY');
  assert.match(pss.message, /namespace locked enforces PodSecurity "baseline"/);
});

test('the status of a failed exec upgrade is read from the ws message; other statuses are API errors', () => {
  assert.deepEqual(apiFailure(new Error('Unexpected server response: 403')), { httpStatus: 403, status: null });
  assert.equal(kubeError(new Error('Unexpected server response: 403'), { ...ctx, permission: { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'shop' } }).code, 'KUBE_FORBIDDEN');
  const e = kubeError(apiException(500, { message: 'etcdserver: request timed out', code: 500 }), ctx);
  assert.equal(e.code, 'KUBE_API');
  assert.match(e.message, /listing pods in namespace shop failed: etcdserver: request timed out/);
  const passthrough = new SharkError('USAGE', 'x');
  assert.equal(kubeError(passthrough, ctx), passthrough);
});

test('a credential no HTTP header may carry: a kubeconfig error that quotes neither the value nor the token', () => {
  const fetchErr = new TypeError('Bearer tok\u0001en-secret-value\n is not a legal HTTP header value');
  const wsErr = Object.assign(new TypeError('Invalid character in header content ["Authorization"]'), { code: 'ERR_INVALID_CHAR' });
  for (const err of [fetchErr, wsErr]) {
    const e = kubeError(err, ctx);
    assert.equal(e.code, 'KUBE_CONFIG');
    assert.match(e.message, /^listing pods in namespace shop failed: a credential of context "sandbox" \(user "alice"\) holds a character no HTTP header may carry/);
    assert.doesNotMatch(e.message, /tok\u0001en|secret-value|Bearer/);
  }
});
