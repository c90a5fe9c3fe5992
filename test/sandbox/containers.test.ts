/**
 * The sandbox's pods as a real node runs them (issue 14): each container a runc container from a
 * local image, seen through the real API (kubectl 1.32, client-node). What a node does to a
 * container, for real: the kernel's OOM killer and the kubelet's restart per restartPolicy, exit
 * codes, pull failures, containerd's RuntimeDefault seccomp profile and capabilities, the user it
 * runs as, its own root filesystem and PID namespace (shared per pod on request, joined by an
 * ephemeral container's target), cgroup limits; and exec, exec -it, attach, logs and debug on them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { shellQuote } from '../../src/remote-agent/dissect/http1/curl-command.ts';
import { findKubectl, runCommand, type CliResult } from '../helpers/run-cli.ts';
import { hasCommand, skipFor } from '../helpers/requirements.ts';
import { requireSandbox, startSandbox, type FixtureContainer, type FixturePod, type Sandbox } from './index.ts';
import { until as untilWithin } from '../helpers/until.ts';

const kubectlPath = findKubectl();
const skip = skipFor(requireSandbox() ?? (kubectlPath === undefined ? 'no kubectl 1.32 (the tests drive the sandbox with it)' : null) ?? (hasCommand('script') ? null : 'util-linux script is not installed (kubectl exec -it needs a terminal)'));
if (skip) process.stderr.write(`skipping the sandbox container tests: ${skip}\n`);

const NS = 'node';
const MiB = 2 ** 20;
/** koffi (a foreign function interface) from this checkout's node_modules, mounted read-only at its real path in each app container. */
const KOFFI = realpathSync(fileURLToPath(new URL('../../node_modules/koffi', import.meta.url)));
const sleeper = (name: string, more: Partial<FixtureContainer> = {}): FixtureContainer => ({ name, image: 'busybox:1.36', command: ['sleep', '3600'], ...more });
const nodeSleeper = (name: string, more: Partial<FixtureContainer> = {}): FixtureContainer => ({ name, image: 'node:24-slim', command: ['sleep', 'infinity'], ...more });

/**
 * Calls bpf(BPF_MAP_CREATE) for a one-entry array map, bpf(BPF_MAP_CREATE) with an empty
 * attribute (the kernel answers EINVAL to anyone before it checks permissions, so EPERM there is
 * the seccomp filter's), and perf_event_open for a user-space-only software counter on itself (what
 * perf_event_paranoid 2 allows anyone), through libc's syscall() by x86_64 number, and prints each
 * result with errno, and the Seccomp mode of /proc/self/status. Run as `node -e PROBE KOFFI_DIR`.
 */
const SYSCALL_PROBE = `
const koffi = require(process.argv[1]);
const syscall = koffi.load('libc.so.6').func('long syscall(long nr, ...)');
const call = (nr, ...args) => { koffi.errno(0); const ret = Number(syscall(nr, ...args)); return { ret, errno: koffi.errno() }; };
const map = Buffer.alloc(128); map.writeUInt32LE(2, 0); map.writeUInt32LE(4, 4); map.writeUInt32LE(4, 8); map.writeUInt32LE(1, 12);
const bpf = call(321, 'int', 0, 'void *', map, 'uint', map.length);
const bpfEmpty = call(321, 'int', 0, 'void *', Buffer.alloc(128), 'uint', 128);
const attr = Buffer.alloc(128); attr.writeUInt32LE(1, 0); attr.writeUInt32LE(128, 4); attr.writeBigUInt64LE(0x60n, 40);
const perf = call(298, 'void *', attr, 'int', 0, 'int', -1, 'int', -1, 'ulong', 0);
const seccomp = Number(/^Seccomp:\\s*(\\d)/m.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]);
console.log(JSON.stringify({ seccomp, bpf, bpfEmpty, perf }));
`;
interface SyscallOutcome {
  readonly ret: number;
  readonly errno: number;
}
interface ProbeResult {
  readonly seccomp: number;
  readonly bpf: SyscallOutcome;
  readonly bpfEmpty: SyscallOutcome;
  readonly perf: SyscallOutcome;
}
const EPERM = 1;
const EINVAL = 22;

/** containerd's default capability set (CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE). */
const CONTAINERD_DEFAULT_CAPS = 0xa80425fbn;
const CAP_NET_RAW = 13n;

