/**
 * `tap` against pods that are real runc containers (issue 14, "Tap against it", point 1): the
 * sandbox's kubelet gives each container its own root filesystem and mount namespace, a PID
 * namespace (an ephemeral container with targetContainerName joins its target's), containerd's
 * default capabilities and RuntimeDefault seccomp, and checks runAsNonRoot against the image's
 * USER. What a real node would break, these tests would show:
 * - the agent lands in the capture container's own filesystem (not the app's, not the host's),
 *   runs from there, and its folder is gone after the tap;
 * - `targetContainerName` gives the capture container the app's processes, and only the app's;
 * - a `runAsNonRoot` pod with the distroless shop image (USER 65532, no shell) is tapped; a pod
 *   whose runAsNonRoot the kubelet cannot honour never runs, and tap adds nothing to it;
 * - the `auto` profile captures with what containerd gives by default: NET_RAW, nothing more,
 *   and the agent's syscalls pass the RuntimeDefault seccomp filter.
 * After the sandbox stops nothing of it is left (runc containers, cgroups, mounts, namespaces).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import type { HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { agentFolderPrefix } from '../../src/kube/keeper.ts';
import { RUNTIME_DEFAULT_CAPABILITIES } from '../../src/kube/profile.ts';
import { requireSandbox, startSandbox, type FixturePod, type Sandbox } from '../sandbox/index.ts';
import { SHOP_SCRIPT } from '../sandbox/demo-app.ts';
import { agentsIn, assertNoAgents, coreApiOf, requireBuild, runTap, startTap, type TapProcess } from '../helpers/tap.ts';
import {
  assertNothingLeft,
  capabilityMask,
  capabilitySet,
  cmdlineOf,
  eventually,
  execIn,
  LIST_PROCESSES,
  namespaceOf,
  parseProcessList,
  procStatus,
  runningSharkContainer,
  uidOf,
} from '../helpers/container-sandbox.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-containers skipped: ${skip}\n`);

const IPS = { web: '10.244.7.10', shop: '10.244.7.11', other: '10.244.7.12', rootImage: '10.244.7.13', baseWeb: '10.244.7.14' } as const;
/** The distroless shop image's user (its USER line). */
const SHOP_IMAGE_UID = 65532;
const NET_RAW = capabilitySet(['NET_RAW']);
const CONTAINERD_DEFAULT = capabilitySet(RUNTIME_DEFAULT_CAPABILITIES);

let sandbox: Sandbox;
let core: k8s.CoreV1Api;
const pods: [string, string][] = [
  ['cont', 'web'],
  ['cont', 'shop'],
  ['cont', 'other'],
  ['cont', 'root-image'],
  ['base', 'web'],
];

/** A shop-like service in node:24-slim (the checkout is mounted into it) calling the distroless shop. */
function web(namespace: string, ip: string): FixturePod {
  return {
    namespace,
    name: 'web',
    labels: { app: 'web' },
    ip,
    containers: [
      { name: 'app', image: 'node:24-slim', command: ['node', SHOP_SCRIPT], env: { SERVICE_NAME: `web-${namespace}`, PORT: '8080', CALL: `http://${IPS.shop}:8080`, INTERVAL_MS: '200' } },
    ],
  };
}

before(async () => {
  if (skip) return;
  sandbox = await startSandbox({
    namespaces: [{ name: 'cont' }, { name: 'base', podSecurityEnforce: 'baseline' }],
    pods: [
      web('cont', IPS.web),
      {
        // Distroless and non-root: the image's own ENTRYPOINT (node) and CMD (/app/shop-service.mjs), nothing of the checkout, no shell.
        namespace: 'cont',
        name: 'shop',
        labels: { app: 'shop' },
        ip: IPS.shop,
        securityContext: { runAsNonRoot: true },
        mountSource: false,
        containers: [{ name: 'app', image: 'sandbox.local/shop:1', env: { SERVICE_NAME: 'shop', PORT: '8080' } }],
      },
      { namespace: 'cont', name: 'other', ip: IPS.other, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
      {
        // The image runs as root and nothing says otherwise: the kubelet must refuse it.
        namespace: 'cont',
        name: 'root-image',
        ip: IPS.rootImage,
        securityContext: { runAsNonRoot: true },
        containers: [{ name: 'app', image: 'node:24-slim', command: ['sleep', '3600'] }],
      },
      web('base', IPS.baseWeb),
    ],
  });
  core = coreApiOf(sandbox);
  // Running is not listening: wait until the shop answers its caller.
  await eventually(
    'the shop answering web',
    async () => / 200\n/.test(await core.readNamespacedPodLog({ namespace: 'cont', name: 'web', container: 'app' })),
    30_000,
  );
});

after(async () => {
  if (skip) return;
  await sandbox.stop();
  assertNothingLeft(sandbox);
});

/** What tap's `-o json` wrote, as HTTP entries (stats and warnings left out). */
function entriesOf(stdout: string): HttpEntry[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as HttpEntry & { type?: string })
    .filter((e) => e.type === undefined);
}

