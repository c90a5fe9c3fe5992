import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import { CAPTURE_MARKER, captureContainerSpec, chooseReusable, differencesFromOurs, randomContainerName, startOutcome, targetContainerOf } from './ephemeral.ts';

test('container names are shark- plus 5 of [a-z0-9]', () => {
  for (let i = 0; i < 50; i++) assert.match(randomContainerName(), /^shark-[a-z0-9]{5}$/);
});

const ROOT_NO_ESCALATION = { allowPrivilegeEscalation: false, runAsNonRoot: false, runAsUser: 0 };

test('the spec: root explicitly, NET_RAW only, no escalation; targets the app container, runs the keeper, carries our marker', () => {
  const auto = captureContainerSpec({ name: 'shark-aaaaa', image: 'node:24-slim', target: 'app', profile: 'auto' });
  assert.deepEqual(auto.securityContext, { ...ROOT_NO_ESCALATION, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } });
  assert.equal(auto.targetContainerName, 'app');
  assert.equal(auto.image, 'node:24-slim');
  assert.deepEqual(auto.command!.slice(0, 2), ['sh', '-c']);
  assert.equal(auto.command![3], 'kubectl-shark-keeper');
  assert.equal(auto.command![4], 'kubectl-shark-shark-aaaaa.', 'the keeper looks after the folders of its own container');
  assert.deepEqual(auto.env, [{ name: 'KUBECTL_SHARK_CAPTURE', value: 'v2' }]);
  // Fields an ephemeral container may not have are absent.
  for (const field of ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'lifecycle']) assert.ok(!(field in auto), field);
  // baseline forbids adding NET_RAW: the other defaults are dropped by name instead, which leaves the runtime's NET_RAW.
  assert.deepEqual(captureContainerSpec({ name: 'shark-b', image: 'i', target: 'a', profile: 'auto', podSecurity: 'baseline' }).securityContext, {
    ...ROOT_NO_ESCALATION,
    capabilities: { drop: ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'] },
  });
  // privileged cannot also forbid escalation (the apiserver refuses the pair).
  assert.deepEqual(captureContainerSpec({ name: 'shark-c', image: 'i', target: 'a', profile: 'privileged' }).securityContext, { privileged: true, runAsNonRoot: false, runAsUser: 0 });
});

function pod(extra: Partial<k8s.V1PodSpec> = {}, statuses: k8s.V1ContainerStatus[] = []): k8s.V1Pod {
  return {
    metadata: { namespace: 'shop', name: 'web-1' },
    spec: { containers: [{ name: 'app' }, { name: 'sidecar' }], ...extra },
    status: { phase: 'Running', ephemeralContainerStatuses: statuses },
  };
}

const running = (name: string): k8s.V1ContainerStatus => ({ name, image: '', imageID: '', ready: false, restartCount: 0, state: { running: {} } });

test('-c must name a container; without it the default-container annotation, else the first', () => {
  assert.equal(targetContainerOf(pod(), undefined), 'app');
  assert.equal(targetContainerOf(pod(), 'sidecar'), 'sidecar');
  const annotated = pod();
  annotated.metadata!.annotations = { 'kubectl.kubernetes.io/default-container': 'sidecar' };
  assert.equal(targetContainerOf(annotated, undefined), 'sidecar');
  assert.throws(() => targetContainerOf(pod(), 'nope'), (e: unknown) => e instanceof SharkError && e.code === 'USAGE' && /containers: app, sidecar/.test(e.message));
});

