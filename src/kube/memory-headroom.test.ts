import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { DEFAULT_AGENT_MEMORY_BYTES, MIN_AGENT_MEMORY_BYTES } from '../model/agent-memory.ts';
import { APP_MARGIN_SHARE, KEEPER_RESERVE_BYTES, podMemoryLimit, sizeAgentMemory, type SizingInput } from './memory-headroom.ts';

const MiB = 2 ** 20;

function container(name: string, memory?: string, extra: Partial<k8s.V1Container> = {}): k8s.V1Container {
  return { name, ...(memory === undefined ? {} : { resources: { limits: { memory } } }), ...extra };
}

function pod(spec: Partial<k8s.V1PodSpec>): k8s.V1Pod {
  return { metadata: { namespace: 'shop', name: 'web-1' }, spec: { containers: [], ...spec } };
}

test('the pod limit: the sum of its containers, unlimited when one has none', () => {
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi')] })), 256 * MiB);
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi'), container('proxy', '64Mi')] })), 320 * MiB);
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi'), container('proxy')] })), null);
  assert.equal(podMemoryLimit(pod({ containers: [container('app')] })), null);
  assert.equal(podMemoryLimit({ metadata: {} }), null);
});

test('the pod limit: sidecars add, init containers raise it to their largest, overhead adds, a pod-level limit wins', () => {
  const sidecar = container('mesh', '32Mi', { restartPolicy: 'Always' });
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi')], initContainers: [sidecar] })), 288 * MiB);
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi')], initContainers: [container('migrate', '1Gi')] })), 1024 * MiB);
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi')], initContainers: [container('migrate', '64Mi')] })), 256 * MiB);
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi')], initContainers: [container('migrate')] })), null);
  assert.equal(podMemoryLimit(pod({ containers: [container('app', '256Mi')], overhead: { memory: '20Mi' } })), 276 * MiB);
  assert.equal(podMemoryLimit(pod({ containers: [container('app')], resources: { limits: { memory: '1Gi' } } })), 1024 * MiB);
});

function size(o: Partial<SizingInput> & Pick<SizingInput, 'limitBytes'>): ReturnType<typeof sizeAgentMemory> {
  return sizeAgentMemory({ pod: 'shop/web-1', usage: { bytes: null, source: 'none', why: 'the metrics API is not served' }, addsContainer: true, force: false, ...o });
}

test('no limit: the default, or --max-memory as given', () => {
  const d = size({ limitBytes: null });
  assert.equal(d.verdict, 'ok');
  assert.equal(d.maxMemoryBytes, DEFAULT_AGENT_MEMORY_BYTES);
  assert.equal(d.budgetBytes, null);
  assert.match(d.summary, /no memory limit: agent --max-memory 200 MiB \(default\)/);
  assert.equal(size({ limitBytes: null, explicitBytes: 500 * MiB }).maxMemoryBytes, 500 * MiB);
});

test('with metrics: limit - usage - a tenth of the limit - the keeper, at most the default', () => {
  const limit = 1024 * MiB;
  const roomy = size({ limitBytes: limit, usage: { bytes: 300 * MiB, source: 'metrics' } });
  assert.equal(roomy.verdict, 'ok');
  assert.equal(roomy.budgetBytes, Math.floor((limit - 300 * MiB - limit * APP_MARGIN_SHARE - KEEPER_RESERVE_BYTES) / MiB) * MiB);
  assert.equal(roomy.maxMemoryBytes, DEFAULT_AGENT_MEMORY_BYTES);
  assert.match(roomy.summary, /limit 1 GiB, usage 300 MiB \(metrics API\), room for the agent 605 MiB: agent --max-memory 200 MiB/);

  const tight = size({ limitBytes: 512 * MiB, usage: { bytes: 300 * MiB, source: 'metrics' } });
  assert.equal(tight.verdict, 'ok');
  const budget = 144 * MiB; // 512 - 300 - 51.2 - 16, in whole MiB
  assert.equal(tight.maxMemoryBytes, budget);
  // A reused container's keeper is in the usage already.
  assert.equal(size({ limitBytes: 512 * MiB, usage: { bytes: 300 * MiB, source: 'metrics' }, addsContainer: false }).maxMemoryBytes, budget + KEEPER_RESERVE_BYTES);
});