/** Host pid of the one agent running in the pod now (its `node ... agent.js capture` process). */
function agentPid(namespace: string, name: string): number {
  const agents = agentsIn(sandbox, [[namespace, name]]);
  assert.equal(agents.length, 1, `one agent in ${namespace}/${name}: ${agents.join('\n')}`);
  return Number(/pid (\d+)/.exec(agents[0]!)![1]);
}

/** Runs `body` while a tap of the pod (-o json, the default profile) has delivered `entries` entries; the tap must end cleanly. */
async function whileTapping(namespace: string, name: string, body: (tap: TapProcess) => Promise<void>, entries = 2): Promise<void> {
  const tap = startTap(sandbox, [name, '-n', namespace, '-o', 'json']);
  try {
    await tap.until(`entries from ${namespace}/${name}`, () => tap.entries().length >= entries, 30_000);
    await body(tap);
  } finally {
    const res = await tap.interrupt();
    assert.equal(res.code, 0, res.stderr);
  }
}

test('the agent is uploaded into the capture container\'s own filesystem, runs from there, and its folder is gone after the tap', { skip }, async () => {
  let sharkTmp = '';
  let folder = '';
  await whileTapping('cont', 'web', async () => {
    const shark = await runningSharkContainer(core, 'cont', 'web');
    const prefix = agentFolderPrefix(shark);
    sharkTmp = join(sandbox.containerRootfs('cont', 'web', shark), 'tmp');
    const ours = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(prefix)) : []);

    const folders = ours(sharkTmp);
    assert.equal(folders.length, 1, `one agent folder in the capture container's /tmp: ${readdirSync(sharkTmp).join(' ')}`);
    folder = folders[0]!;
    assert.ok(existsSync(join(sharkTmp, folder, 'agent.js')), 'the bundle is unpacked there');
    assert.equal(statSync(join(sharkTmp, folder)).mode & 0o777, 0o700);
    // Neither the app container nor the host has it.
    assert.deepEqual(ours(join(sandbox.containerRootfs('cont', 'web', 'app'), 'tmp')), [], "not in the app container's /tmp");
    assert.deepEqual(ours('/tmp'), [], "not in the host's /tmp");

    // The agent runs it by its path inside the container, and that path is this very file.
    const pid = agentPid('cont', 'web');
    assert.match(cmdlineOf(pid), new RegExp(` /tmp/${folder.replace(/[.]/g, '\\.')}/agent\\.js capture`));
    const seenByAgent = statSync(`/proc/${pid}/root/tmp/${folder}/agent.js`);
    const onRootfs = statSync(join(sharkTmp, folder, 'agent.js'));
    assert.deepEqual([seenByAgent.dev, seenByAgent.ino], [onRootfs.dev, onRootfs.ino]);
    // In the capture container's mount namespace: not the app's, not the host's.
    const sharkMnt = namespaceOf(sandbox.containerPid('cont', 'web', shark), 'mnt');
    assert.equal(namespaceOf(pid, 'mnt'), sharkMnt);
    assert.notEqual(sharkMnt, namespaceOf(sandbox.containerPid('cont', 'web', 'app'), 'mnt'));
    assert.notEqual(sharkMnt, namespaceOf('self', 'mnt'));
  });
  // The agent's shell removes the folder as it ends; the keeper (still running) leaves nothing either.
  await eventually('the agent folder removed', () => !existsSync(join(sharkTmp, folder)), 8000);
  assert.deepEqual(readdirSync(sharkTmp).filter((n) => n.startsWith('kubectl-shark')), []);
  await assertNoAgents(sandbox, pods);
});

