/**
 * securityContexts in the sandbox: PodSecurity's runAsNonRoot / runAsUser / capabilities checks with
 * the admission's wording, the kubelet's runAsNonRoot refusal (CreateContainerConfigError), and the
 * identity, capabilities and no_new_privs that containers and exec'd processes really get.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { requireSandbox, startSandbox, type Sandbox } from './index.ts';
import type { Container, Pod } from './kobj.ts';
import { capabilitiesOf, RUNTIME_DEFAULT_CAPABILITIES, runAsNonRootViolation } from './security.ts';
import { defaultContainer, podSecurityError, type PodSecurityLevel } from './validation.ts';
import { captureContainerSpec } from '../../src/kube/ephemeral.ts';
import { podSecurityVerdict } from '../../src/kube/preflight.ts';
import { PROFILES } from '../../src/kube/profile.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox());
/** An image whose USER is root, as node:24-slim's is. */
const ROOT_IMAGE = { uid: 0, gid: 0 };
if (skip) process.stdout.write(`# sandbox security tests skipped: ${skip}\n`);

function pod(containers: Container[], podSc: Pod['spec']['securityContext'] = {}, ephemeral: Container[] = []): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'shop', uid: '0d6f2c1e-aaaa-bbbb-cccc-123456789abc', resourceVersion: '1', creationTimestamp: '' },
    spec: { containers, securityContext: podSc, ...(ephemeral.length > 0 ? { ephemeralContainers: ephemeral } : {}) },
    status: { phase: 'Running' },
  };
}

test('capabilities as containerd computes them: defaults, drop ALL then add, named drops', () => {
  assert.deepEqual(capabilitiesOf(undefined), [...RUNTIME_DEFAULT_CAPABILITIES].sort());
  assert.deepEqual(capabilitiesOf({ capabilities: { drop: ['ALL'], add: ['NET_RAW'] } }), ['NET_RAW']);
  const allButRaw = RUNTIME_DEFAULT_CAPABILITIES.filter((c) => c !== 'NET_RAW');
  assert.deepEqual(capabilitiesOf({ capabilities: { drop: allButRaw } }), ['NET_RAW']);
  assert.deepEqual(capabilitiesOf({ capabilities: { add: ['NET_RAW'], drop: ['NET_RAW'] } }), [...allButRaw].sort());
  assert.ok(capabilitiesOf({ capabilities: { add: ['ALL'], drop: ['CHOWN'] } }).includes('SYS_ADMIN'));
  assert.ok(!capabilitiesOf({ capabilities: { add: ['ALL'], drop: ['CHOWN'] } }).includes('CHOWN'));
});

