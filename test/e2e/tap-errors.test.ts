/**
 * Each way `tap` can fail against a cluster gives one message naming the cause and what to do, and
 * its own exit code (issue 6, acceptance 3), with the real CLI against the sandbox's fault switches:
 * no pod matches (3), unauthorised (5), forbidden (6), PodSecurity (7), ephemeral containers
 * disabled (8), image pull failure (9), API server down (4). No agent may be left in any pod.
 */
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { demoShopFixture, requireSandbox, startSandbox, type FixturePod, type Sandbox } from '../sandbox/index.ts';
import { SHOP_IPS, SHOP_SCRIPT } from '../sandbox/demo-app.ts';
import { allPods, assertNoAgents, coreApiOf, requireBuild, runTap } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-errors skipped: ${skip}\n`);

let sandbox: Sandbox;
let core: k8s.CoreV1Api;
const pods: [string, string][] = [];

function app(namespace: string, name: string): FixturePod {
  return {
    namespace,
    name,
    labels: { app: name },
    containers: [{ name: 'app', image: 'node:24-slim', command: ['node', SHOP_SCRIPT], env: { SERVICE_NAME: name, PORT: '8080', CALL: `http://${SHOP_IPS.db}:8080`, INTERVAL_MS: '300' } }],
  };
}

before(async () => {
  if (skip) return;
  const fixture = demoShopFixture({ intervalMs: 300 });
  fixture.namespaces!.push({ name: 'locked', podSecurityEnforce: 'baseline' }, { name: 'strict', podSecurityEnforce: 'restricted' });
  fixture.pods!.push(app('locked', 'web'), app('strict', 'api'), app('shop', 'spare-a'), app('shop', 'spare-b'), app('shop', 'spare-c'));
  sandbox = await startSandbox(fixture);
  core = coreApiOf(sandbox);
  pods.push(...(await allPods(core)));
});

after(async () => {
  if (!skip) await sandbox.stop();
});

afterEach(async () => {
  if (skip) return;
  sandbox.faults.deny.length = 0;
  sandbox.faults.unknownImages.length = 0;
  sandbox.faults.ephemeralContainersDisabled = false;
  await assertNoAgents(sandbox, pods);
});

async function ephemeralNames(namespace: string, name: string): Promise<string[]> {
  const pod = await core.readNamespacedPod({ namespace, name });
  return (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
}

/** One line of message (plus an indented Role snippet for RBAC), nothing on stdout. */
function assertOneError(res: { stdout: string; stderr: string }): void {
  assert.equal(res.stdout, '');
  const messages = res.stderr.split('\n').filter((l) => l.startsWith('kubectl shark tap: '));
  assert.equal(messages.length, 1, res.stderr);
}

test('no pod matches: exit 3, naming the namespaces searched', { skip }, async () => {
  const res = await runTap(sandbox, ['checkout', '-n', 'shop,payments', '-o', 'json']);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /no running pod matches \(name matching \/checkout\/\) in namespaces shop, payments \(\d+ pods seen, 0 matching the name\)/);
  assertOneError(res);
  const labels = await runTap(sandbox, ['-A', '-l', 'app=nothing', '-o', 'json']);
  assert.equal(labels.code, 3);
  assert.match(labels.stderr, /in all namespaces \(no pods with labels app=nothing there\)/);
});

test('unauthorised (a token the server does not know): exit 5', { skip }, async () => {
  const file = sandbox.kubeconfigFor('mallory');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/token: .*/, 'token: not-a-valid-token'));
  const res = await runTap(file, ['front-end', '-n', 'shop', '-o', 'json']);
  assert.equal(res.code, 5, res.stderr);
  assert.match(res.stderr, /rejected the credentials of context "[^"]+" \(401 Unauthorized\) while listing pods in namespace shop/);
  assertOneError(res);
});

test('forbidden: the missing permission is named with a Role that grants it, exit 6', { skip }, async () => {
  const alice = sandbox.kubeconfigFor('alice');
  sandbox.faults.deny.push({ verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'shop', user: 'alice' });
  const res = await runTap(alice, ['spare-a', '-n', 'shop', '-o', 'json']);
  assert.equal(res.code, 6, res.stderr);
  assert.match(res.stderr, /forbidden: user "alice" of context "[^"]+" may not create pods\/exec in namespace shop/);
  assert.match(res.stderr, /kind: Role\n\s+metadata:\n\s+name: kubectl-shark\n\s+namespace: shop\n\s+rules:\n\s+- apiGroups: \[""\]\n\s+resources: \["pods\/exec"\]\n\s+verbs: \["create"\]/);
  assertOneError(res);
  // Pre-flight caught it: nothing was added to the pod.
  assert.deepEqual(await ephemeralNames('shop', 'spare-a'), []);

  // Listing itself forbidden: the list call's 403 names it too.
  sandbox.faults.deny.push({ verb: 'list', resource: 'pods', namespace: 'shop', user: 'alice' });
  const list = await runTap(alice, ['spare-a', '-n', 'shop', '-o', 'json']);
  assert.equal(list.code, 6, list.stderr);
  assert.match(list.stderr, /may not list pods in namespace shop/);
});

