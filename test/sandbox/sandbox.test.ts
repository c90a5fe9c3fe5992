/**
 * The sandbox cluster through @kubernetes/client-node 1.4 (what `kubectl shark tap` is built on):
 * list/get/watch with selectors, endpoints, exec and attach over WebSocket, ephemeral containers
 * with the apiserver's validation and PodSecurity, RBAC faults, 401, and a clean stop.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { PassThrough, Readable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { compactWatchHistory, requireSandbox, startSandbox, type Sandbox } from './index.ts';
import { run } from '../helpers/netns.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox());
if (skip) process.stderr.write(`skipping the sandbox tests: ${skip}\n`);

const SLEEPER = { image: 'busybox:1.36', command: ['sleep', '3600'] };

function client(kubeconfig: string): { kc: k8s.KubeConfig; core: k8s.CoreV1Api } {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api) };
}

/** The Status body of a rejected client-node call. */
async function rejection(p: Promise<unknown>): Promise<{ code: number; body: { message: string; reason: string; details?: unknown } }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    assert.equal(typeof e.code, 'number', `not an ApiException: ${String(err)}`);
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : (e.body ?? {});
    return { code: e.code!, body: body as { message: string; reason: string } };
  }
  assert.fail('the call succeeded');
}

interface Event {
  type: string;
  object: k8s.V1Pod & { code?: number; reason?: string };
}

/** Collects watch events until `until` says stop (or the timeout). */
async function watchUntil(kc: k8s.KubeConfig, path: string, params: Record<string, string>, until: (events: Event[]) => boolean, timeoutMs = 10_000): Promise<Event[]> {
  const events: Event[] = [];
  let ctrl: AbortController | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watch timed out; events: ${events.map((e) => e.type).join(' ')}`)), timeoutMs);
    void new k8s.Watch(kc)
      .watch(
        path,
        params,
        (type, object) => {
          events.push({ type, object: object as Event['object'] });
          if (until(events)) {
            clearTimeout(timer);
            resolve();
          }
        },
        (err) => {
          clearTimeout(timer);
          if (until(events)) resolve();
          else reject(new Error(`watch ended early (${String(err)}); events: ${events.map((e) => e.type).join(' ')}`));
        },
      )
      .then((c) => {
        ctrl = c;
      }, reject);
  });
  try {
    await done;
  } finally {
    ctrl?.abort();
  }
  return events;
}

interface ExecResult {
  stdout: string;
  stderr: string;
  status: k8s.V1Status;
}

function execIn(kc: k8s.KubeConfig, ns: string, pod: string, container: string, command: string[], input?: string): Promise<ExecResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec ${command.join(' ')} timed out`)), 10_000);
    new k8s.Exec(kc)
      .exec(ns, pod, container, command, stdout, stderr, input === undefined ? null : Readable.from([Buffer.from(input)]), false, (status) => {
        clearTimeout(timer);
        // The status arrives after the last output frame; let the streams flush.
        setImmediate(() => resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status }));
      })
      .catch((e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String((e as { message?: string }).message ?? e)));
      });
  });
}

function exitCode(status: k8s.V1Status): number {
  if (status.status === 'Success') return 0;
  return Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? -1);
}

const smp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

