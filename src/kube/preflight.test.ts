import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharkError } from '../model/errors.ts';
import { roleSnippet } from './api-errors.ts';
import type { AccessAnswer, AccessQuestion } from './client.ts';
import { clusterWideNames, decide, formatPreflight, podSecurityVerdict, runPreflight, type PreflightApi } from './preflight.ts';

test('PodSecurity: baseline admits auto (which then adds nothing); restricted forbids every profile, naming each rule; privileged and unlabelled allow them', () => {
  assert.equal(podSecurityVerdict('', 'auto').allowed, true);
  assert.match(podSecurityVerdict('', 'auto').detail, /no enforce label .*root, capabilities: drop ALL, add NET_RAW; no privilege escalation allowed/);
  assert.equal(podSecurityVerdict('privileged', 'privileged').allowed, true);
  const baseline = podSecurityVerdict('baseline', 'auto');
  assert.equal(baseline.allowed, true);
  assert.match(baseline.detail, /nothing added, every default capability but NET_RAW dropped .*runtime's default NET_RAW/);
  assert.equal(podSecurityVerdict('baseline', 'privileged').allowed, false);
  assert.match(podSecurityVerdict('baseline', 'privileged').detail, /^baseline forbids privileged: true \(privileged containers are forbidden\)/);
  const restricted = podSecurityVerdict('restricted', 'auto');
  assert.equal(restricted.allowed, false);
  assert.equal(
    restricted.detail,
    'restricted forbids capabilities.add NET_RAW (only NET_BIND_SERVICE may be added), runAsNonRoot false (must be true), runAsUser 0 (root is forbidden); ' +
      'capture runs as root with CAP_NET_RAW (profile auto)',
  );
  assert.equal(podSecurityVerdict('restricted', 'privileged').allowed, false);
  assert.match(podSecurityVerdict('restricted', 'privileged').detail, /privileged: true .*allowPrivilegeEscalation unset or true .*capabilities.drop without ALL/);
  assert.equal(podSecurityVerdict('custom', 'auto').allowed, true);
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

test('a namespace whose PodSecurity forbids the container is blocked, with the label that would admit it', async () => {
  const labels = { locked: { 'pod-security.kubernetes.io/enforce': 'baseline' }, strict: { 'pod-security.kubernetes.io/enforce': 'restricted' } };
  // privileged in baseline: relabel to privileged (or use auto).
  const report = await runPreflight(stubApi([], labels), ['locked', 'open'], ['locked', 'open'], 'privileged');
  const d = decide(report, ['locked', 'open'], who);
  const err = d.blocked.get('locked')!;
  assert.equal(err.code, 'KUBE_POD_SECURITY');
  assert.match(err.message, /namespace locked enforces PodSecurity "baseline"/);
  assert.match(err.message, /--profile auto works in "baseline"/);
  assert.match(err.message, /kubectl label namespace locked pod-security.kubernetes.io\/enforce=privileged --overwrite/);
  assert.deepEqual([...d.usable], ['open']);
  assert.match(formatPreflight(report), /BLOCKED {2}PodSecurity in namespace locked: baseline forbids privileged: true/);
  // auto in restricted: what restricted forbids, and baseline as the label.
  const strict = decide(await runPreflight(stubApi([], labels), ['strict'], ['strict'], 'auto'), ['strict'], who).blocked.get('strict')!;
  assert.match(strict.message, /namespace strict enforces PodSecurity "restricted", which forbids the capture container \(restricted forbids capabilities.add NET_RAW .*runAsNonRoot false .*runAsUser 0/);
  assert.match(strict.message, /kubectl label namespace strict pod-security.kubernetes.io\/enforce=baseline --overwrite/);
});

test('--tls: only a privileged namespace admits it; a refusal says why TLS needs it and names the label', async () => {
  const labels = {
    locked: { 'pod-security.kubernetes.io/enforce': 'baseline' },
    strict: { 'pod-security.kubernetes.io/enforce': 'restricted' },
    open: { 'pod-security.kubernetes.io/enforce': 'privileged' },
    unlabelled: {},
  };
  const namespaces = ['locked', 'strict', 'open', 'unlabelled'];
  const report = await runPreflight(stubApi([], labels), namespaces, namespaces, 'privileged', { tls: true });
  assert.equal(report.tls, true);
  const d = decide(report, namespaces, who);
  assert.deepEqual([...d.usable].sort(), ['open', 'unlabelled']);
  const locked = d.blocked.get('locked')!;
  assert.equal(locked.code, 'KUBE_POD_SECURITY');
  assert.match(locked.message, /namespace locked enforces PodSecurity "baseline", which forbids the capture container \(baseline forbids privileged: true/);
  assert.match(locked.message, /Capturing TLS plaintext \(--tls\) needs a privileged container \(eBPF probes: bpf\(\) and perf_event_open\(\)\)/);
  assert.match(locked.message, /without --tls, --profile auto works in "baseline"/);
  assert.match(locked.message, /kubectl label namespace locked pod-security.kubernetes.io\/enforce=privileged --overwrite/);
  const strict = d.blocked.get('strict')!;
  // Not "baseline" as for --profile auto: TLS needs privileged whatever the level.
  assert.match(strict.message, /kubectl label namespace strict pod-security.kubernetes.io\/enforce=privileged --overwrite/);
  assert.doesNotMatch(strict.message, /works in "baseline"/);
  // Without --tls the same privileged profile keeps its own wording.
  const plain = decide(await runPreflight(stubApi([], labels), ['locked'], ['locked'], 'privileged'), ['locked'], who).blocked.get('locked')!;
  assert.doesNotMatch(plain.message, /--tls/);
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
