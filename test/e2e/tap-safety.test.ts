/**
 * A tap never endangers the pod it taps (issue 10, items 9-11), with the real CLI against the
 * sandbox, whose containers get their securityContext for real (uid, gid, capabilities,
 * no_new_privs) and whose kubelet refuses runAsNonRoot with a root image:
 * - the shark container drops every capability but NET_RAW, cannot escalate, and runs as root
 *   explicitly, so a pod-level runAsNonRoot or runAsUser/runAsGroup does not break it;
 * - a `shark-*` container that is not ours is left alone;
 * - the agent bundle is checked (sha256) in the pod before it runs, in a fresh 0700 directory of
 *   its own that is gone once the agent ends.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import * as k8s from '@kubernetes/client-node';
import { agentArchive, tarGzFolder } from '../../src/kube/agent-bundle.ts';
import { demoShopFixture, requireSandbox, startSandbox, type FixturePod, type Sandbox } from '../sandbox/index.ts';
import { SHOP_IPS, SHOP_SCRIPT } from '../sandbox/demo-app.ts';
import { agentsIn, allPods, assertNoAgents, coreApiOf, requireBuild, runTap, startTap } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireSandbox() ?? requireBuild());
if (skip) process.stdout.write(`# tap-safety skipped: ${skip}\n`);

let sandbox: Sandbox;
let core: k8s.CoreV1Api;
const pods: [string, string][] = [];
const scratch = mkdtempSync(join(tmpdir(), 'shark-safety-'));

function app(namespace: string, name: string, extra: Partial<FixturePod> = {}): FixturePod {
  return {
    namespace,
    name,
    labels: { app: name },
    containers: [{ name: 'app', image: 'node:24-slim', command: ['node', SHOP_SCRIPT], env: { SERVICE_NAME: name, PORT: '8080', CALL: `http://${SHOP_IPS.db}:8080`, INTERVAL_MS: '200' } }],
    ...extra,
  };
}

before(async () => {
  if (skip) return;
  const fixture = demoShopFixture({ intervalMs: 300 });
  fixture.namespaces!.push({ name: 'safe' }, { name: 'base', podSecurityEnforce: 'baseline' });
  const nonRootApp = (name: string, podSc: FixturePod['securityContext'], appSc?: FixturePod['securityContext']): FixturePod => {
    const p = app('safe', name, { securityContext: podSc });
    if (appSc) p.containers[0]!.securityContext = appSc;
    return p;
  };
  fixture.pods!.push(
    // runAsNonRoot for the whole pod, the app's user on its container: a shark container inheriting it would not start.
    nonRootApp('nonroot', { runAsNonRoot: true }, { runAsUser: 1000 }),
    // The whole pod runs as 1000:3000: a shark container inheriting it would have no NET_RAW, and
    // root in group 3000 without CAP_CHOWN cannot give files to group 0 (tar --same-owner).
    nonRootApp('grouped', { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 3000 }),
    app('base', 'web'),
    app('safe', 'foreign'),
    app('safe', 'tampered'),
    app('safe', 'twice'),
  );
  sandbox = await startSandbox(fixture);
  core = coreApiOf(sandbox);
  pods.push(...(await allPods(core)));
});

after(async () => {
  if (!skip) await sandbox.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function sharkSpecs(namespace: string, name: string): Promise<k8s.V1EphemeralContainer[]> {
  const pod = await core.readNamespacedPod({ namespace, name });
  return (pod.spec?.ephemeralContainers ?? []).filter((c) => c.name.startsWith('shark-'));
}

/** /proc/PID/status of the keeper of `container` in the pod. */
function keeperStatus(namespace: string, name: string, container: string): Record<string, string> {
  for (const pid of sandbox.processesIn(namespace, name)) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      continue;
    }
    if (!cmdline.startsWith('sh\0-c\0') || !cmdline.includes(`\0kubectl-shark-keeper\0kubectl-shark-${container}.`)) continue;
    const out: Record<string, string> = {};
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const at = line.indexOf(':');
      if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return out;
  }
  throw new Error(`no keeper of ${container} in pod ${namespace}/${name}`);
}

/** client-node's model classes as plain JSON (what was stored). */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

const ROOT_NO_ESCALATION = { allowPrivilegeEscalation: false, runAsNonRoot: false, runAsUser: 0 };
/** CAP_NET_RAW (bit 13) and nothing else. */
const ONLY_NET_RAW = '0000000000002000';