test('targetContainerName: the capture container is in the app container\'s PID namespace and sees its processes; another pod\'s container does not', { skip }, async () => {
  await whileTapping('cont', 'web', async () => {
    const shark = await runningSharkContainer(core, 'cont', 'web');
    const appPid = sandbox.containerPid('cont', 'web', 'app');
    const sharkPid = sandbox.containerPid('cont', 'web', shark);
    const otherPid = sandbox.containerPid('cont', 'other', 'app');
    const appPidNs = namespaceOf(appPid, 'pid');
    assert.equal(namespaceOf(sharkPid, 'pid'), appPidNs, "the capture container's PID namespace is the app's");
    assert.equal(namespaceOf(agentPid('cont', 'web'), 'pid'), appPidNs, 'and so is the agent exec\'d into it');
    assert.notEqual(appPidNs, namespaceOf('self', 'pid'), 'not the host\'s');
    assert.notEqual(namespaceOf(otherPid, 'pid'), appPidNs, "another pod's container has its own");

    // What a process in the capture container sees: the app's node process, under its pid in that namespace.
    const appCommand = `node ${SHOP_SCRIPT}`;
    const appPidInside = Number(procStatus(appPid)['NSpid']!.split(/\s+/).at(-1));
    const fromShark = await execIn(sandbox, 'cont', 'web', shark, LIST_PROCESSES);
    assert.equal(fromShark.status.status, 'Success', fromShark.stderr);
    const seen = parseProcessList(fromShark.stdout);
    assert.equal(seen.get(appPidInside), appCommand, `the app's process as pid ${appPidInside}; seen:\n${fromShark.stdout}`);
    assert.ok([...seen.values()].some((c) => /agent\.js capture/.test(c)), `the agent too; seen:\n${fromShark.stdout}`);
    assert.ok(![...seen.values()].some((c) => c.includes('sleep 3600')), `nothing of another pod; seen:\n${fromShark.stdout}`);

    const fromOther = await execIn(sandbox, 'cont', 'other', 'app', LIST_PROCESSES);
    assert.equal(fromOther.status.status, 'Success', fromOther.stderr);
    const elsewhere = [...parseProcessList(fromOther.stdout).values()];
    assert.ok(elsewhere.includes('sleep 3600'), `its own process; seen:\n${fromOther.stdout}`);
    assert.ok(!elsewhere.some((c) => c.includes(SHOP_SCRIPT) || /agent\.js|kubectl-shark/.test(c)), `none of web's; seen:\n${fromOther.stdout}`);
    process.stdout.write(`# capture container sees ${seen.size} processes (app as pid ${appPidInside}); another pod's container ${elsewhere.length}\n`);
  });
  await assertNoAgents(sandbox, pods);
});

test('runAsNonRoot with the distroless shop image (USER 65532, no shell): tapped, the capture container explicitly root with NET_RAW only', { skip }, async () => {
  const appPid = sandbox.containerPid('cont', 'shop', 'app');
  assert.equal(uidOf(procStatus(appPid)), SHOP_IMAGE_UID, 'the app runs as the image\'s USER');
  assert.ok(!existsSync(join(sandbox.containerRootfs('cont', 'shop', 'app'), 'bin', 'sh')), 'the app image has no shell');

  const res = await runTap(sandbox, ['shop', '-n', 'cont', '-o', 'json', '--count', '3'], 60_000);
  assert.equal(res.code, 0, res.stderr);
  const entries = entriesOf(res.stdout);
  assert.equal(entries.length, 3, res.stdout);
  for (const e of entries) assert.deepEqual([e.dst.ip, e.request.method, e.response?.status], [IPS.shop, 'GET', 200], JSON.stringify(e));

  const pod = await core.readNamespacedPod({ namespace: 'cont', name: 'shop' });
  const shark = (pod.spec?.ephemeralContainers ?? []).find((c) => c.name.startsWith('shark-'))!;
  assert.deepEqual([shark.securityContext?.runAsUser, shark.securityContext?.runAsNonRoot], [0, false]);
  const status = procStatus(sandbox.containerPid('cont', 'shop', shark.name));
  assert.equal(uidOf(status), 0);
  assert.equal(capabilityMask(status, 'CapEff'), NET_RAW);
  assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
  await assertNoAgents(sandbox, pods);
});

