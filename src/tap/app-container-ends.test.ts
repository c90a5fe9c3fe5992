import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { AppContainerEnds, appEndedMessage, appKilledMessage, type AppContainerEnd } from './app-container-ends.ts';

const MiB = 2 ** 20;
const STARTED = new Date('2026-12-06T14:00:00Z');

function running(name: string, id: string, restartCount = 0, last?: k8s.V1ContainerStateTerminated): k8s.V1ContainerStatus {
  return { name, image: 'node:24-slim', imageID: '', ready: true, restartCount, containerID: id, state: { running: { startedAt: STARTED } }, lastState: last ? { terminated: last } : {} };
}

function ended(id: string, reason: string, exitCode: number, at: string): k8s.V1ContainerStateTerminated {
  return { containerID: id, reason, exitCode, startedAt: STARTED, finishedAt: new Date(at) };
}

function pod(statuses: k8s.V1ContainerStatus[], extra: Partial<k8s.V1PodStatus> = {}, spec: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod {
  return {
    metadata: { namespace: 'oom', name: 'app', uid: 'u1' },
    spec: { containers: statuses.map((s) => ({ name: s.name })), ...spec },
    status: { phase: 'Running', containerStatuses: statuses, ...extra },
  };
}

test('an app container OOM-killed and restarted while tapped is one memory kill, found once', () => {
  const ends = new AppContainerEnds(pod([running('app', 'runc://a1')]));
  assert.deepEqual(ends.next(pod([running('app', 'runc://a1')])), [], 'nothing changed');
  const oom = ended('runc://a1', 'OOMKilled', 137, '2026-12-06T14:01:00Z');
  // The kubelet's back-off: waiting, restartCount up, lastState the run that was killed.
  const backOff: k8s.V1ContainerStatus = { ...running('app', 'runc://a1', 1, oom), state: { waiting: { reason: 'CrashLoopBackOff' } } };
  assert.deepEqual(ends.next(pod([backOff])), [{ container: 'app', reason: 'OOMKilled', exitCode: 137, memoryKill: true }]);
  // The same end in later events (the restart itself) is not found again.
  assert.deepEqual(ends.next(pod([running('app', 'runc://a2', 1, oom)])), []);
});

test('an end the kubelet reports before restarting (state.terminated) is found, and not again once it is lastState', () => {
  const ends = new AppContainerEnds(pod([running('app', 'runc://a1')]));
  const kill = ended('runc://a1', 'Error', 137, '2026-12-06T14:01:00Z');
  const terminated: k8s.V1ContainerStatus = { ...running('app', 'runc://a1'), state: { terminated: kill } };
  assert.deepEqual(ends.next(pod([terminated])), [{ container: 'app', reason: 'Error', exitCode: 137, memoryKill: true }], 'SIGKILL without another reason counts as a memory kill');
  assert.deepEqual(ends.next(pod([running('app', 'runc://a2', 1, kill)])), []);
});

test('ends already in the pod when the tap began are not the tap\'s', () => {
  const old = ended('runc://a0', 'OOMKilled', 137, '2026-12-06T13:00:00Z');
  const ends = new AppContainerEnds(pod([running('app', 'runc://a1', 3, old)]));
  assert.deepEqual(ends.next(pod([running('app', 'runc://a1', 3, old)])), []);
  // The next one is.
  const next = ended('runc://a1', 'OOMKilled', 137, '2026-12-06T14:02:00Z');
  assert.equal(ends.next(pod([running('app', 'runc://a2', 4, next)])).length, 1);
});

test('a crash or a clean exit is an end, but not a memory kill', () => {
  const ends = new AppContainerEnds(pod([running('app', 'runc://a1'), running('proxy', 'runc://p1')]));
  const crash = ended('runc://p1', 'Error', 1, '2026-12-06T14:01:00Z');
  const done = ended('runc://a1', 'Completed', 0, '2026-12-06T14:01:00Z');
  const term = ended('runc://a1', 'Error', 143, '2026-12-06T14:01:00Z');
  assert.deepEqual(ends.next(pod([running('app', 'runc://a1'), running('proxy', 'runc://p2', 1, crash)])), [{ container: 'proxy', reason: 'Error', exitCode: 1, memoryKill: false }]);
  assert.deepEqual(ends.next(pod([running('app', 'runc://a2', 1, done), running('proxy', 'runc://p2', 1, crash)])), [{ container: 'app', reason: 'Completed', exitCode: 0, memoryKill: false }]);
  const another = new AppContainerEnds(pod([running('app', 'runc://a1')]));
  assert.equal(another.next(pod([running('app', 'runc://a2', 1, term)]))[0]!.memoryKill, false, 'SIGTERM (143): a probe or a rollout, not memory');
});

test('a restart without lastState is still an end (reason unknown), and a stale event does not count twice', () => {
  const ends = new AppContainerEnds(pod([running('app', 'runc://a1', 2)]));
  assert.deepEqual(ends.next(pod([running('app', 'runc://a2', 3)])), [{ container: 'app', reason: '', exitCode: null, memoryKill: false }]);
  assert.deepEqual(ends.next(pod([running('app', 'runc://a1', 2)])), [], 'an older event');
  assert.deepEqual(ends.next(pod([running('app', 'runc://a2', 3)])), []);
});

test('sidecars are app containers; run-once init containers and the capture container are not', () => {
  const initial = pod([running('app', 'runc://a1')], {
    initContainerStatuses: [running('mesh', 'runc://m1'), { ...running('migrate', 'runc://i1'), state: { terminated: ended('runc://i1', 'Completed', 0, '2026-12-06T13:59:00Z') } }],
    ephemeralContainerStatuses: [running('shark-x2x8q', 'runc://s1')],
  }, { initContainers: [{ name: 'mesh', restartPolicy: 'Always' }, { name: 'migrate' }] });
  const ends = new AppContainerEnds(initial);
  const meshKill = ended('runc://m1', 'OOMKilled', 137, '2026-12-06T14:01:00Z');
  const later: k8s.V1Pod = {
    ...initial,
    status: {
      ...initial.status,
      initContainerStatuses: [running('mesh', 'runc://m2', 1, meshKill), initial.status!.initContainerStatuses![1]!],
      ephemeralContainerStatuses: [{ ...running('shark-x2x8q', 'runc://s1'), state: { terminated: ended('runc://s1', 'Error', 137, '2026-12-06T14:01:00Z') } }],
    },
  };
  assert.deepEqual(ends.next(later), [{ container: 'mesh', reason: 'OOMKilled', exitCode: 137, memoryKill: true }]);
});

test('the lines: pod, container, reason, limit, that the capture stopped, and what to do', () => {
  const oom: AppContainerEnd = { container: 'app', reason: 'OOMKilled', exitCode: 137, memoryKill: true };
  assert.equal(
    appKilledMessage(oom, { pod: 'oom/app', limitBytes: 128 * MiB, forced: true }),
    "pod oom/app: container app was OOM-killed while tapped (pod memory limit 128 MiB, the capture agent's memory counts against it): " +
      "capture stopped for this pod; tap it without --force (a pod without room is refused), or raise the pod's memory limit",
  );
  const sigkill: AppContainerEnd = { container: 'web', reason: 'Error', exitCode: 137, memoryKill: true };
  assert.match(appKilledMessage(sigkill, { pod: 'shop/web-1', limitBytes: 512 * MiB, forced: false }), /^pod shop\/web-1: container web was killed \(exit code 137, SIGKILL: out of memory\?\) while tapped \(pod memory limit 512 MiB, .*; raise the pod's memory limit, or tap it with a lower --max-memory$/);
  assert.match(appKilledMessage(oom, { pod: 'a/b', limitBytes: null, forced: false }), /\(no pod memory limit: the node ran out, .*tap it again when the node has memory to spare$/);
  assert.equal(appEndedMessage({ container: 'app', reason: 'Error', exitCode: 1, memoryKill: false }, 'oom/app'), 'pod oom/app: container app ended (Error, exit code 1) while tapped; not a memory kill, so the capture goes on');
  assert.equal(appEndedMessage({ container: 'app', reason: '', exitCode: null, memoryKill: false }, 'oom/app'), 'pod oom/app: container app restarted while tapped; not a memory kill, so the capture goes on');
});