/** The memory and CPU limits in the cgroup files of a host process (cgroup v1 hierarchies, or v2). */
function cgroupLimitsOf(pid: number): { memoryBytes: number; cpuQuotaUs: number; cpuPeriodUs: number } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => l.split(':'));
  const v1 = (controller: string): string | undefined => {
    const line = lines.find(([, ctl]) => ctl!.split(',').includes(controller));
    return line && join('/sys/fs/cgroup', line[1]!, line.slice(2).join(':'));
  };
  const memory = v1('memory');
  const cpu = v1('cpu');
  if (memory !== undefined && cpu !== undefined) {
    return {
      memoryBytes: Number(readFileSync(join(memory, 'memory.limit_in_bytes'), 'utf8')),
      cpuQuotaUs: Number(readFileSync(join(cpu, 'cpu.cfs_quota_us'), 'utf8')),
      cpuPeriodUs: Number(readFileSync(join(cpu, 'cpu.cfs_period_us'), 'utf8')),
    };
  }
  const unified = join('/sys/fs/cgroup', lines.find(([id]) => id === '0')![2]!);
  const [quota, period] = readFileSync(join(unified, 'cpu.max'), 'utf8').trim().split(' ');
  return { memoryBytes: Number(readFileSync(join(unified, 'memory.max'), 'utf8')), cpuQuotaUs: Number(quota), cpuPeriodUs: Number(period) };
}

/** 20 s: restarts and OOM kills take a back-off or two. */
function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return untilWithin(what, check, timeoutMs);
}