test('without metrics: a quarter of the limit is assumed free', () => {
  const d = size({ limitBytes: 1024 * MiB });
  assert.equal(d.verdict, 'ok');
  assert.equal(d.maxMemoryBytes, DEFAULT_AGENT_MEMORY_BYTES);
  assert.equal(d.budgetBytes, 256 * MiB - KEEPER_RESERVE_BYTES);
  assert.equal(size({ limitBytes: 512 * MiB }).maxMemoryBytes, 128 * MiB - KEEPER_RESERVE_BYTES);
  assert.match(d.summary, /usage unknown \(the metrics API is not served; assuming 75% of the limit\)/);
  assert.equal(size({ limitBytes: 256 * MiB }).verdict, 'refused');
});

test('too little headroom: refused, with the pod, its limit, its usage and what to do', () => {
  const d = size({ limitBytes: 256 * MiB, usage: { bytes: 150 * MiB, source: 'metrics' } });
  assert.equal(d.verdict, 'refused');
  assert.equal(d.maxMemoryBytes, MIN_AGENT_MEMORY_BYTES);
  assert.match(d.summary, /too little for the agent \(needs 96 MiB\): refused without --force/);
  assert.match(
    d.problem!,
    /^pod shop\/web-1 has too little free memory for the capture agent \(limit 256 MiB, usage 150 MiB \(metrics API\), room for the agent 64 MiB\): the capture agent needs at least 96 MiB, and its memory counts against the pod's limit\. tap a replica with more room, raise the pod's memory limit, or pass --force/,
  );
  const blind = size({ limitBytes: 256 * MiB });
  assert.match(blind.problem!, /Install metrics-server so tap can measure the usage, or tap a replica/);
  // Already over the limit (a usage sample above it): no room at all, not a negative one.
  assert.equal(size({ limitBytes: 256 * MiB, usage: { bytes: 300 * MiB, source: 'metrics' } }).budgetBytes, 0);
});

test('--force: taps anyway with the smallest --max-memory, or the one given, and says what it risks', () => {
  const d = size({ limitBytes: 256 * MiB, usage: { bytes: 150 * MiB, source: 'metrics' }, force: true });
  assert.equal(d.verdict, 'forced');
  assert.equal(d.maxMemoryBytes, MIN_AGENT_MEMORY_BYTES);
  assert.match(d.summary, /too little, forced: agent --max-memory 96 MiB/);
  assert.match(d.problem!, /if the pod runs out of memory, the kernel may kill the app rather than the agent, and tap then stops that pod's capture\)$/);
  assert.equal(size({ limitBytes: 256 * MiB, usage: { bytes: 150 * MiB, source: 'metrics' }, force: true, explicitBytes: 128 * MiB }).maxMemoryBytes, 128 * MiB);
  // --force changes nothing where the agent fits.
  assert.equal(size({ limitBytes: 1024 * MiB, usage: { bytes: 100 * MiB, source: 'metrics' }, force: true }).verdict, 'ok');
});

test('--max-memory wins where it fits, and is checked against the room where there is a limit', () => {
  const fits = size({ limitBytes: 1024 * MiB, usage: { bytes: 100 * MiB, source: 'metrics' }, explicitBytes: 120 * MiB });
  assert.deepEqual([fits.verdict, fits.maxMemoryBytes], ['ok', 120 * MiB]);
  // Above the default is fine where there is room.
  assert.equal(size({ limitBytes: 2048 * MiB, usage: { bytes: 100 * MiB, source: 'metrics' }, explicitBytes: 400 * MiB }).maxMemoryBytes, 400 * MiB);
  const tooBig = size({ limitBytes: 512 * MiB, usage: { bytes: 250 * MiB, source: 'metrics' }, explicitBytes: 300 * MiB });
  assert.equal(tooBig.verdict, 'refused');
  assert.match(tooBig.problem!, /--max-memory 300 MiB is more than the 194 MiB it has room for/);
  assert.match(tooBig.problem!, /lower --max-memory to 194 MiB, or pass --force \(the agent then runs with --max-memory 300 MiB/);
});