test('runAsNonRoot on the pod: the shark container runs as root explicitly, with NET_RAW only, and captures', { skip }, async () => {
  for (const name of ['nonroot', 'grouped']) {
    const res = await runTap(sandbox, [name, '-n', 'safe', '-o', 'json', '--count', '2']);
    assert.equal(res.code, 0, `${name}: ${res.stderr}`);
    assert.equal(res.stdout.trim().split('\n').length, 2, res.stdout);
    const [shark] = await sharkSpecs('safe', name);
    assert.deepEqual(plain(shark!.securityContext), { ...ROOT_NO_ESCALATION, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } });
    const keeper = keeperStatus('safe', name, shark!.name);
    assert.equal(keeper['Uid']!.split(/\s+/)[0], '0');
    assert.equal(keeper['CapEff'], ONLY_NET_RAW);
    assert.equal(keeper['NoNewPrivs'], '1');
    // The pod's group still applies (only the user is overridden).
    if (name === 'grouped') assert.equal(keeper['Gid']!.split(/\s+/)[0], '3000');
  }
  await assertNoAgents(sandbox, pods);
});

test('a baseline namespace: nothing added, every other default capability dropped, so NET_RAW is all that is left', { skip }, async () => {
  const res = await runTap(sandbox, ['web', '-n', 'base', '-o', 'json', '--count', '2']);
  assert.equal(res.code, 0, res.stderr);
  const [shark] = await sharkSpecs('base', 'web');
  assert.deepEqual(plain(shark!.securityContext), {
    ...ROOT_NO_ESCALATION,
    capabilities: { drop: ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'] },
  });
  assert.equal(keeperStatus('base', 'web', shark!.name)['CapEff'], ONLY_NET_RAW);
  await assertNoAgents(sandbox, pods);
});

test('a running shark-* container that is not ours is left alone: a new one is added, with a notice saying why', { skip }, async () => {
  // Made like the capture container of older versions (same image, target and NET_RAW), but
  // running something else, with its own environment.
  await core.patchNamespacedPodEphemeralcontainers(
    {
      namespace: 'safe',
      name: 'foreign',
      body: {
        spec: {
          containers: [],
          ephemeralContainers: [
            { name: 'shark-zzzzz', image: 'node:24-slim', command: ['sleep', '3600'], env: [{ name: 'OWNER', value: 'someone-else' }], targetContainerName: 'app', securityContext: { capabilities: { add: ['NET_RAW'] } } },
          ],
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  const deadline = Date.now() + 10_000;
  while (!(await core.readNamespacedPod({ namespace: 'safe', name: 'foreign' })).status?.ephemeralContainerStatuses?.some((s) => s.name === 'shark-zzzzz' && s.state?.running)) {
    assert.ok(Date.now() < deadline, 'the foreign container runs');
    await new Promise((r) => setTimeout(r, 100));
  }
  const res = await runTap(sandbox, ['foreign', '-n', 'safe', '-o', 'json', '--count', '2']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /pod safe\/foreign: shark-zzzzz is not a capture container of kubectl shark \(its command, env, securityContext differ\): left alone; adding a new one/);
  const names = (await sharkSpecs('safe', 'foreign')).map((c) => c.name);
  assert.equal(names.length, 2, names.join(' '));
  // Nothing of ours went into it.
  assert.deepEqual(readdirSync(join(sandbox.containerRootfs('safe', 'foreign', 'shark-zzzzz'), 'tmp')).filter((f) => f.startsWith('kubectl-shark')), []);
  assert.ok(!agentsIn(sandbox, pods).some((l) => l.includes('shark-zzzzz')));
  await assertNoAgents(sandbox, pods);
});

/** A gzip member holding `tar` whose total length is exactly `length` (the slack goes into an FCOMMENT header field). */
function gzipOfLength(tar: Buffer, length: number): Buffer {
  const deflated = deflateRawSync(tar);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(tar), 0);
  trailer.writeUInt32LE(tar.length % 2 ** 32, 4);
  const header = Buffer.from([0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 3]);
  const commentBytes = length - header.length - deflated.length - trailer.length - 1;
  assert.ok(commentBytes >= 0, 'the substitute fits');
  return Buffer.concat([header, Buffer.alloc(commentBytes, 0x61), Buffer.from([0]), deflated, trailer]);
}

test('an agent bundle altered in transit is refused before it runs: exit 11, naming the pod and both hashes', { skip }, async () => {
  // A meddler swaps the bundle for its own, same size, valid tar.gz, whose agent.js leaves a mark.
  const mark = join(scratch, 'substitute-ran');
  const evilDir = join(scratch, 'evil');
  mkdirSync(evilDir, { recursive: true });
  writeFileSync(join(evilDir, 'agent.js'), `require('fs').writeFileSync(${JSON.stringify(mark)}, 'ran');\n`);
  const evilTar = gunzipSync(tarGzFolder(evilDir));
  const substitutes = new Map<number, Buffer>();
  sandbox.faults.tamperExecStdin = (command, chunk, offset) => {
    const script = command.join(' ');
    if (!script.includes('tar -xzf')) return chunk;
    // The upload's size is in its command (head -c N, or N as an argument).
    const size = Number(/head -c (\d+)/.exec(script)?.[1] ?? command.find((a) => /^\d+$/.test(a)));
    if (!substitutes.has(size)) substitutes.set(size, gzipOfLength(evilTar, size));
    return substitutes.get(size)!.subarray(offset, offset + chunk.length);
  };
  const tap = startTap(sandbox, ['tampered', '-n', 'safe', '-o', 'json', '--count', '2'], 60_000);
  try {
    await tap.until('the tap ends, or the substitute runs', () => existsSync(mark), 20_000).catch(() => undefined);
    const res = tap.child.exitCode === null ? await tap.interrupt() : await tap.exited;
    assert.ok(!existsSync(mark), `the substitute agent ran; stderr:\n${res.stderr}`);
    assert.equal(res.code, 11, res.stderr);
    const m = /the agent bundle uploaded to pod safe\/tampered \(container (shark-[a-z0-9]{5})\) arrived altered: sha256 expected ([0-9a-f]{64}), got ([0-9a-f]{64})/.exec(res.stderr);
    assert.ok(m, res.stderr);
    assert.equal(m[2], createHash('sha256').update(agentArchive()).digest('hex'), 'expected: the hash of the bundle this CLI sends');
    assert.equal(m[3], createHash('sha256').update([...substitutes.values()][0]!).digest('hex'), 'actual: the hash of what arrived');
    assert.match(res.stderr, /nothing was run/);
    assert.equal(res.stdout, '');
    // The refused upload left nothing behind in the container.
    assert.deepEqual(readdirSync(join(sandbox.containerRootfs('safe', 'tampered', m[1]!), 'tmp')).filter((f) => f.startsWith('kubectl-shark')), []);
  } finally {
    sandbox.faults.tamperExecStdin = undefined;
    if (tap.child.exitCode === null) await tap.interrupt();
  }
  await assertNoAgents(sandbox, pods);
});

/** The folder of each running agent in the pod (from its command line: node DIR/agent.js capture ...). */
function agentDirs(namespace: string, name: string): string[] {
  return agentsIn(sandbox, [[namespace, name]])
    .map((line) => / (\/\S+)\/agent\.js capture/.exec(line)?.[1])
    .filter((d): d is string => d !== undefined);
}

test('two taps of one pod unpack into two fresh 0700 folders; each is gone once its agent ends, while the keeper stays', { skip }, async () => {
  const first = startTap(sandbox, ['twice', '-n', 'safe', '-o', 'json']);
  let second: ReturnType<typeof startTap> | undefined;
  try {
    await first.until('entries of the first tap', () => first.entries().length >= 2);
    // The second starts once the first's capture container runs, so it reuses it.
    second = startTap(sandbox, ['twice', '-n', 'safe', '-o', 'json']);
    await second.until('entries of the second tap', () => second!.entries().length >= 2);
    const inside = [...new Set(agentDirs('safe', 'twice'))];
    assert.equal(inside.length, 2, `two agents, two folders: ${agentsIn(sandbox, [['safe', 'twice']]).join('\n')}`);
    const [shark] = await sharkSpecs('safe', 'twice');
    for (const dir of inside) assert.equal(dirname(dir), '/tmp', "in the container's TMPDIR");
    // The same folders seen from the host, in the capture container's own root filesystem.
    const root = sandbox.containerRootfs('safe', 'twice', shark!.name);
    const dirs = inside.map((d) => join(root, d));
    for (const dir of dirs) {
      const st = statSync(dir);
      assert.equal(st.mode & 0o777, 0o700, `${dir} is 0700`);
      assert.equal(st.uid, 0);
      assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tar.gz')), [], 'the archive itself is not kept');
    }
    assert.equal((await sharkSpecs('safe', 'twice')).length, 1, 'the second tap reused the running capture container');

    const gone = async (what: string, check: () => boolean): Promise<void> => {
      const deadline = Date.now() + 8000;
      while (!check()) {
        assert.ok(Date.now() < deadline, `${what}; folders left: ${dirs.filter((d) => existsSync(d)).join(' ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    assert.equal((await first.interrupt()).code, 0);
    // One folder goes with the first agent; the second agent's stays while it runs.
    await gone('the first agent\'s folder is removed', () => dirs.filter((d) => existsSync(d)).length === 1);
    assert.equal(agentDirs('safe', 'twice').length, 1);
    assert.ok(existsSync(join(root, agentDirs('safe', 'twice')[0]!)));
    assert.equal((await second.interrupt()).code, 0);
    await gone('both folders are removed', () => dirs.every((d) => !existsSync(d)));
    // The keeper is still there (it leaves 60 s after the last agent), yet nothing of ours is on disk.
    assert.doesNotThrow(() => keeperStatus('safe', 'twice', shark!.name));
    assert.deepEqual(readdirSync(join(root, 'tmp')).filter((f) => f.startsWith('kubectl-shark')), []);
  } finally {
    for (const t of [first, second]) if (t && t.child.exitCode === null) await t.interrupt();
  }
  await assertNoAgents(sandbox, pods);
});
