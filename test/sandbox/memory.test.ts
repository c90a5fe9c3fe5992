/**
 * Pods' memory in the sandbox, for real: a pod whose containers have memory limits gets a memory
 * cgroup with their sum as its limit, holding its containers' processes, what is exec'd into them
 * and its ephemeral containers' processes (no limit of their own), so the kernel OOM-kills inside
 * the pod; the metrics API serves the cgroups' working sets; and the cgroups go with the pod.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { requireSandbox, startSandbox, type Sandbox } from './index.ts';
import { skipFor } from '../helpers/requirements.ts';
import { until } from '../helpers/until.ts';

const reason = requireSandbox();
const skip = skipFor(reason);
if (skip) process.stderr.write(`skipping the sandbox memory tests: ${reason}\n`);

const MiB = 2 ** 20;
/** Holds N MiB of written pages, then sleeps. */
const HOLD = (mb: number): string[] => ['node', '-e', `globalThis.b = Buffer.alloc(${mb} * 1048576, 1); console.log('holding ${mb}'); setInterval(() => {}, 1e9)`];

function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => /^\d+:[^:]*\bmemory\b[^:]*:/.test(l) || l.startsWith('0::'));
  return line?.split(':').slice(2).join(':') ?? '';
}

describe('pod memory cgroups and the metrics API', { skip }, () => {
  let sb: Sandbox;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;

  before(async () => {
    sb = await startSandbox({
      namespaces: [{ name: 'mem' }],
      pods: [
        {
          namespace: 'mem',
          name: 'limited',
          labels: { app: 'limited' },
          containers: [
            { name: 'app', image: 'node:24-slim', command: HOLD(20), resources: { limits: { memory: '64Mi' } } },
            { name: 'side', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { limits: { memory: '32Mi', cpu: '100m' } } },
          ],
        },
        { namespace: 'mem', name: 'unlimited', containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
      ],
    });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
  });

  after(async () => {
    await sb?.stop();
  });

  test('this machine gives pods memory cgroups (else the tests below would prove nothing)', () => {
    assert.equal(sb.memoryCgroupsReason, null);
  });

  test('the pod cgroup is limited to the sum of its containers, and holds their processes', async () => {
    const memory = sb.podMemory('mem', 'limited')!;
    assert.equal(memory.limitBytes(), 96 * MiB);
    assert.equal(sb.podMemory('mem', 'unlimited')!.limitBytes(), Infinity);
    const pod = await core.readNamespacedPod({ namespace: 'mem', name: 'limited' });
    assert.equal(pod.spec?.containers[0]?.resources?.limits?.['memory'], '64Mi');
    assert.equal(pod.status?.qosClass, 'Burstable');
    const pids = sb.processesIn('mem', 'limited');
    assert.equal(pids.length, 2);
    const groups = pids.map(cgroupOf).sort();
    assert.ok(groups.every((g) => g.endsWith('/app') || g.endsWith('/side')), groups.join(' '));
    await until('the app holding 20 MiB', () => (memory.usageBytes() > 20 * MiB ? true : undefined));
  });

  test('exec and ephemeral containers run inside the pod cgroup', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      void new k8s.Exec(kc).exec('mem', 'limited', 'side', ['cat', '/proc/self/cgroup'], out, new PassThrough(), null, false, () => resolve()).catch(reject);
    });
    await until('exec output', () => (text.includes('\n') ? true : undefined));
    assert.match(text, /memory[^:]*:\/.*\/ks-\d+-\d+-mem_limited\/side\n/);

    await core.patchNamespacedPodEphemeralcontainers(
      { namespace: 'mem', name: 'limited', body: { spec: { ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36', command: ['sleep', '3600'], targetContainerName: 'app' }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const pid = await until('the ephemeral container process', () => sb.processesIn('mem', 'limited').find((p) => cgroupOf(p).endsWith('/debug')));
    assert.match(cgroupOf(pid), /\/ks-\d+-\d+-mem_limited\/debug$/);
  });

  test('the metrics API serves each container\'s working set, as kubectl top reads it', async () => {
    const groups = async (): Promise<string[]> => (await kc.makeApiClient(k8s.ApisApi).getAPIVersions()).groups.map((g) => g.name);
    assert.ok((await groups()).includes('metrics.k8s.io'), 'discovered');
    const metrics = (await custom.getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'mem', plural: 'pods', name: 'limited' })) as {
      kind: string;
      containers: { name: string; usage: { cpu: string; memory: string } }[];
    };
    assert.equal(metrics.kind, 'PodMetrics');
    const app = metrics.containers.find((c) => c.name === 'app')!;
    const appKi = Number(/^(\d+)Ki$/.exec(app.usage.memory)![1]);
    assert.ok(appKi * 1024 > 20 * MiB && appKi * 1024 < 64 * MiB, `app working set ${app.usage.memory}`);
    assert.match(app.usage.cpu, /^\d+n$/);
    assert.deepEqual(metrics.containers.map((c) => c.name).sort(), ['app', 'debug', 'side']);
    const list = (await custom.listNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'mem', plural: 'pods', labelSelector: 'app=limited' })) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['limited']);

    sb.faults.metricsUnavailable = true;
    try {
      const err = await custom.getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'mem', plural: 'pods', name: 'limited' }).then(
        () => null,
        (e: unknown) => e as { code?: number },
      );
      assert.equal(err?.code, 404);
      assert.equal((await groups()).includes('metrics.k8s.io'), false, 'not discovered');
    } finally {
      sb.faults.metricsUnavailable = false;
    }
  });

  test('a container that outgrows the pod limit is OOM-killed by the kernel and reported OOMKilled', async () => {
    // restartPolicy Never: the OOMKilled state stays (containers.test.ts shows the restart of an Always one).
    await sb.createPod({ namespace: 'mem', name: 'hog', restartPolicy: 'Never', containers: [{ name: 'hog', image: 'node:24-slim', command: HOLD(200), resources: { limits: { memory: '64Mi' } } }] });
    const state = await until(
      'the hog terminated',
      async () => (await core.readNamespacedPod({ namespace: 'mem', name: 'hog' })).status?.containerStatuses?.[0]?.state?.terminated,
      20_000,
    );
    assert.deepEqual([state.reason, state.exitCode], ['OOMKilled', 137]);
    assert.equal(sb.podMemory('mem', 'hog')!.oomKills(), 1);
  });

  test('a container that ends takes what was exec\'d into it along (its cgroup says which processes)', async () => {
    await sb.createPod({ namespace: 'mem', name: 'short', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { limits: { memory: '32Mi' } } }] });
    let status: k8s.V1Status | undefined;
    const closed = new Promise<void>((resolve, reject) => {
      void new k8s.Exec(kc)
        .exec('mem', 'short', 'main', ['sleep', '3600'], new PassThrough(), new PassThrough(), null, false, (s) => {
          status = s;
          resolve();
        })
        .catch(reject);
    });
    const [main] = await until('the exec running', () => {
      const pids = sb.processesIn('mem', 'short');
      return pids.length === 2 ? pids.sort((a, b) => a - b) : undefined;
    });
    process.kill(main!, 'SIGKILL');
    await closed;
    assert.equal(status?.details?.causes?.[0]?.message, '137', JSON.stringify(status));
  });

  test('a deleted pod takes its cgroups with it', async () => {
    const dir = sb.podMemory('mem', 'hog')!.dir;
    assert.ok(existsSync(dir));
    await sb.deletePod('mem', 'hog');
    assert.equal(existsSync(dir), false);
  });
});

test('stop() removes every pod cgroup', { skip }, async () => {
  const sb = await startSandbox({ pods: [{ namespace: 'default', name: 'p', containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], resources: { limits: { memory: '32Mi' } } }] }] });
  const dir = sb.podMemory('default', 'p')!.dir;
  assert.ok(existsSync(`${dir}/c`));
  await sb.stop();
  assert.equal(existsSync(dir), false);
});