test('forbidden only when patching (pre-flight could not tell): still exit 6, naming pods/ephemeralcontainers', { skip }, async () => {
  const bob = sandbox.kubeconfigFor('bob');
  // The SelfSubjectAccessReview endpoint is refused, so pre-flight answers "unknown".
  sandbox.faults.deny.push(
    { verb: 'create', resource: 'selfsubjectaccessreviews', user: 'bob' },
    { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', user: 'bob' },
  );
  const res = await runTap(bob, ['spare-a', '-n', 'shop', '-o', 'json']);
  assert.equal(res.code, 6, res.stderr);
  assert.match(res.stderr, /may not patch pods\/ephemeralcontainers in namespace shop/);
});

test('PodSecurity baseline or restricted: exit 7 before patching, naming what is forbidden and the label to change', { skip }, async () => {
  const res = await runTap(sandbox, ['web', '-n', 'locked', '-o', 'json', '--profile', 'privileged']);
  assert.equal(res.code, 7, res.stderr);
  assert.match(res.stderr, /namespace locked enforces PodSecurity "baseline", which forbids the capture container \(baseline forbids privileged: true/);
  assert.match(res.stderr, /kubectl label namespace locked pod-security.kubernetes.io\/enforce=privileged --overwrite/);
  assertOneError(res);
  assert.deepEqual(await ephemeralNames('locked', 'web'), []);
  // restricted: runAsNonRoot required, root forbidden, no capability but NET_BIND_SERVICE: no profile can capture.
  const strict = await runTap(sandbox, ['api', '-n', 'strict', '-o', 'json']);
  assert.equal(strict.code, 7, strict.stderr);
  assert.match(
    strict.stderr,
    /namespace strict enforces PodSecurity "restricted", which forbids the capture container \(restricted forbids capabilities.add NET_RAW \(only NET_BIND_SERVICE may be added\), runAsNonRoot false \(must be true\), runAsUser 0 \(root is forbidden\)/,
  );
  assert.match(strict.stderr, /kubectl label namespace strict pod-security.kubernetes.io\/enforce=baseline --overwrite/);
  assertOneError(strict);
  assert.deepEqual(await ephemeralNames('strict', 'api'), [], 'pre-flight stopped it: nothing was patched');

  // When pre-flight cannot read the namespace, the API server's own 403 gives the same answer.
  const carol = sandbox.kubeconfigFor('carol');
  sandbox.faults.deny.push({ verb: 'get', resource: 'namespaces', user: 'carol' });
  const late = await runTap(carol, ['web', '-n', 'locked', '-o', 'json', '--profile', 'privileged']);
  assert.equal(late.code, 7, late.stderr);
  assert.match(late.stderr, /namespace locked enforces PodSecurity "baseline".*violates PodSecurity "baseline:latest": privileged \(container "shark-[a-z0-9]{5}" must not set securityContext.privileged=true\)/s);
  assert.match(late.stderr, /enforce=privileged --overwrite/);
  assert.deepEqual(await ephemeralNames('locked', 'web'), []);

  // --dry-run shows it and exits 0.
  const dry = await runTap(sandbox, ['web', '-n', 'locked', '--dry-run', '--profile', 'privileged']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /BLOCKED {2}PodSecurity in namespace locked: baseline forbids privileged: true/);
  assert.match(dry.stdout, /problems a real run would hit:/);
});

test('profile auto in a baseline namespace adds no capability (admitted) and captures with the runtime\'s default NET_RAW, the only one kept', { skip }, async () => {
  const res = await runTap(sandbox, ['web', '-n', 'locked', '-o', 'json', '--count', '2']);
  assert.equal(res.code, 0, res.stderr);
  const entries = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { src: { namespace: string } });
  assert.equal(entries.length, 2);
  assert.ok(entries.every((e) => e.src.namespace === 'locked'));
  const pod = await core.readNamespacedPod({ namespace: 'locked', name: 'web' });
  const shark = (pod.spec?.ephemeralContainers ?? []).filter((c) => c.name.startsWith('shark-'));
  assert.equal(shark.length, 1);
  assert.equal(shark[0].securityContext?.capabilities?.add, undefined, 'nothing added: baseline forbids adding NET_RAW');
  assert.ok(shark[0].securityContext?.capabilities?.drop?.includes('CHOWN'), 'the other defaults dropped by name');
  assert.ok(!shark[0].securityContext?.capabilities?.drop?.includes('NET_RAW'));
});

test('ephemeral containers disabled (404 on the subresource): exit 8', { skip }, async () => {
  sandbox.faults.ephemeralContainersDisabled = true;
  const res = await runTap(sandbox, ['spare-b', '-n', 'shop', '-o', 'json']);
  assert.equal(res.code, 8, res.stderr);
  assert.match(res.stderr, /ephemeral containers are disabled on the cluster at https:\/\/127\.0\.0\.1:\d+ \(PATCH pods\/spare-b\/ephemeralcontainers answered 404\)/);
  assertOneError(res);
});

test('an image that cannot be pulled: exit 9 at once, naming the image', { skip }, async () => {
  const started = Date.now();
  const res = await runTap(sandbox, ['spare-c', '-n', 'shop', '-o', 'json', '--image', 'registry.example/nope/agent:0.0.1']);
  assert.equal(res.code, 9, res.stderr);
  assert.match(res.stderr, /the capture image registry\.example\/nope\/agent:0\.0\.1 cannot be pulled in pod shop\/spare-c \((ErrImagePull|ImagePullBackOff)/);
  assert.match(res.stderr, /pass --image with an image holding Node\.js/);
  assertOneError(res);
  assert.ok(Date.now() - started < 20_000, 'surfaced at once, not after --timeout');
});

test('the API server goes away: exit 4 (cluster unreachable)', { skip }, async () => {
  await sandbox.stopApi();
  const res = await runTap(sandbox, ['front-end', '-n', 'shop', '-o', 'json']);
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /cannot reach the cluster at https:\/\/127\.0\.0\.1:\d+ \(context "sandbox"\) while listing pods in namespace shop: ECONNREFUSED/);
  assertOneError(res);
});