test('a pod whose runAsNonRoot the kubelet cannot honour (root image) waits in CreateContainerConfigError, and tap adds nothing to it', { skip }, async () => {
  const pod = await core.readNamespacedPod({ namespace: 'cont', name: 'root-image' });
  assert.equal(pod.status?.phase, 'Pending');
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  assert.equal(waiting?.reason, 'CreateContainerConfigError');
  assert.equal(waiting?.message, `container has runAsNonRoot and image will run as root (pod: "root-image_cont(${pod.metadata!.uid})", container: app)`);

  const res = await runTap(sandbox, ['root-image', '-n', 'cont', '-o', 'json'], 30_000);
  // Not Running, so not a target: refused before anything is patched, saying why.
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /no running pod matches \(name matching \/root-image\/\) in namespace cont \(\d+ pods seen, 1 matching the name, 1 of them not Running\)/);
  const after = await core.readNamespacedPod({ namespace: 'cont', name: 'root-image' });
  assert.deepEqual(after.spec?.ephemeralContainers ?? [], [], 'nothing added to a pod that does not run');
  process.stdout.write(`# tap of the refused pod: exit ${res.code}: ${res.stderr.trim().split('\n').at(-1)}\n`);
});

test("the auto profile captures with containerd's default capabilities: NET_RAW and nothing more, under the RuntimeDefault seccomp filter", { skip }, async () => {
  // An app container that asks for nothing gets containerd's default set, seccomp filtered.
  const app = procStatus(sandbox.containerPid('cont', 'web', 'app'));
  assert.equal(capabilityMask(app, 'CapEff'), CONTAINERD_DEFAULT, 'the runtime\'s default set');
  assert.equal(app['Seccomp'], '2', 'RuntimeDefault: a seccomp filter');

  await whileTapping('cont', 'web', async (tap) => {
    const shark = await runningSharkContainer(core, 'cont', 'web');
    const keeper = procStatus(sandbox.containerPid('cont', 'web', shark));
    assert.equal(capabilityMask(keeper, 'CapEff'), NET_RAW);
    assert.equal(capabilityMask(keeper, 'CapPrm'), NET_RAW);
    const bounding = capabilityMask(keeper, 'CapBnd');
    assert.equal(bounding & ~CONTAINERD_DEFAULT, 0n, `nothing beyond containerd's defaults (not privileged): CapBnd ${keeper['CapBnd']}`);
    assert.equal(keeper['NoNewPrivs'], '1');
    assert.equal(keeper['Seccomp'], '2');

    const agent = procStatus(agentPid('cont', 'web'));
    assert.equal(capabilityMask(agent, 'CapEff'), NET_RAW);
    assert.equal(agent['Seccomp'], '2', 'the agent runs under the seccomp filter');
    assert.ok(Number(agent['Seccomp_filters'] ?? '1') >= 1);
    // Its syscalls passed: it re-executed itself with heap flags (execve), opened its AF_PACKET
    // ring (socket, setsockopt, mmap) and delivered entries.
    assert.match(cmdlineOf(agentPid('cont', 'web')), /--max-old-space-size=\d+/);
    assert.ok(tap.entries().length >= 2);
    assert.doesNotMatch(tap.stderr, /EPERM|not permitted|seccomp/i, tap.stderr);
  });

  // In a baseline namespace nothing may be added: NET_RAW is the one default capability not dropped.
  const res = await runTap(sandbox, ['web', '-n', 'base', '-o', 'json', '--count', '2'], 60_000);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(entriesOf(res.stdout).length, 2);
  const pod = await core.readNamespacedPod({ namespace: 'base', name: 'web' });
  const shark = (pod.spec?.ephemeralContainers ?? []).find((c) => c.name.startsWith('shark-'))!;
  assert.equal(shark.securityContext?.capabilities?.add, undefined, 'nothing added in baseline');
  assert.equal(capabilityMask(procStatus(sandbox.containerPid('base', 'web', shark.name)), 'CapEff'), NET_RAW, 'the runtime default NET_RAW, kept');
  await assertNoAgents(sandbox, pods);
});