describe('sandbox containers as a node runs them', { skip }, () => {
  let sb: Sandbox;
  let core: k8s.CoreV1Api;
  let kc: k8s.KubeConfig;
  let cacheDir: string;
  /** A hostPath volume: what a container's first run leaves for its restart (a restart gets a fresh root filesystem). */
  let stateDir: string;
  const startMs: number[] = [];

  function kubectl(args: readonly string[], o: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
    return runCommand(kubectlPath!, args, {
      env: { ...process.env, KUBECONFIG: sb.kubeconfig, KUBECACHEDIR: cacheDir },
      timeoutMs: o.timeoutMs ?? 30_000,
      ...(o.input === undefined ? {} : { input: Buffer.from(o.input) }),
    });
  }

  async function ok(args: readonly string[], o: { input?: string } = {}): Promise<string> {
    const r = await kubectl(args, o);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  function execIn(pod: string, container: string, command: readonly string[]): Promise<CliResult> {
    return kubectl(['exec', '-n', NS, pod, '-c', container, '--', ...command]);
  }

  async function statusOf(pod: string, container: string): Promise<k8s.V1ContainerStatus | undefined> {
    const p = await core.readNamespacedPod({ namespace: NS, name: pod });
    return [...(p.status?.containerStatuses ?? []), ...(p.status?.ephemeralContainerStatuses ?? [])].find((s) => s.name === container);
  }

  async function phaseOf(pod: string): Promise<string | undefined> {
    return (await core.readNamespacedPod({ namespace: NS, name: pod })).status?.phase;
  }

  /** Seconds from the previous run's end to this run's start, as the kubelet reports them. */
  function backOffSeconds(s: k8s.V1ContainerStatus): number {
    const ended = s.lastState?.terminated?.finishedAt;
    const started = s.state?.running?.startedAt ?? s.state?.terminated?.startedAt;
    return (new Date(started!).getTime() - new Date(ended!).getTime()) / 1000;
  }

  async function createTimed(pod: FixturePod): Promise<void> {
    const t0 = performance.now();
    await sb.createPod(pod);
    startMs.push(performance.now() - t0);
  }

  before(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-kubecache-`));
    stateDir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-state-`));
    const state = { volumes: [{ name: 'state', hostPath: stateDir }] };
    const mountState = { volumeMounts: [{ name: 'state', mountPath: '/state' }] };
    sb = await startSandbox({ namespaces: [{ name: NS }] });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    const pods: FixturePod[] = [
      {
        namespace: NS,
        name: 'hog',
        ...state,
        containers: [
          {
            name: 'hog',
            image: 'busybox:1.36',
            // The first run fills memory (tail keeps a line that never ends); the restart only sleeps.
            command: ['sh', '-c', 'if [ -e /state/hog-ran ]; then echo second run; exec sleep 3600; fi; touch /state/hog-ran; echo allocating; exec tail /dev/zero'],
            resources: { limits: { memory: '32Mi' } },
            ...mountState,
          },
        ],
      },
      {
        namespace: NS,
        name: 'exits',
        restartPolicy: 'Never',
        containers: [
          { name: 'fails', image: 'busybox:1.36', command: ['sh', '-c', 'echo failing; exit 3'] },
          { name: 'succeeds', image: 'busybox:1.36', command: ['true'] },
        ],
      },
      {
        namespace: NS,
        name: 'onfailure',
        restartPolicy: 'OnFailure',
        ...state,
        containers: [
          { name: 'flaky', image: 'busybox:1.36', command: ['sh', '-c', 'if [ -e /state/flaky-ran ]; then echo second run; exit 0; fi; touch /state/flaky-ran; echo first run, failing; exit 1'], ...mountState },
          { name: 'succeeds', image: 'busybox:1.36', command: ['sh', '-c', 'echo done; exit 0'] },
        ],
      },
      {
        namespace: NS,
        name: 'security',
        containers: [
          nodeSleeper('default'),
          nodeSleeper('privileged', { securityContext: { privileged: true } }),
          nodeSleeper('unconfined', { securityContext: { seccompProfile: { type: 'Unconfined' } } }),
          nodeSleeper('no-net-raw', { securityContext: { capabilities: { drop: ['NET_RAW'] } } }),
          sleeper('user', { securityContext: { runAsUser: 1000 } }),
        ],
      },
      { namespace: NS, name: 'twins', containers: [sleeper('a'), sleeper('b')] },
      { namespace: NS, name: 'shared', shareProcessNamespace: true, containers: [sleeper('one', { command: ['sleep', '3601'] }), sleeper('two', { command: ['sleep', '3602'] })] },
      { namespace: NS, name: 'apart', containers: [sleeper('one', { command: ['sleep', '3601'] }), sleeper('two', { command: ['sleep', '3602'] })] },
      { namespace: NS, name: 'limits', containers: [sleeper('app', { resources: { limits: { memory: '64Mi', cpu: '250m' } } })] },
      { namespace: NS, name: 'talker', containers: [{ name: 'talker', image: 'busybox:1.36', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'] }] },
    ];
    // One at a time: each start is a figure (two cores; parallel starts would measure each other).
    for (const pod of pods) await createTimed(pod);
  });

  after(async () => {
    await sb?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('pods start as runc containers: figures', (t) => {
    const sorted = [...startMs].sort((a, b) => a - b);
    t.diagnostic(`pod start (createPod until Running, ${sorted.length} pods of 1-5 containers): median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} ms, max ${Math.round(sorted.at(-1)!)} ms`);
    assert.ok(sorted.length > 0);
  });

  test('a container over its 32Mi limit is OOM-killed: OOMKilled, exit code 137, restarted (Always) and running', async (t) => {
    const s = await until('hog restarted and running', async () => {
      const st = await statusOf('hog', 'hog');
      return st?.restartCount === 1 && st.state?.running ? st : undefined;
    }, 60_000);
    assert.equal(s.lastState?.terminated?.reason, 'OOMKilled');
    assert.equal(s.lastState?.terminated?.exitCode, 137);
    t.diagnostic(`OOM kill to running again: ${backOffSeconds(s)} s (kubelet timestamps, 1 s resolution)`);
    assert.equal(await ok(['logs', '-n', NS, 'hog', '--previous']), 'allocating\n');
    assert.equal(await ok(['logs', '-n', NS, 'hog']), 'second run\n');
    const table = await ok(['get', 'pod', '-n', NS, 'hog']);
    assert.match(table, /\nhog\s+1\/1\s+Running\s+1 \(\d+s ago\)\s+\d+s\n/);
    assert.equal(await phaseOf('hog'), 'Running');
  });

  test('restartPolicy Never: exit 3 is terminated Error with exit code 3, exit 0 is Completed; nothing restarts', async () => {
    const done = await until('both containers terminated', async () => {
      const fails = await statusOf('exits', 'fails');
      const succeeds = await statusOf('exits', 'succeeds');
      return fails?.state?.terminated && succeeds?.state?.terminated ? { fails, succeeds } : undefined;
    });
    assert.equal(done.fails.state!.terminated!.reason, 'Error');
    assert.equal(done.fails.state!.terminated!.exitCode, 3);
    assert.equal(done.succeeds.state!.terminated!.reason, 'Completed');
    assert.equal(done.succeeds.state!.terminated!.exitCode, 0);
    await until('the pod Failed', async () => ((await phaseOf('exits')) === 'Failed' ? true : undefined));
    // Longer than any back-off the sandbox uses: still no restart.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await statusOf('exits', 'fails'))!.restartCount, 0);
    assert.equal((await statusOf('exits', 'succeeds'))!.restartCount, 0);
    assert.equal(await ok(['logs', '-n', NS, 'exits', '-c', 'fails']), 'failing\n');
  });

  test('restartPolicy OnFailure restarts only the container that failed, until it succeeds', async (t) => {
    const flaky = await until('flaky restarted and completed', async () => {
      const st = await statusOf('onfailure', 'flaky');
      return st?.restartCount === 1 && st.state?.terminated ? st : undefined;
    }, 60_000);
    assert.equal(flaky.state!.terminated!.reason, 'Completed');
    assert.equal(flaky.lastState?.terminated?.reason, 'Error');
    assert.equal(flaky.lastState?.terminated?.exitCode, 1);
    t.diagnostic(`restart back-off after a failure: ${backOffSeconds(flaky)} s (kubelet timestamps, 1 s resolution)`);
    const succeeds = (await statusOf('onfailure', 'succeeds'))!;
    assert.equal(succeeds.state?.terminated?.reason, 'Completed');
    assert.equal(succeeds.restartCount, 0);
    await until('the pod Succeeded', async () => ((await phaseOf('onfailure')) === 'Succeeded' ? true : undefined));
    assert.equal(await ok(['logs', '-n', NS, 'onfailure', '-c', 'flaky', '--previous']), 'first run, failing\n');
    assert.equal(await ok(['logs', '-n', NS, 'onfailure', '-c', 'flaky']), 'second run\n');
  });

  /** The waiting reasons a pod's container goes through, in order, from a watch started before the pod. */
  async function pullReasons(pod: FixturePod, last: string): Promise<string[]> {
    const reasons: string[] = [];
    let abort: AbortController | undefined;
    const seen = new Promise<void>((resolve, reject) => {
      void new k8s.Watch(kc)
        .watch(
          `/api/v1/namespaces/${NS}/pods`,
          { fieldSelector: `metadata.name=${pod.name}` },
          (_type, obj: k8s.V1Pod) => {
            const reason = obj.status?.containerStatuses?.[0]?.state?.waiting?.reason;
            if (reason !== undefined && reasons.at(-1) !== reason) reasons.push(reason);
            if (reason === last) resolve();
          },
          (err) => reject(new Error(`watch ended: ${String(err)}`)),
        )
        .then((c) => {
          abort = c;
        }, reject);
    });
    try {
      await until('the watch', () => abort);
      await sb.createPod(pod);
      await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${last}; reasons: ${reasons.join(' ')}`)), 20_000))]);
    } finally {
      abort?.abort();
    }
    return reasons;
  }

  test('an image the node cannot pull: ErrImagePull, then ImagePullBackOff (an unknown image, and the unknownImages fault on a stored one)', async () => {
    const unknown = await pullReasons({ namespace: NS, name: 'nopull', containers: [sleeper('app', { image: 'registry.example.com/ks/nope:1' })] }, 'ImagePullBackOff');
    assert.deepEqual(unknown.filter((r) => r !== 'ContainerCreating'), ['ErrImagePull', 'ImagePullBackOff']);
    const p = await core.readNamespacedPod({ namespace: NS, name: 'nopull' });
    assert.equal(p.status?.phase, 'Pending');
    assert.match(p.status!.containerStatuses![0]!.state!.waiting!.message!, /Back-off pulling image "registry.example.com\/ks\/nope:1"/);

    sb.faults.unknownImages.push('debian:12-slim');
    try {
      const faulted = await pullReasons({ namespace: NS, name: 'faulted', containers: [sleeper('app', { image: 'debian:12-slim' })] }, 'ImagePullBackOff');
      assert.deepEqual(faulted.filter((r) => r !== 'ContainerCreating'), ['ErrImagePull', 'ImagePullBackOff']);
    } finally {
      sb.faults.unknownImages.length = 0;
    }
    assert.match(await ok(['get', 'pod', '-n', NS, 'nopull']), /\nnopull\s+0\/1\s+(ErrImagePull|ImagePullBackOff)\s+0\s+\d+s\n/);
  });

  async function probe(container: string): Promise<ProbeResult> {
    const r = await execIn('security', container, ['node', '-e', SYSCALL_PROBE, KOFFI]);
    assert.equal(r.code, 0, `probe in ${container}: ${r.stderr}`);
    return JSON.parse(r.stdout) as ProbeResult;
  }

  test('RuntimeDefault seccomp: bpf() and perf_event_open() fail with EPERM; privileged and Unconfined containers are not filtered', async () => {
    const plain = await probe('default');
    assert.equal(plain.seccomp, 2, 'a filter is installed');
    assert.deepEqual(plain.bpf, { ret: -1, errno: EPERM });
    assert.deepEqual(plain.bpfEmpty, { ret: -1, errno: EPERM }, 'the filter, not the kernel (EINVAL)');
    assert.deepEqual(plain.perf, { ret: -1, errno: EPERM });

    const privileged = await probe('privileged');
    assert.equal(privileged.seccomp, 0);
    assert.ok(privileged.bpf.ret >= 0, `bpf in a privileged container: ${JSON.stringify(privileged.bpf)}`);
    assert.ok(privileged.perf.ret >= 0, `perf_event_open in a privileged container: ${JSON.stringify(privileged.perf)}`);

    // Without the filter the kernel decides: bpf() reaches it (a map still needs CAP_BPF, which
    // containerd's defaults do not give), and a user-space counter on itself is anyone's.
    const unconfined = await probe('unconfined');
    assert.equal(unconfined.seccomp, 0);
    assert.deepEqual(unconfined.bpfEmpty, { ret: -1, errno: EINVAL });
    assert.ok(unconfined.perf.ret >= 0, `perf_event_open unconfined: ${JSON.stringify(unconfined.perf)}`);
  });

  test('capabilities: containerd\'s defaults; drop NET_RAW shows in CapEff; runAsUser 1000 runs as 1000 with none', async () => {
    const capEff = async (container: string): Promise<bigint> => BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(await ok(['exec', '-n', NS, 'security', '-c', container, '--', 'cat', '/proc/1/status']))![1]}`);
    assert.equal(await capEff('default'), CONTAINERD_DEFAULT_CAPS);
    assert.equal(await capEff('no-net-raw'), CONTAINERD_DEFAULT_CAPS & ~(1n << CAP_NET_RAW));
    assert.equal(await capEff('user'), 0n);
    assert.equal((await ok(['exec', '-n', NS, 'security', '-c', 'user', '--', 'id', '-u'])).trim(), '1000');
    const status = readFileSync(`/proc/${sb.containerPid(NS, 'security', 'user')}/status`, 'utf8');
    assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
  });

  test('each container has its own root filesystem, under the sandbox\'s folders', async () => {
    const marker = `/ks-${process.pid}-marker`;
    assert.equal(await ok(['exec', '-n', NS, 'twins', '-c', 'a', '--', 'sh', '-c', `echo from a > ${marker}; cat ${marker}`]), 'from a\n');
    const inB = await execIn('twins', 'b', ['cat', marker]);
    assert.equal(inB.code, 1);
    assert.match(inB.stderr, /No such file or directory/);
    assert.equal(existsSync(marker), false, 'not on the host\'s root');
    const rootA = sb.containerRootfs(NS, 'twins', 'a');
    const rootB = sb.containerRootfs(NS, 'twins', 'b');
    assert.notEqual(rootA, rootB);
    assert.match(rootA, new RegExp(`/ks-${process.pid}-`), rootA);
    assert.equal(readFileSync(join(rootA, marker), 'utf8'), 'from a\n');
    assert.equal(existsSync(join(rootB, marker)), false);
    assert.equal(readFileSync(`/proc/${sb.containerPid(NS, 'twins', 'a')}/root${marker}`, 'utf8'), 'from a\n');
    // The container's hostname is the pod's name (its UTS namespace is the pod's).
    assert.equal((await ok(['exec', '-n', NS, 'twins', '-c', 'b', '--', 'hostname'])).trim(), 'twins');
  });

  /** The command lines of every process a container sees. */
  async function processesSeenBy(pod: string, container: string): Promise<string[]> {
    const out = await ok(['exec', '-n', NS, pod, '-c', container, '--', 'ps', '-o', 'pid,args']);
    return out.trim().split('\n').slice(1).map((l) => l.trim());
  }

  test('shareProcessNamespace: the pod\'s containers see each other\'s processes; without it each sees only its own', async () => {
    const shared = await processesSeenBy('shared', 'one');
    assert.ok(shared.some((p) => /^\d+ sleep 3602$/.test(p)), shared.join('\n'));
    assert.ok(shared.some((p) => /^\d+ sleep 3601$/.test(p)), shared.join('\n'));
    assert.ok(!shared.some((p) => /^1 sleep/.test(p)), `pid 1 is the pod's pause process: ${shared.join('\n')}`);
    const apart = await processesSeenBy('apart', 'one');
    assert.ok(apart.some((p) => p === '1 sleep 3601'), apart.join('\n'));
    assert.ok(!apart.some((p) => p.includes('3602')), apart.join('\n'));
  });

  test('kubectl debug --target: the ephemeral container sees the target\'s processes (and only those)', async () => {
    const r = await kubectl(['debug', '-n', NS, 'apart', '--image=busybox:1.36', '--target=two', '-c', 'peek', '--', 'sh', '-c', 'ps -o pid,args; sleep 3600']);
    assert.equal(r.code, 0, r.stderr);
    const logs = await until('the debug container\'s ps', async () => {
      const out = await kubectl(['logs', '-n', NS, 'apart', '-c', 'peek']);
      return out.code === 0 && out.stdout.includes('sleep 3600') ? out.stdout : undefined;
    });
    assert.match(logs, /^\s*1 sleep 3602$/m);
    assert.doesNotMatch(logs, /3601/);
    const st = (await statusOf('apart', 'peek'))!;
    assert.ok(st.state?.running, JSON.stringify(st.state));
  });

  test('kubectl debug --target of a container that is not running: the ephemeral container cannot start (StartError), it gets no PID namespace of its own', async () => {
    // The `exits` pod's containers ended (restartPolicy Never): there is no PID namespace to join.
    await until('the exits pod done', async () => ((await phaseOf('exits')) === 'Failed' ? true : undefined));
    const r = await kubectl(['debug', '-n', NS, 'exits', '--image=busybox:1.36', '--target=fails', '-c', 'late', '--', 'sleep', '3600']);
    assert.equal(r.code, 0, r.stderr);
    const st = await until('the late debug container ended', async () => (await statusOf('exits', 'late'))?.state?.terminated);
    assert.equal(st.reason, 'StartError');
    assert.match(st.message ?? '', /target container "fails" is not running/);
  });

  test('memory and CPU limits are in the container\'s cgroup files, and the pod\'s', async () => {
    const pid = sb.containerPid(NS, 'limits', 'app');
    const limits = cgroupLimitsOf(pid);
    assert.equal(limits.memoryBytes, 64 * MiB);
    // 250m: a quarter of each period.
    assert.equal(limits.cpuQuotaUs / limits.cpuPeriodUs, 0.25);
    const memory = sb.podMemory(NS, 'limits');
    assert.equal(memory?.limitBytes(), 64 * MiB);
  });

  test('kubectl exec (exit codes, stdin), exec -it on a terminal, attach and logs -f', async () => {
    const three = await kubectl(['exec', '-n', NS, 'twins', '-c', 'a', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(three.code, 3);
    assert.equal(three.stdout, 'out\n');
    assert.match(three.stderr, /err\ncommand terminated with exit code 3/);
    const input = 'through stdin\n'.repeat(500);
    assert.equal(await ok(['exec', '-i', '-n', NS, 'twins', '-c', 'b', '--', 'cat'], { input }), input);
    const missing = await execIn('twins', 'a', ['no-such-command']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stdout + missing.stderr, /executable file not found in \$PATH/);

    // -it: kubectl needs a terminal of its own; util-linux script gives it one.
    const tty = await runCommand('script', ['-qfec', [kubectlPath!, 'exec', '-it', '-n', NS, 'twins', '-c', 'a', '--', 'sh', '-c', 'tty; [ -t 1 ] && echo stdout is a terminal'].map(shellQuote).join(' '), '/dev/null'], {
      env: { ...process.env, KUBECONFIG: sb.kubeconfig, KUBECACHEDIR: cacheDir },
      timeoutMs: 30_000,
    });
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /\/dev\/pts\/\d+\r\nstdout is a terminal\r\n/);

    // attach: the main process's output from now on (no replay); logs -f: the same, followed.
    for (const args of [['attach', '-n', NS, 'talker'], ['logs', '-f', '--tail=1', '-n', NS, 'talker']]) {
      const child = spawn(kubectlPath!, args, { env: { ...process.env, KUBECONFIG: sb.kubeconfig, KUBECACHEDIR: cacheDir } });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
      try {
        const ticks = await until(`kubectl ${args[0]} streams ticks`, () => {
          const n = [...out.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
          return n.length >= 3 ? n : undefined;
        });
        assert.deepEqual(ticks.slice(1, 3), [ticks[0]! + 1, ticks[0]! + 2], `consecutive: ${out}`);
      } finally {
        child.kill('SIGKILL');
      }
    }
  });
});