test('only a running shark container exactly like ours is reused; any other shark-* is foreign, with what differs', () => {
  const wanted = { image: 'node:24-slim', target: 'app', profile: 'auto' as const };
  // As the API server stores it: with defaults filled in.
  const storedAs = (name: string): k8s.V1EphemeralContainer => ({
    ...captureContainerSpec({ name, ...wanted }),
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    resources: {},
  });
  const mine = captureContainerSpec({ name: 'shark-old01', ...wanted });
  const stored = storedAs('shark-old01');
  assert.deepEqual(chooseReusable(pod({ ephemeralContainers: [stored] }, [running('shark-old01')]), wanted), { reuse: 'shark-old01', foreign: [] });
  // The API server leaves out plain false booleans: still ours.
  assert.deepEqual(chooseReusable(pod({ ephemeralContainers: [{ ...stored, stdin: false, tty: false }] }, [running('shark-old01')]), wanted).reuse, 'shark-old01');
  // Terminated: neither reused nor foreign (it is ours, and over).
  const ended: k8s.V1ContainerStatus = { ...running('shark-old01'), state: { terminated: { exitCode: 0 } } };
  assert.deepEqual(chooseReusable(pod({ ephemeralContainers: [stored] }, [ended]), wanted), { reuse: null, foreign: [] });
  // Another image or profile than this tap wants: not reused.
  assert.equal(chooseReusable(pod({ ephemeralContainers: [stored] }, [running('shark-old01')]), { ...wanted, image: 'node:22-slim' }).reuse, null);
  assert.equal(chooseReusable(pod({ ephemeralContainers: [stored] }, [running('shark-old01')]), { ...wanted, profile: 'privileged' }).reuse, null);
  // Not a shark-* name: not considered at all.
  const debugger1 = { ...mine, name: 'debugger-x1' };
  assert.deepEqual(chooseReusable(pod({ ephemeralContainers: [debugger1] }, [running('debugger-x1')]), wanted), { reuse: null, foreign: [] });

  // Someone else's shark-*: each defining difference is named, and it is never reused.
  const variants: [string, Partial<k8s.V1EphemeralContainer>][] = [
    ['command', { command: ['sleep', '3600'] }],
    ['args', { args: ['--extra'] }],
    ['env', { env: [] }],
    ['env', { env: [CAPTURE_MARKER, { name: 'LD_PRELOAD', value: '/tmp/x.so' }] }],
    ['volumeMounts', { volumeMounts: [{ name: 'host', mountPath: '/host' }] }],
    ['stdin', { stdin: true }],
  ];
  for (const [field, change] of variants) {
    const other = { ...storedAs('shark-zzzzz'), ...change };
    assert.deepEqual(differencesFromOurs(other, wanted), [field], JSON.stringify(change));
    const choice = chooseReusable(pod({ ephemeralContainers: [other, stored] }, [running('shark-zzzzz'), running('shark-old01')]), wanted);
    assert.deepEqual(choice, { reuse: 'shark-old01', foreign: [{ name: 'shark-zzzzz', differs: [field] }] }, field);
  }
  // What today's release would have reused: another command and env under our old securityContext.
  const older = { ...storedAs('shark-zzzzz'), command: ['sleep', '3600'], env: [{ name: 'OWNER', value: 'x' }], securityContext: { capabilities: { add: ['NET_RAW'] } } };
  assert.deepEqual(chooseReusable(pod({ ephemeralContainers: [older] }, [running('shark-zzzzz')]), wanted), {
    reuse: null,
    foreign: [{ name: 'shark-zzzzz', differs: ['command', 'env', 'securityContext'] }],
  });
  // A false that is a setting is not an absence: without it, escalation and the root-refusal defaults apply. Never reused.
  for (const sc of [{ ...mine.securityContext, allowPrivilegeEscalation: undefined }, { ...mine.securityContext, runAsNonRoot: undefined }]) {
    const loose = { ...stored, securityContext: sc };
    assert.deepEqual(differencesFromOurs(loose, wanted), ['securityContext']);
    assert.equal(chooseReusable(pod({ ephemeralContainers: [loose] }, [running('shark-old01')]), wanted).reuse, null);
  }
  // A capture container of another tap's settings (image, target, profile) is not reused, and not foreign either.
  for (const change of [{ image: 'node:22-slim' }, { targetContainerName: 'sidecar' }, { securityContext: { privileged: true, runAsNonRoot: false, runAsUser: 0 } }]) {
    assert.deepEqual(chooseReusable(pod({ ephemeralContainers: [{ ...stored, ...change }] }, [running('shark-old01')]), wanted), { reuse: null, foreign: [] }, JSON.stringify(change));
  }
});

test('waiting reasons: image pull problems and start errors end the wait at once', () => {
  const waiting = (reason: string, message = ''): k8s.V1Pod => pod({}, [{ ...running('shark-n'), state: { waiting: { reason, message } } }]);
  assert.equal(startOutcome(pod(), 'shark-n', 'img'), null);
  assert.equal(startOutcome(waiting('ContainerCreating'), 'shark-n', 'img'), null);
  assert.equal(startOutcome(pod({}, [running('shark-n')]), 'shark-n', 'img'), 'running');
  const pull = startOutcome(waiting('ImagePullBackOff', 'Back-off pulling image "nope:1"'), 'shark-n', 'nope:1');
  assert.ok(pull instanceof SharkError);
  assert.equal(pull.code, 'KUBE_IMAGE_PULL');
  assert.match(pull.message, /nope:1 cannot be pulled in pod shop\/web-1 \(ImagePullBackOff: Back-off pulling image "nope:1"\)/);
  assert.equal((startOutcome(waiting('ErrImagePull'), 'shark-n', 'x') as SharkError).code, 'KUBE_IMAGE_PULL');
  assert.equal((startOutcome(waiting('CreateContainerError'), 'shark-n', 'x') as SharkError).code, 'KUBE_START_FAILED');
  const gone = pod({}, [{ ...running('shark-n'), state: { terminated: { exitCode: 127, reason: 'StartError' } } }]);
  assert.match((startOutcome(gone, 'shark-n', 'busybox') as SharkError).message, /exit code 127.*must provide `node`/);
});