describe('the sandbox through client-node', { skip }, () => {
  let sb: Sandbox;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;

  before(async () => {
    sb = await startSandbox({
      namespaces: [{ name: 'shop' }, { name: 'secure', podSecurityEnforce: 'baseline' }, { name: 'locked', podSecurityEnforce: 'restricted' }],
      pods: [
        {
          namespace: 'shop',
          name: 'web',
          labels: { app: 'web', tier: 'front' },
          containers: [
            { name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'echo app started; echo oops >&2; exec sleep 3600'] },
            { name: 'sidecar', ...SLEEPER },
          ],
        },
        { namespace: 'shop', name: 'db', labels: { app: 'db' }, containers: [{ name: 'db', ...SLEEPER }] },
        { namespace: 'secure', name: 'guarded', containers: [{ name: 'app', ...SLEEPER }] },
        { namespace: 'locked', name: 'strict', containers: [{ name: 'app', ...SLEEPER }] },
      ],
      services: [{ namespace: 'shop', name: 'web', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }],
    });
    ({ kc, core } = client(sb.kubeconfig));
  });

  after(async () => {
    const netns = sb ? ['shop/web', 'shop/db'].map((k) => sb.podNetns(k.split('/')[0]!, k.split('/')[1]!)) : [];
    await sb?.stop();
    const left = (await run('ip', ['netns', 'list'])).stdout.toString('utf8');
    for (const ns of netns) assert.ok(!left.includes(ns), `${ns} was removed`);
  });

  test('lists and gets pods with label and field selectors, like an apiserver', async () => {
    const all = await core.listPodForAllNamespaces();
    assert.deepEqual(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort(), ['locked/strict', 'secure/guarded', 'shop/db', 'shop/web']);
    assert.match(all.metadata?.resourceVersion ?? '', /^\d+$/);
    const web = all.items.find((p) => p.metadata?.name === 'web')!;
    assert.equal(web.status?.phase, 'Running');
    assert.equal(web.status?.podIP, sb.podIP('shop', 'web'));
    assert.match(web.status?.podIP ?? '', /^10\.244\.0\.\d+$/);
    assert.equal(web.spec?.nodeName, 'sandbox-node');
    assert.deepEqual(web.status?.containerStatuses?.map((c) => [c.name, c.ready, Object.keys(c.state ?? {})[0]]), [['app', true, 'running'], ['sidecar', true, 'running']]);

    const sel = async (o: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
      (await core.listNamespacedPod({ namespace: 'shop', ...o })).items.map((p) => p.metadata!.name!).sort();
    assert.deepEqual(await sel({ labelSelector: 'app=web' }), ['web']);
    assert.deepEqual(await sel({ labelSelector: 'app in (web,db),tier!=front' }), ['db']);
    assert.deepEqual(await sel({ labelSelector: '!tier' }), ['db']);
    assert.deepEqual(await sel({ fieldSelector: 'metadata.name=db' }), ['db']);
    assert.deepEqual(await sel({ fieldSelector: `status.podIP=${sb.podIP('shop', 'web')},status.phase=Running` }), ['web']);
    assert.deepEqual(await sel({ fieldSelector: 'spec.nodeName!=sandbox-node' }), []);
    const bad = await rejection(core.listNamespacedPod({ namespace: 'shop', fieldSelector: 'spec.bogus=1' }));
    assert.equal(bad.code, 400);
    assert.equal(bad.body.message, 'field label not supported: spec.bogus');
    assert.deepEqual((await core.listNamespacedPod({ namespace: 'nope' })).items, [], 'an unknown namespace lists empty');

    const missing = await rejection(core.readNamespacedPod({ namespace: 'shop', name: 'nope' }));
    assert.equal(missing.code, 404);
    assert.deepEqual(missing.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404 });

    const namespaces = await core.listNamespace();
    const secure = namespaces.items.find((n) => n.metadata?.name === 'secure')!;
    assert.equal(secure.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'baseline');
    assert.equal(secure.metadata?.labels?.['kubernetes.io/metadata.name'], 'secure');
    assert.deepEqual((await core.listNode()).items.map((n) => n.metadata?.name), ['sandbox-node']);
    const svc = await core.readNamespacedService({ namespace: 'shop', name: 'web' });
    assert.match(svc.spec?.clusterIP ?? '', /^10\.96\.0\.\d+$/);
  });

  test('logs are the container output', async () => {
    const text = await core.readNamespacedPodLog({ namespace: 'shop', name: 'web', container: 'app' });
    assert.equal(text, 'app started\noops\n');
    const bad = await rejection(core.readNamespacedPodLog({ namespace: 'shop', name: 'web' }));
    assert.equal(bad.body.message, 'a container name must be specified for pod web, choose one of: [app sidecar]');
  });

  test('watch: a created pod goes Pending -> Running, a deleted one MODIFIED -> DELETED; replay and 410', async () => {
    const list = await core.listNamespacedPod({ namespace: 'shop' });
    const rv = list.metadata!.resourceVersion!;
    const path = '/api/v1/namespaces/shop/pods';
    const seen = watchUntil(kc, path, { resourceVersion: rv, fieldSelector: 'metadata.name=tmp' }, (ev) => ev.some((e) => e.type === 'DELETED'));
    await sb.createPod({ namespace: 'shop', name: 'tmp', labels: { app: 'web' }, containers: [{ name: 'c', ...SLEEPER }] });
    const netns = sb.podNetns('shop', 'tmp');
    const pids = sb.processesIn('shop', 'tmp');
    assert.equal(pids.length, 1, 'the container process runs in the pod netns');
    const eps = await core.readNamespacedEndpoints({ namespace: 'shop', name: 'web' });
    assert.deepEqual(eps.subsets?.[0]?.addresses?.map((a) => a.ip).sort(), [sb.podIP('shop', 'web'), sb.podIP('shop', 'tmp')].sort());
    await sb.deletePod('shop', 'tmp');
    const events = await seen;
    const summary = events.map((e) => `${e.type}:${e.object.status?.phase}${e.object.metadata?.deletionTimestamp ? ':deleting' : ''}`);
    assert.equal(summary[0], 'ADDED:Pending');
    assert.ok(summary.includes('MODIFIED:Running'), summary.join(' '));
    assert.equal(summary.at(-2), 'MODIFIED:Running:deleting');
    assert.equal(summary.at(-1), 'DELETED:Running:deleting');
    const rvs = events.map((e) => Number(e.object.metadata!.resourceVersion));
    assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b), 'resourceVersions only grow');
    assert.equal(events.find((e) => e.type === 'MODIFIED' && e.object.status?.podIP)?.object.status?.podIP !== undefined, true);
    assert.ok(pids.every(gone), 'the processes are gone');
    assert.ok(!(await run('ip', ['netns', 'list'])).stdout.toString('utf8').includes(netns), 'the netns is gone');
    const back = await core.readNamespacedEndpoints({ namespace: 'shop', name: 'web' });
    assert.deepEqual(back.subsets?.[0]?.addresses?.map((a) => a.ip), [sb.podIP('shop', 'web')]);

    // The same events again, replayed from the history.
    const replay = await watchUntil(kc, path, { resourceVersion: rv, fieldSelector: 'metadata.name=tmp' }, (ev) => ev.some((e) => e.type === 'DELETED'));
    assert.deepEqual(replay.map((e) => e.object.metadata?.resourceVersion), events.map((e) => e.object.metadata?.resourceVersion));

    // Without a resourceVersion: ADDED for what exists now.
    const initial = await watchUntil(kc, path, {}, (ev) => ev.length === 2);
    assert.deepEqual(initial.map((e) => `${e.type}:${e.object.metadata?.name}`).sort(), ['ADDED:db', 'ADDED:web']);

    compactWatchHistory(sb);
    const expired = await watchUntil(kc, path, { resourceVersion: rv }, (ev) => ev.length === 1);
    assert.equal(expired[0]!.type, 'ERROR');
    assert.equal(expired[0]!.object.code, 410);
    assert.equal(expired[0]!.object.reason, 'Expired');
  });

  test('exec over WebSocket v5: output, exit codes, stdin to EOF, errors', async () => {
    const r = await execIn(kc, 'shop', 'web', 'app', ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(exitCode(r.status), 7);
    assert.equal(r.status.reason, 'NonZeroExitCode');
    assert.equal(r.status.message, 'command terminated with non-zero exit code: command terminated with exit code 7');

    // Output after stdin EOF still arrives (v5 closes only stdin).
    const input = 'line one\nline two\n'.repeat(5000);
    const cat = await execIn(kc, 'shop', 'web', 'sidecar', ['sh', '-c', 'cat; echo done'], input);
    assert.equal(cat.stdout, `${input}done\n`);
    assert.equal(cat.status.status, 'Success');

    const env = await execIn(kc, 'shop', 'web', 'app', ['sh', '-c', 'echo $HOSTNAME; hostname; pwd; command -v node || echo no-node']);
    const [host, uts, cwd, node] = env.stdout.split('\n');
    assert.equal(host, 'web');
    assert.equal(uts, 'web', "the pod's UTS namespace has its name");
    assert.equal(cwd, '/', "the image's working directory");
    assert.equal(node, 'no-node', "the busybox image's own filesystem, not the host's");

    const missing = await execIn(kc, 'shop', 'web', 'app', ['no-such-binary']);
    assert.equal(missing.status.reason, 'InternalError');
    assert.match(missing.status.message ?? '', /executable file not found in \$PATH/);

    await assert.rejects(execIn(kc, 'shop', 'web', 'nope', ['true']), /400/);
    await assert.rejects(execIn(kc, 'shop', 'missing', 'app', ['true']), /404/);
  });

  test('ephemeral containers: wrong content type, statuses, exec and attach into them, validation', async () => {
    const ec = (name: string, extra: Partial<k8s.V1EphemeralContainer> = {}): k8s.V1Pod =>
      ({ spec: { ephemeralContainers: [{ name, image: 'busybox:1.36', targetContainerName: 'app', ...extra }] } }) as k8s.V1Pod;
    // client-node's default patch type is JSON Patch: an object body gets the apiserver's 400.
    const wrong = await rejection(core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'web', body: ec('debug-a') }));
    assert.equal(wrong.code, 400);
    assert.equal(wrong.body.message, 'error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');

    const list = await core.listNamespacedPod({ namespace: 'shop' });
    const states = watchUntil(
      kc,
      '/api/v1/namespaces/shop/pods',
      { resourceVersion: list.metadata!.resourceVersion!, fieldSelector: 'metadata.name=web' },
      (ev) => ev.some((e) => e.object.status?.ephemeralContainerStatuses?.some((s) => s.name === 'debug-a' && s.state?.terminated)),
    );
    const patched = await core.patchNamespacedPodEphemeralcontainers(
      { namespace: 'shop', name: 'web', body: ec('debug-a', { command: ['sh', '-c', 'echo from debug-a; sleep 0.5'], securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }) },
      smp,
    );
    assert.deepEqual(patched.spec?.ephemeralContainers?.map((c) => [c.name, c.imagePullPolicy, c.terminationMessagePolicy]), [['debug-a', 'IfNotPresent', 'File']]);
    assert.equal(patched.status?.ephemeralContainerStatuses, undefined, 'no status right after the PATCH');
    const seq = (await states)
      .map((e) => e.object.status?.ephemeralContainerStatuses?.find((s) => s.name === 'debug-a'))
      .map((s) => (s ? `${Object.keys(s.state ?? {})[0]}${s.state?.waiting ? `:${s.state.waiting.reason}` : ''}` : 'none'));
    assert.deepEqual([...new Set(seq)], ['none', 'waiting:ContainerCreating', 'running', 'terminated'], seq.join(' '));
    const done = (await core.readNamespacedPod({ namespace: 'shop', name: 'web' })).status?.ephemeralContainerStatuses?.[0];
    assert.equal(done?.state?.terminated?.exitCode, 0);
    assert.equal(done?.state?.terminated?.reason, 'Completed');
    assert.equal(await core.readNamespacedPodLog({ namespace: 'shop', name: 'web', container: 'debug-a' }), 'from debug-a\n');

    // A long-running one, in the pod's network namespace: exec into it.
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'web', body: ec('debug-b', { command: ['sleep', '3600'] }) }, smp);
    await waitFor(async () => (await core.readNamespacedPod({ namespace: 'shop', name: 'web' })).status?.ephemeralContainerStatuses?.find((s) => s.name === 'debug-b')?.state?.running !== undefined);
    const inside = await execIn(kc, 'shop', 'web', 'debug-b', ['readlink', '/proc/self/ns/net']);
    const expected = await run('ip', ['netns', 'exec', sb.podNetns('shop', 'web'), 'readlink', '/proc/self/ns/net']);
    assert.equal(inside.stdout, expected.stdout.toString('utf8'));

    // Attach: stdin to the container's process, output back (nothing from before the attach).
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'web', body: ec('echoer', { command: ['cat'], stdin: true }) }, smp);
    await waitFor(async () => (await core.readNamespacedPod({ namespace: 'shop', name: 'web' })).status?.ephemeralContainerStatuses?.find((s) => s.name === 'echoer')?.state?.running !== undefined);
    const out = new PassThrough();
    const stdin = new PassThrough();
    const got: Buffer[] = [];
    out.on('data', (b: Buffer) => got.push(b));
    const ws = await new k8s.Attach(kc).attach('shop', 'web', 'echoer', out, null, stdin, false);
    stdin.write('ping\n');
    await waitFor(() => Buffer.concat(got).toString('utf8') === 'ping\n');
    ws.close();

    // Validation (422), immutability, PodSecurity (403), image pull failures, disabled (404).
    const dup = await rejection(core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'web', body: ec('sidecar') }, smp));
    assert.equal(dup.code, 422);
    assert.equal(dup.body.message, 'Pod "web" is invalid: spec.ephemeralContainers[3].name: Duplicate value: "sidecar"');
    const target = await rejection(core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'web', body: ec('x1', { targetContainerName: 'nope' }) }, smp));
    assert.equal(target.body.message, 'Pod "web" is invalid: spec.ephemeralContainers[3].targetContainerName: Not found: "nope"');
    const changed = await rejection(
      core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'web', body: { spec: { ephemeralContainers: [{ name: 'debug-a', image: 'busybox:1.37' }] } } as k8s.V1Pod }, smp),
    );
    assert.equal(changed.body.message, 'Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debug-a" may not be changed');

    const baseline = await rejection(
      core.patchNamespacedPodEphemeralcontainers({ namespace: 'secure', name: 'guarded', body: ec('shark-abcde', { securityContext: { capabilities: { add: ['NET_RAW'] } } }) }, smp),
    );
    assert.equal(baseline.code, 403);
    assert.equal(baseline.body.message, 'pods "guarded" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "shark-abcde" must not include "NET_RAW" in securityContext.capabilities.add)');
    const restricted = await rejection(core.patchNamespacedPodEphemeralcontainers({ namespace: 'locked', name: 'strict', body: ec('plain') }, smp));
    assert.equal(restricted.code, 403);
    assert.match(restricted.body.message, /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "plain"/);
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'secure', name: 'guarded', body: ec('plain') }, smp);

    sb.faults.unknownImages.push('busybox:1.36');
    try {
      await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'db', body: ec('pull', { image: 'busybox:1.36', targetContainerName: 'db' }) }, smp);
      await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'db', body: ec('nope', { image: 'example.com/none:1', targetContainerName: 'db' }) }, smp);
      await waitFor(async () => {
        const st = (await core.readNamespacedPod({ namespace: 'shop', name: 'db' })).status?.ephemeralContainerStatuses ?? [];
        return st.length === 2 && st.every((s) => s.state?.waiting?.reason === 'ImagePullBackOff');
      });
      const st = (await core.readNamespacedPod({ namespace: 'shop', name: 'db' })).status!.ephemeralContainerStatuses!;
      assert.match(st.find((s) => s.name === 'nope')!.state!.waiting!.message!, /Back-off pulling image "example.com\/none:1"/);
      const logs = await rejection(core.readNamespacedPodLog({ namespace: 'shop', name: 'db', container: 'nope' }));
      assert.equal(logs.body.message, 'container "nope" in pod "db" is waiting to start: trying and failing to pull image');
    } finally {
      sb.faults.unknownImages.length = 0;
    }

    sb.faults.ephemeralContainersDisabled = true;
    try {
      const disabled = await rejection(core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'web', body: ec('off') }, smp));
      assert.equal(disabled.code, 404);
      assert.deepEqual(disabled.body.details, {});
      assert.equal(disabled.body.message, 'the server could not find the requested resource');
    } finally {
      sb.faults.ephemeralContainersDisabled = false;
    }

    // JSON Patch done right works too.
    const jp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
    const viaJson = await core.patchNamespacedPodEphemeralcontainers(
      { namespace: 'shop', name: 'web', body: [{ op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'json-one', image: 'busybox:1.36', command: ['true'] } }] },
      jp,
    );
    assert.equal(viaJson.spec?.ephemeralContainers?.at(-1)?.name, 'json-one');
  });

  test('RBAC deny rules: 403 with the real wording, SelfSubjectAccessReview, 401 for a bad token', async () => {
    const alice = client(sb.kubeconfigFor('alice', { namespace: 'shop' }));
    assert.equal((await alice.core.listNamespacedPod({ namespace: 'shop' })).items.length, 2);
    sb.faults.deny.push({ verb: 'list', resource: 'pods', namespace: 'shop', user: 'alice' }, { verb: 'create', resource: 'pods/exec', user: 'alice' });
    try {
      const denied = await rejection(alice.core.listNamespacedPod({ namespace: 'shop' }));
      assert.equal(denied.code, 403);
      assert.equal(denied.body.message, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "shop"');
      assert.deepEqual(denied.body.details, { kind: 'pods' });
      assert.equal((await core.listNamespacedPod({ namespace: 'shop' })).items.length, 2, 'admin is not affected');
      const authz = alice.kc.makeApiClient(k8s.AuthorizationV1Api);
      const review = async (verb: string, subresource?: string): Promise<boolean | undefined> =>
        (
          await authz.createSelfSubjectAccessReview({
            body: { spec: { resourceAttributes: { namespace: 'shop', verb, resource: 'pods', ...(subresource ? { subresource } : {}) } } },
          })
        ).status?.allowed;
      assert.equal(await review('list'), false);
      assert.equal(await review('watch'), true);
      assert.equal(await review('create', 'exec'), false);
      assert.equal(await review('get', 'exec'), true);
      await assert.rejects(execIn(alice.kc, 'shop', 'web', 'app', ['true']), /403/);
    } finally {
      sb.faults.deny.length = 0;
    }

    const file = sb.kubeconfigFor('mallory');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/token: ".*"/, 'token: "not-a-token"'));
    const bad = await rejection(client(file).core.listNamespacedPod({ namespace: 'shop' }));
    assert.equal(bad.code, 401, 'client-node drops the body of a 401; the raw answer:');
    const raw = await rawGet(sb, '/api/v1/namespaces/shop/pods', 'not-a-token');
    assert.equal(raw.status, 401);
    assert.deepEqual(JSON.parse(raw.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    assert.equal((await rawGet(sb, '/version')).status, 401, 'no credentials at all');

    const certUser = client(sb.kubeconfigFor('carol', { token: false }));
    sb.faults.deny.push({ verb: 'get', resource: 'pods', user: 'carol' });
    try {
      const r = await rejection(certUser.core.readNamespacedPod({ namespace: 'shop', name: 'web' }));
      assert.equal(r.body.message, 'pods "web" is forbidden: User "carol" cannot get resource "pods" in API group "" in the namespace "shop"');
    } finally {
      sb.faults.deny.length = 0;
    }
  });

  test('exec wire protocol: v4 and v5 framing, marker, status then close 1000, disconnect kills, SPDY POST errors', async () => {
    const tls = tlsOf(sb.kubeconfig);
    const base = `${sb.server.replace('https', 'wss')}/api/v1/namespaces/shop/pods/web`;
    const q = (command: string[], extra: string): string => `${command.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&container=app&${extra}`;

    for (const proto of ['v4.channel.k8s.io', 'v5.channel.k8s.io']) {
      const s = await session(`${base}/exec?${q(['sh', '-c', 'echo out; echo err >&2; exit 2'], 'stdout=true&stderr=true')}`, [proto, 'channel.k8s.io'], tls);
      assert.equal(s.protocol, proto);
      const r = await s.finished;
      assert.deepEqual(r.frames[0], [1], 'the first frame is the empty stdout marker');
      assert.equal(r.text(1), 'out\n');
      assert.equal(r.text(2), 'err\n');
      assert.deepEqual(JSON.parse(r.text(3)), {
        metadata: {},
        status: 'Failure',
        message: 'command terminated with non-zero exit code: command terminated with exit code 2',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '2' }] },
      });
      assert.equal(r.lastChannel, 3, 'the status is the last frame');
      assert.equal(r.closeCode, 1000);
    }

    // v5: [255, 0] closes only stdin; output after EOF still arrives.
    const v5 = await session(`${base}/exec?${q(['sh', '-c', 'cat; echo after-eof'], 'stdin=true&stdout=true')}`, ['v5.channel.k8s.io'], tls);
    v5.ws.send(Buffer.from([0, ...Buffer.from('abc')]));
    v5.ws.send(Buffer.from([255, 0]));
    const r5 = await v5.finished;
    assert.equal(r5.text(1), 'abcafter-eof\n');
    assert.deepEqual(JSON.parse(r5.text(3)), { metadata: {}, status: 'Success' });

    // tty=true: a pty when util-linux `script` is there, and everything on stdout.
    const tty = await session(`${base}/exec?${q(['sh', '-c', 'tty; echo to-stderr >&2'], 'stdin=true&stdout=true&tty=true')}`, ['v5.channel.k8s.io'], tls);
    tty.ws.send(Buffer.from([255, 0]));
    const rt = await tty.finished;
    assert.match(rt.text(1), existsSync('/usr/bin/script') ? /^\/dev\/pts\/\d+\r?\nto-stderr/ : /to-stderr/);
    assert.equal(rt.text(2), '');

    // Only protocols the sandbox does not speak: no subprotocol in the 101, which clients treat as a failure.
    await assert.rejects(session(`${base}/exec?${q(['true'], 'stdout=true')}`, ['channel.k8s.io'], tls), /subprotocol/);

    // A client that goes away: its process is stopped.
    const before = new Set(sb.processesIn('shop', 'web'));
    const sleeper = await session(`${base}/exec?${q(['sleep', '3600'], 'stdout=true')}`, ['v5.channel.k8s.io'], tls);
    await waitFor(() => sb.processesIn('shop', 'web').some((p) => !before.has(p)));
    const extra = sb.processesIn('shop', 'web').filter((p) => !before.has(p));
    sleeper.ws.terminate();
    await waitFor(() => extra.every(gone), 3000);

    // Errors before the upgrade: the same Status for the WebSocket GET and kubectl's SPDY fallback POST.
    const spdy = await rawRequest(sb, 'POST', '/api/v1/namespaces/shop/pods/web/exec?command=true&container=nope&stdout=true', { upgrade: 'SPDY/3.1', connection: 'Upgrade', 'x-stream-protocol-version': 'v4.channel.k8s.io' });
    assert.equal(spdy.status, 400);
    assert.equal(JSON.parse(spdy.body).message, 'container nope is not valid for pod web');
    const wsMissing = await rawRequest(sb, 'GET', '/api/v1/namespaces/shop/pods/gone/exec?command=true&stdout=true', {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-protocol': 'v5.channel.k8s.io',
    });
    assert.equal(wsMissing.status, 404);
    assert.equal(JSON.parse(wsMissing.body).message, 'pods "gone" not found');
  });

  test('stopApi: connections are refused, the pods keep running', async () => {
    const before = sb.processesIn('shop', 'web');
    await sb.stopApi();
    await assert.rejects(core.listNamespacedPod({ namespace: 'shop' }), /ECONNREFUSED/);
    assert.deepEqual(sb.processesIn('shop', 'web').sort(), before.sort());
    assert.ok(before.length >= 2);
  });

  test('startApi: the same address serves again; apiUnavailable answers everything with 503', async () => {
    await sb.startApi();
    const pods = await core.listNamespacedPod({ namespace: 'shop' });
    assert.ok(pods.items.some((p) => p.metadata?.name === 'web'));
    sb.faults.apiUnavailable = true;
    try {
      await assert.rejects(core.listNamespacedPod({ namespace: 'shop' }), (err: { code?: number; body?: string }) => {
        assert.equal(err.code, 503);
        assert.match(String(err.body), /"reason":"ServiceUnavailable"/);
        return true;
      });
      // client-node rejects with ws's ErrorEvent, not an Error.
      await assert.rejects(new k8s.Exec(kc).exec('shop', 'web', 'app', ['true'], null, null, null, false), (err: { message?: string }) => {
        assert.match(String(err.message), /Unexpected server response: 503/);
        return true;
      });
    } finally {
      sb.faults.apiUnavailable = false;
    }
    assert.equal((await core.listNamespacedPod({ namespace: 'shop' })).items.length, pods.items.length);
  });
});

