import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharkError } from '../model/errors.ts';
import { roleSnippet } from './api-errors.ts';
import type { AccessAnswer, AccessQuestion } from './client.ts';
import { clusterWideNames, decide, formatPreflight, podSecurityVerdict, runPreflight, type PreflightApi } from './preflight.ts';

test('PodSecurity: baseline admits only auto (which then adds nothing); restricted forbids every profile; privileged and unlabelled allow them', () => {
  assert.equal(podSecurityVerdict('', 'auto').allowed, true);
  assert.equal(podSecurityVerdict('privileged', 'privileged').allowed, true);
  const baseline = podSecurityVerdict('baseline', 'auto');
  assert.equal(baseline.allowed, true);
  assert.match(baseline.detail, /no capability added .*default NET_RAW/);
  assert.equal(podSecurityVerdict('baseline', 'netadmin').allowed, false);
  assert.match(podSecurityVerdict('baseline', 'netadmin').detail, /baseline forbids adding NET_ADMIN, NET_RAW/);
  assert.match(podSecurityVerdict('baseline', 'privileged').detail, /privileged containers/);
  for (const profile of ['auto', 'netadmin', 'privileged'] as const) assert.equal(podSecurityVerdict('restricted', profile).allowed, false);
});

/** A stub API: denies what is listed ("verb resource[/sub] ns"), labels per namespace. */
function stubApi(denied: string[], labels: Record<string, Record<string, string> | null>, failing = false): PreflightApi & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async accessReview(q: AccessQuestion): Promise<AccessAnswer> {
      const key = `${q.verb} ${q.resource}${q.subresource ? `/${q.subresource}` : ''} ${q.namespace || '*'}`;
      asked.push(key);
      if (failing) throw new SharkError('KUBE_API', 'selfsubjectaccessreviews not served');
      return { allowed: !denied.includes(key) };
    },
    async namespaceLabels(ns: string) {
      return labels[ns] === undefined ? {} : labels[ns]!;
    },
  };
}

const who = { context: 'sandbox', user: 'alice' };

test('asks list/watch where pods are looked for, and patch/exec where targets live', async () => {
  const api = stubApi([], {});
  const report = await runPreflight(api, ['shop', 'db'], ['shop'], 'auto');
  for (const key of [
    'list pods shop',
    'watch pods shop',
    'list pods db',
    'watch pods db',
    'patch pods/ephemeralcontainers shop',
    'create pods/exec shop',
    'get pods/exec shop',
  ]) {
    assert.ok(api.asked.includes(key), key);
  }
  assert.ok(!api.asked.includes('patch pods/ephemeralcontainers db'));
  const d = decide(report, ['shop'], who);
  assert.equal(d.fatal, null);
  assert.deepEqual([...d.usable], ['shop']);
  assert.equal(clusterWideNames(report), true);
  assert.match(formatPreflight(report), /ok {7}patch pods\/ephemeralcontainers in namespace shop/);
});

test('a missing exec permission blocks its namespace, named with a Role that grants it', async () => {
  const report = await runPreflight(stubApi(['create pods/exec shop', 'get pods/exec shop'], {}), ['shop', 'web'], ['shop', 'web'], 'auto');
  const d = decide(report, ['shop', 'web'], who);
  assert.deepEqual([...d.usable], ['web']);
  const err = d.blocked.get('shop')!;
  assert.equal(err.code, 'KUBE_FORBIDDEN');
  assert.match(err.message, /user "alice" of context "sandbox" may not create pods\/exec in namespace shop; get pods\/exec in namespace shop/);
  assert.match(err.message, /kind: Role\n\s+metadata:\n\s+name: kubectl-shark\n\s+namespace: shop/);
  assert.match(err.message, /resources: \["pods\/exec"\]\n\s+verbs: \["create", "get"\]/);
  assert.match(formatPreflight(report), /MISSING {2}create pods\/exec in namespace shop \(needed to run the agent\)/);
});

test('list/watch missing where we look is fatal; optional permissions are warnings', async () => {
  const report = await runPreflight(stubApi(['watch pods shop', 'list services shop', 'list pods *'], {}), ['shop'], ['shop'], 'auto');
  const d = decide(report, ['shop'], who);
  assert.equal(d.fatal?.code, 'KUBE_FORBIDDEN');
  assert.match(d.fatal!.message, /may not watch pods in namespace shop/);
  assert.deepEqual(d.warnings, ['may not list services in namespace shop: cannot name service addresses', 'may not list pods in all namespaces: cannot name pods of other namespaces']);
  assert.equal(clusterWideNames(report), false);
});

test('-A asks at cluster scope; the Role snippet becomes a ClusterRole', async () => {
  const api = stubApi(['list pods *'], {});
  const report = await runPreflight(api, 'all', ['shop'], 'auto');
  assert.ok(api.asked.includes('list pods *'));
  const d = decide(report, ['shop'], who);
  assert.match(d.fatal!.message, /may not list pods in all namespaces/);
  assert.match(d.fatal!.message, /kind: ClusterRole/);
  assert.match(roleSnippet([{ verb: 'list', resource: 'pods', namespace: '' }]), /create clusterrolebinding/);
});

test('a baseline namespace blocks the tap there with a PodSecurity error naming the label', async () => {
  const report = await runPreflight(stubApi([], { locked: { 'pod-security.kubernetes.io/enforce': 'baseline' } }), ['locked', 'open'], ['locked', 'open'], 'netadmin');
  const d = decide(report, ['locked', 'open'], who);
  const err = d.blocked.get('locked')!;
  assert.equal(err.code, 'KUBE_POD_SECURITY');
  assert.match(err.message, /namespace locked enforces PodSecurity "baseline"/);
  assert.match(err.message, /kubectl label namespace locked pod-security.kubernetes.io\/enforce=privileged --overwrite/);
  assert.deepEqual([...d.usable], ['open']);
  assert.match(formatPreflight(report), /BLOCKED {2}PodSecurity in namespace locked: baseline forbids adding NET_ADMIN, NET_RAW/);
});

test('unknown answers (review not served, namespace unreadable) block nothing', async () => {
  const report = await runPreflight(stubApi([], { shop: null }, true), ['shop'], ['shop'], 'auto');
  assert.ok(report.access.every((a) => a.allowed === null));
  const d = decide(report, ['shop'], who);
  assert.equal(d.fatal, null);
  assert.deepEqual([...d.usable], ['shop']);
  assert.match(formatPreflight(report), /unknown {2}PodSecurity in namespace shop: namespace labels unreadable/);
});

test('an unreachable cluster during pre-flight is an error at once', async () => {
  const api: PreflightApi = {
    accessReview: async () => {
      throw new SharkError('KUBE_UNREACHABLE', 'down');
    },
    namespaceLabels: async () => ({}),
  };
  await assert.rejects(runPreflight(api, ['shop'], ['shop'], 'auto'), /down/);
});