test('the kubelet refuses runAsNonRoot with a root image, with its wording; an explicit root opt-out starts', () => {
  const app: Container = { name: 'app', image: 'node:24-slim' };
  const nonRoot = pod([app], { runAsNonRoot: true });
  assert.equal(
    runAsNonRootViolation(nonRoot, app, ROOT_IMAGE),
    'container has runAsNonRoot and image will run as root (pod: "web_shop(0d6f2c1e-aaaa-bbbb-cccc-123456789abc)", container: app)',
  );
  assert.equal(runAsNonRootViolation(pod([app], { runAsNonRoot: true, runAsUser: 1000 }), app, ROOT_IMAGE), undefined);
  assert.match(runAsNonRootViolation(pod([app], { runAsNonRoot: true, runAsUser: 0 }), app, ROOT_IMAGE)!, /^container's runAsUser breaks non-root policy \(pod: "web_shop\(/);
  const optOut: Container = { name: 'shark-x', securityContext: { runAsNonRoot: false, runAsUser: 0 } };
  assert.equal(runAsNonRootViolation(nonRoot, optOut, ROOT_IMAGE), undefined);
  assert.equal(runAsNonRootViolation(pod([app]), app, ROOT_IMAGE), undefined);
  // A non-root image USER (distroless's 65532) satisfies runAsNonRoot on its own.
  assert.equal(runAsNonRootViolation(nonRoot, app, { uid: 65532, gid: 65532 }), undefined);
});

test('PodSecurity restricted: runAsNonRoot and runAsUser as the admission words them, checks in its order', () => {
  const ok: Container = { name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
  const base = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
  assert.equal(podSecurityError(pod([ok], base), 'restricted'), undefined);
  const root = defaultContainer({
    name: 'shark-abcde',
    image: 'node:24-slim',
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_RAW'] }, runAsNonRoot: false, runAsUser: 0 },
  });
  assert.equal(
    podSecurityError(pod([ok], base, [root]), 'restricted')?.message,
    'pods "web" is forbidden: violates PodSecurity "restricted:latest": unrestricted capabilities (container "shark-abcde" must not include "NET_RAW" in securityContext.capabilities.add), ' +
      'runAsNonRoot != true (container "shark-abcde" must not set securityContext.runAsNonRoot=false), runAsUser=0 (container "shark-abcde" must not set runAsUser=0)',
  );
  // Nothing said at pod level and nothing in the container: "pod or container".
  assert.match(podSecurityError(pod([ok], { seccompProfile: { type: 'RuntimeDefault' } }), 'restricted')!.message, /runAsNonRoot != true \(pod or container "app" must set securityContext.runAsNonRoot=true\)$/);
  // Explicit false at both levels: both named; an explicit pod-level runAsUser=0 too.
  assert.match(
    podSecurityError(pod([{ ...ok, securityContext: { ...ok.securityContext, runAsNonRoot: false } }], { ...base, runAsNonRoot: false, runAsUser: 0 }), 'restricted')!.message,
    /runAsNonRoot != true \(pod and container "app" must not set securityContext.runAsNonRoot=false\), runAsUser=0 \(pod must not set runAsUser=0\)$/,
  );
  // privileged is reported before allowPrivilegeEscalation, as the admission orders its checks.
  assert.match(
    podSecurityError(pod([{ name: 'p', securityContext: { privileged: true, capabilities: { drop: ['ALL'] } } }], base), 'restricted')!.message,
    /restricted:latest": privileged \(container "p" must not set securityContext.privileged=true\), allowPrivilegeEscalation != false/,
  );
  // baseline cares about none of that: an explicit root container with only default capabilities passes.
  assert.equal(podSecurityError(pod([ok], {}, [{ ...root, securityContext: { ...root.securityContext, capabilities: { drop: ['CHOWN'] } } }]), 'baseline'), undefined);
});

test('the capture container of each profile and level is admitted exactly where tap\'s pre-flight says so', () => {
  // A compliant restricted app, so only the capture container can be the problem.
  const app: Container = { name: 'app', image: 'node:24-slim', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
  const podSc = { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } };
  const verdicts: string[] = [];
  for (const level of ['privileged', 'baseline', 'restricted'] as PodSecurityLevel[]) {
    for (const profile of PROFILES) {
      const spec = defaultContainer({ ...(captureContainerSpec({ name: 'shark-abcde', image: 'node:24-slim', target: 'app', profile, podSecurity: level }) as Container) });
      const denied = podSecurityError(pod([app], podSc, [spec]), level);
      const preflight = podSecurityVerdict(level, profile);
      assert.equal(preflight.allowed, denied === undefined, `${profile} in ${level}: pre-flight says ${preflight.detail}; admission says ${denied?.message ?? 'admitted'}`);
      verdicts.push(`${level}/${profile}: ${denied === undefined ? 'admitted' : denied.message.replace(/^.*violates /, '')}`);
    }
  }
  assert.deepEqual(verdicts, [
    'privileged/auto: admitted',
    'privileged/privileged: admitted',
    'baseline/auto: admitted',
    'baseline/privileged: PodSecurity "baseline:latest": privileged (container "shark-abcde" must not set securityContext.privileged=true)',
    'restricted/auto: PodSecurity "restricted:latest": unrestricted capabilities (container "shark-abcde" must not include "NET_RAW" in securityContext.capabilities.add), ' +
      'runAsNonRoot != true (container "shark-abcde" must not set securityContext.runAsNonRoot=false), runAsUser=0 (container "shark-abcde" must not set runAsUser=0)',
    'restricted/privileged: PodSecurity "restricted:latest": privileged (container "shark-abcde" must not set securityContext.privileged=true), ' +
      'allowPrivilegeEscalation != false (container "shark-abcde" must set securityContext.allowPrivilegeEscalation=false), ' +
      'unrestricted capabilities (container "shark-abcde" must set securityContext.capabilities.drop=["ALL"]), ' +
      'runAsNonRoot != true (container "shark-abcde" must not set securityContext.runAsNonRoot=false), runAsUser=0 (container "shark-abcde" must not set runAsUser=0)',
  ]);
});

/** /proc/PID/status fields of a process. */
function procStatus(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}

/** The first number of each Uid/Gid line, the capability masks and NoNewPrivs. */
function identity(status: Record<string, string>): { uid: number; gid: number; groups: string; capEff: string; noNewPrivs: string } {
  return {
    uid: Number(status['Uid']!.split(/\s+/)[0]),
    gid: Number(status['Gid']!.split(/\s+/)[0]),
    groups: status['Groups'] ?? '',
    capEff: status['CapEff']!,
    noNewPrivs: status['NoNewPrivs']!,
  };
}

/** CAP_NET_RAW is bit 13. */
const NET_RAW_MASK = '0000000000002000';

describe('securityContexts applied to real processes', { skip }, () => {
  let sb: Sandbox;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  const smp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

  before(async () => {
    sb = await startSandbox({
      pods: [
        {
          namespace: 'shop',
          name: 'guarded',
          // A common shape: non-root asked for the whole pod, the app's user set on its container.
          securityContext: { runAsNonRoot: true, runAsGroup: 3000, supplementalGroups: [4000] },
          containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'], securityContext: { runAsUser: 1000 } }],
        },
        { namespace: 'shop', name: 'plain', containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
      ],
    });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });

  after(async () => {
    await sb?.stop();
  });

  /** /proc status of the pod's process whose command line is `argv`. */
  function mainProcess(namespace: string, name: string, argv: string[]): Record<string, string> {
    for (const pid of sb.processesIn(namespace, name)) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      } catch {
        continue;
      }
      if (cmdline === `${argv.join('\0')}\0`) return procStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    }
    throw new Error(`no process ${argv.join(' ')} in pod ${namespace}/${name}`);
  }

  async function statusOf(name: string, container: string): Promise<k8s.V1ContainerState | undefined> {
    const p = await core.readNamespacedPod({ namespace: 'shop', name });
    return p.status?.ephemeralContainerStatuses?.find((s) => s.name === container)?.state;
  }

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function exec(name: string, container: string, command: string[], input?: Buffer): Promise<string> {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (b: Buffer) => chunks.push(b));
    return new Promise((resolve, reject) => {
      void new k8s.Exec(kc)
        .exec('shop', name, container, command, stdout, null, input === undefined ? null : Readable.from([input]), false, () => setImmediate(() => resolve(Buffer.concat(chunks).toString('latin1'))))
        .catch(reject);
    });
  }

  test('an app container runs as the pod asks (uid, gid, groups), with no capabilities as a non-root user', () => {
    const app = identity(mainProcess('shop', 'guarded', ['sleep', '3600']));
    assert.deepEqual([app.uid, app.gid, app.groups, app.capEff], [1000, 3000, '4000', '0000000000000000']);
    // Without a securityContext: root with the runtime's default capabilities (CHOWN ... AUDIT_WRITE, NET_RAW among them).
    const plain = identity(mainProcess('shop', 'plain', ['sleep', '3600']));
    assert.equal(plain.uid, 0);
    assert.equal(BigInt(`0x${plain.capEff}`), 0x00000000a80425fbn);
  });

  test('an ephemeral container inheriting runAsNonRoot with a root image waits in CreateContainerConfigError', async () => {
    await core.patchNamespacedPodEphemeralcontainers(
      { namespace: 'shop', name: 'guarded', body: { spec: { containers: [], ephemeralContainers: [{ name: 'inherits', image: 'node:24-slim', command: ['sleep', '3599'], targetContainerName: 'app' }] } } },
      smp,
    );
    await until('the kubelet verdict', async () => (await statusOf('guarded', 'inherits'))?.waiting?.reason === 'CreateContainerConfigError');
    const state = await statusOf('guarded', 'inherits');
    const uid = (await core.readNamespacedPod({ namespace: 'shop', name: 'guarded' })).metadata!.uid!;
    assert.equal(state?.waiting?.message, `container has runAsNonRoot and image will run as root (pod: "guarded_shop(${uid})", container: inherits)`);
    assert.ok(!sb.processesIn('shop', 'guarded').some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('3599');
      } catch {
        return false;
      }
    }), 'its process never started');
  });

  test('an explicit root container with drop ALL, add NET_RAW: uid 0, the pod\'s group, only NET_RAW, no_new_privs; exec gets the same', async () => {
    const sc = { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } };
    await core.patchNamespacedPodEphemeralcontainers(
      { namespace: 'shop', name: 'guarded', body: { spec: { containers: [], ephemeralContainers: [{ name: 'capture', image: 'node:24-slim', command: ['sleep', '3601'], targetContainerName: 'app', securityContext: sc }] } } },
      smp,
    );
    await until('running', async () => (await statusOf('guarded', 'capture'))?.running !== undefined);
    const expected = { uid: 0, gid: 3000, groups: '4000', capEff: NET_RAW_MASK, noNewPrivs: '1' };
    assert.deepEqual(identity(mainProcess('shop', 'guarded', ['sleep', '3601'])), expected);
    assert.deepEqual(identity(procStatus(await exec('guarded', 'capture', ['cat', '/proc/self/status']))), expected);
  });

  test('the tamper fault alters the bytes an exec reads from stdin', async () => {
    sb.faults.tamperExecStdin = (command, chunk, offset) => {
      if (command[0] !== 'cat') return chunk;
      const out = Buffer.from(chunk);
      if (offset === 0 && out.length > 0) out[0] = out[0]! ^ 0x20;
      return out;
    };
    try {
      assert.equal(await exec('plain', 'app', ['cat'], Buffer.from('hello')), 'Hello');
      assert.equal(await exec('plain', 'app', ['sh', '-c', 'cat'], Buffer.from('hello')), 'hello', 'other commands are left alone');
    } finally {
      sb.faults.tamperExecStdin = undefined;
    }
  });
});