test('stop() leaves no process, namespace, bridge or file behind', { skip }, async () => {
  const sb = await startSandbox({ pods: [{ namespace: 'default', name: 'p', containers: [{ name: 'c', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600 & sleep 3600'] }] }] });
  const { kc } = client(sb.kubeconfig);
  const netns = sb.podNetns('default', 'p');
  // An exec still running when the sandbox stops.
  const stdin = new PassThrough();
  await new k8s.Exec(kc).exec('default', 'p', 'c', ['sh', '-c', 'sleep 3600 & cat'], null, null, stdin, false);
  // busybox sh execs the last command: sleep, sleep (the container), sleep, cat (the exec).
  await waitFor(() => sb.processesIn('default', 'p').length >= 4);
  const pids = sb.processesIn('default', 'p');
  const dir = (await run('sh', ['-c', `ls -d /tmp/ks-${process.pid}-sandbox-*`])).stdout.toString('utf8').trim().split('\n');
  await sb.stop();
  // Killed grandchildren are reaped by init a moment later.
  await waitFor(() => pids.every(gone), 2000);
  assert.ok(!(await run('ip', ['netns', 'list'])).stdout.toString('utf8').includes(netns));
  const bridges = (await run('ip', ['-o', 'link', 'show', 'type', 'bridge'])).stdout.toString('utf8');
  assert.ok(!new RegExp(`ksbr${process.pid}x`).test(bridges), bridges);
  for (const d of dir.filter(Boolean)) assert.ok(!existsSync(d), `${d} removed`);
});

interface TlsFiles {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function tlsOf(kubeconfig: string): TlsFiles {
  const text = readFileSync(kubeconfig, 'utf8');
  const file = (field: string): Buffer => readFileSync(new RegExp(`${field}: "(.*)"`).exec(text)![1]!);
  return { ca: file('certificate-authority'), cert: file('client-certificate'), key: file('client-key') };
}

interface SessionResult {
  frames: number[][];
  closeCode: number;
  lastChannel: number | undefined;
  text(channel: number): string;
}

/** A raw exec/attach WebSocket: resolves once open; `finished` once the server closed it. */
function session(url: string, protocols: string[], tls: TlsFiles): Promise<{ ws: WebSocket; protocol: string; finished: Promise<SessionResult> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { ...tls });
    const frames: Buffer[] = [];
    ws.on('message', (data: Buffer) => frames.push(data));
    const finished = new Promise<SessionResult>((done) => {
      ws.on('close', (closeCode) =>
        done({
          frames: frames.map((f) => [...f]),
          closeCode,
          lastChannel: frames.at(-1)?.[0],
          text: (channel) => Buffer.concat(frames.filter((f) => f[0] === channel).map((f) => f.subarray(1))).toString('utf8'),
        }),
      );
    });
    ws.once('open', () => resolve({ ws, protocol: ws.protocol, finished }));
    ws.once('error', reject);
  });
}

/** A request with arbitrary (upgrade) headers; the answer's status and body. */
function rawRequest(sb: Sandbox, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const tls = tlsOf(sb.kubeconfig);
  return new Promise((resolve, reject) => {
    const req = request(`${sb.server}${path}`, { method, ...tls, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('upgrade', (res) => reject(new Error(`unexpected upgrade: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

/** No such process, or only its zombie entry left for init to reap. */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** A GET with a bearer token (or none) and the CA, bypassing any client. */
function rawGet(sb: Sandbox, path: string, token?: string): Promise<{ status: number; body: string }> {
  const ca = readFileSync(/certificate-authority: "(.*)"/.exec(readFileSync(sb.kubeconfig, 'utf8'))![1]!);
  return new Promise((resolve, reject) => {
    const req = request(`${sb.server}${path}`, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
