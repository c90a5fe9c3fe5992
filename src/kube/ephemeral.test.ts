import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';
import { agentDir, captureContainerSpec, randomContainerName, reusableContainer, startOutcome, targetContainerOf } from './ephemeral.ts';

test('container names are shark- plus 5 of [a-z0-9]; the agent folder is named after it', () => {
  for (let i = 0; i < 50; i++) assert.match(randomContainerName(), /^shark-[a-z0-9]{5}$/);
  assert.equal(agentDir('shark-ab12c'), '/tmp/kubectl-shark-shark-ab12c');
});

test('the spec carries only what the profile needs, targets the app container and runs the keeper', () => {
  const auto = captureContainerSpec({ name: 'shark-aaaaa', image: 'node:24-slim', target: 'app', profile: 'auto' });
  assert.deepEqual(auto.securityContext, { capabilities: { add: ['NET_RAW'] } });
  assert.equal(auto.targetContainerName, 'app');
  assert.equal(auto.image, 'node:24-slim');
  assert.deepEqual(auto.command!.slice(0, 2), ['node', '-e']);
  assert.equal(auto.command![3], '/tmp/kubectl-shark-shark-aaaaa');
  // Fields an ephemeral container may not have are absent.
  for (const field of ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'lifecycle']) assert.ok(!(field in auto), field);
  assert.deepEqual(captureContainerSpec({ name: 'shark-b', image: 'i', target: 'a', profile: 'netadmin' }).securityContext, { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } });
  assert.deepEqual(captureContainerSpec({ name: 'shark-c', image: 'i', target: 'a', profile: 'privileged' }).securityContext, { privileged: true });
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

test('a running shark container made the same way is reused; others are not', () => {
  const mine = captureContainerSpec({ name: 'shark-old01', image: 'node:24-slim', target: 'app', profile: 'auto' });
  const wanted = { image: 'node:24-slim', target: 'app', profile: 'auto' as const };
  assert.equal(reusableContainer(pod({ ephemeralContainers: [mine] }, [running('shark-old01')]), wanted), 'shark-old01');
  // Terminated, other image, other privileges, or not ours: add a new one.
  const ended: k8s.V1ContainerStatus = { ...running('shark-old01'), state: { terminated: { exitCode: 0 } } };
  assert.equal(reusableContainer(pod({ ephemeralContainers: [mine] }, [ended]), wanted), null);
  assert.equal(reusableContainer(pod({ ephemeralContainers: [mine] }, [running('shark-old01')]), { ...wanted, image: 'node:22-slim' }), null);
  assert.equal(reusableContainer(pod({ ephemeralContainers: [mine] }, [running('shark-old01')]), { ...wanted, profile: 'netadmin' }), null);
  const debugger1 = { ...mine, name: 'debugger-x1' };
  assert.equal(reusableContainer(pod({ ephemeralContainers: [debugger1] }, [running('debugger-x1')]), wanted), null);
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
