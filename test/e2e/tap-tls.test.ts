/**
 * `kubectl shark tap --tls` in the sandbox cluster (issue 15, acceptance 3), real runc containers
 * from `sandbox.local/tls:1` (nginx-light, curl, openssl on the machine's libssl.so.3):
 *
 * - the sandbox gives a privileged ephemeral container what the probes need (bpf(), a uprobe
 *   perf event on the target's libssl through /proc/1/root, BTF, the uprobe PMU): checked first,
 *   so a sandbox fault is not mistaken for a probe bug;
 * - the profile: `--tls` runs the capture container privileged, said in one line on stderr before
 *   anything is patched; `--tls --profile auto` is a usage error (2); a `baseline` namespace is
 *   refused before patching (7) with the label to change;
 * - the plaintext: nginx with TLS in pod `web`, curled over HTTPS by pod `client`; pods
 *   `other-server` and `other-client` on the same "node" do HTTPS with the same libssl file.
 *   `tap web --tls -o json` shows the client's requests as `tls: true` rows named from the
 *   cluster, each once, and none of the other pods' traffic.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { isHttpEntry, type HttpEntry } from '../../src/remote-agent/dissect/http1/entry.ts';
import { TLS_PROFILE_NOTICE } from '../../src/kube/profile.ts';
import { isTlsEntry, makeCertificate, writeNginxConfig } from '../helpers/tls-servers.ts';
import { assertNoAgents, coreApiOf, requireBuild, runTap, startTap } from '../helpers/tap.ts';
import { findKubectl, runCommand } from '../helpers/run-cli.ts';
import { skipFor } from '../helpers/requirements.ts';
import { until } from '../helpers/until.ts';
import { requireSandbox, startSandbox, type FixturePod, type Sandbox } from '../sandbox/index.ts';

const kubectlPath = findKubectl();
const skip = skipFor(requireSandbox() ?? requireBuild() ?? (kubectlPath === undefined ? 'no kubectl 1.32 (kubectl debug makes the privileged container)' : null));

const WEB_IP = '10.244.0.91';
const OTHER_IP = '10.244.0.92';
const LOCKED_IP = '10.244.0.93';
const PORT = 8443;
const LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';
const KOFFI = realpathSync(fileURLToPath(new URL('../../node_modules/koffi', import.meta.url)));

let sandbox: Sandbox;
let core: k8s.CoreV1Api;
let dir: string;

/** A pod running nginx with TLS from `conf` (its folder mounted at the same path). */
function nginxPod(namespace: string, name: string, ip: string, confDir: string, conf: string): FixturePod {
  return {
    namespace,
    name,
    labels: { app: name },
    ip,
    volumes: [{ name: 'conf', hostPath: confDir }],
    containers: [{ name, image: 'sandbox.local/tls:1', command: ['nginx', '-c', conf], volumeMounts: [{ name: 'conf', mountPath: confDir }] }],
  };
}

/** A pod curling `url` (with ?n=<i> added) over HTTPS every 300 ms, a new connection each time. */
function curlPod(name: string, url: string): FixturePod {
  return {
    namespace: 'tls',
    name,
    labels: { app: name },
    containers: [
      { name, image: 'sandbox.local/tls:1', command: ['sh', '-c', `i=0; while :; do curl -sk --http1.1 -o /dev/null "${url}&n=$i"; i=$((i+1)); sleep 0.3; done`] },
    ],
  };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), `ks-tap-tls-${process.pid}-`));
  chmodSync(dir, 0o755);
  const pods: FixturePod[] = [];
  for (const [namespace, name, ip] of [['tls', 'web', WEB_IP], ['tls', 'other-server', OTHER_IP], ['locked', 'web', LOCKED_IP]] as const) {
    const confDir = join(dir, `${namespace}-${name}`);
    mkdirSync(confDir);
    const certificate = await makeCertificate(confDir, ip);
    pods.push(nginxPod(namespace, name, ip, confDir, writeNginxConfig({ dir: confDir, port: PORT, certificate, tls: 'any', http2: false, sizes: [1200, 70_000] })));
  }
  pods.push(curlPod('client', `https://${WEB_IP}:${PORT}/bytes/1200?from=client`), curlPod('other-client', `https://${OTHER_IP}:${PORT}/bytes/70000?from=other`));
  sandbox = await startSandbox({ namespaces: [{ name: 'tls', podSecurityEnforce: 'privileged' }, { name: 'locked', podSecurityEnforce: 'baseline' }], pods });
  core = coreApiOf(sandbox);
});

after(async () => {
  if (skip) return;
  await sandbox.stop();
  rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: readonly string[]): ReturnType<typeof runCommand> {
  return runCommand(kubectlPath!, args, { env: { ...process.env, KUBECONFIG: sandbox.kubeconfig }, timeoutMs: 30_000 });
}

async function ephemeral(namespace: string, name: string): Promise<k8s.V1EphemeralContainer[]> {
  return (await core.readNamespacedPod({ namespace, name })).spec?.ephemeralContainers ?? [];
}

/**
 * Run in the privileged container with `node --preserve-symlinks -e PROBE KOFFI OFFSET` (koffi from the checkout
 * mounted in the target container, reached through its root): the seccomp mode, bpf()
 * making a one-entry array map, a uprobe perf event (disabled) on SSL_write of the target's libssl
 * through /proc/1/root, and whether BTF and the uprobe PMU are visible.
 */
const PROBE = `
const fs = require('fs');
const koffi = require('/proc/1/root' + process.argv[1]);
const syscall = koffi.load('libc.so.6').func('long syscall(long nr, ...)');
const call = (nr, ...args) => { koffi.errno(0); const ret = Number(syscall(nr, ...args)); return { ret, errno: koffi.errno() }; };
const map = Buffer.alloc(128); map.writeUInt32LE(2, 0); map.writeUInt32LE(4, 4); map.writeUInt32LE(4, 8); map.writeUInt32LE(1, 12);
const bpf = call(321, 'int', 0, 'void *', map, 'uint', map.length);
const uprobeType = Number(fs.readFileSync('/sys/bus/event_source/devices/uprobe/type', 'utf8'));
const path = Buffer.from('/proc/1/root${LIBSSL}\\0');
const attr = Buffer.alloc(128); attr.writeUInt32LE(uprobeType, 0); attr.writeUInt32LE(128, 4); attr.writeBigUInt64LE(1n, 40);
attr.writeBigUInt64LE(BigInt(koffi.address(path)), 56); attr.writeBigUInt64LE(BigInt(process.argv[2]), 64);
const uprobe = call(298, 'void *', attr, 'int', -1, 'int', 0, 'int', -1, 'ulong', 8);
const seccomp = Number(/^Seccomp:\\s*(\\d)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
console.log(JSON.stringify({ seccomp, bpf, uprobe, btf: fs.statSync('/sys/kernel/btf/vmlinux').size, pmus: fs.readdirSync('/sys/bus/event_source/devices') }));
`;

/** SSL_write's file offset in this machine's libssl (the image's is the same file: images are built from this machine's packages). */
function sslWriteOffset(): number {
  const syms = execFileSync('readelf', ['-W', '--dyn-syms', LIBSSL], { encoding: 'utf8' });
  const m = / ([0-9a-f]+) +\d+ FUNC +GLOBAL +DEFAULT +\d+ SSL_write@@/.exec(syms);
  assert.ok(m, 'SSL_write in libssl.so.3');
  // The text segment of Debian's libssl maps file offset == virtual address.
  return Number.parseInt(m[1]!, 16);
}

test('the sandbox: a privileged ephemeral container can call bpf() and open a uprobe on the target\'s libssl, and sees BTF and the uprobe PMU', { skip }, async (t) => {
  const debug = await kubectl(['debug', '-n', 'tls', 'other-server', '--image=node:24-slim', '--target=other-server', '--profile=sysadmin', '-c', 'bpfcheck', '--', 'sleep', '600']);
  assert.equal(debug.code, 0, debug.stderr);
  const [spec] = (await ephemeral('tls', 'other-server')).filter((c) => c.name === 'bpfcheck');
  assert.equal(spec?.securityContext?.privileged, true, 'kubectl debug --profile=sysadmin is privileged');
  let last = '';
  const out = await until(
    'the probe ran in the privileged container',
    async () => {
      const r = await kubectl(['exec', '-n', 'tls', 'other-server', '-c', 'bpfcheck', '--', 'node', '--preserve-symlinks', '-e', PROBE, KOFFI, String(sslWriteOffset())]);
      last = `exit ${r.code}: ${r.stderr}`;
      return r.code === 0 ? r.stdout : undefined;
    },
    30_000,
    () => last,
  );
  t.diagnostic(out.trim());
  const r = JSON.parse(out) as { seccomp: number; bpf: { ret: number; errno: number }; uprobe: { ret: number; errno: number }; btf: number; pmus: string[] };
  assert.equal(r.seccomp, 0, 'no seccomp filter in a privileged container');
  assert.ok(r.bpf.ret >= 0, `bpf(BPF_MAP_CREATE): ${JSON.stringify(r.bpf)}`);
  assert.ok(r.uprobe.ret >= 0, `perf_event_open(uprobe on SSL_write through /proc/1/root): ${JSON.stringify(r.uprobe)}`);
  assert.ok(r.btf > 0, '/sys/kernel/btf/vmlinux');
  assert.ok(r.pmus.includes('uprobe'), `/sys/bus/event_source/devices: ${r.pmus.join(' ')}`);
});

test('--tls in a baseline namespace: the profile line, then exit 7 before patching, naming the label; --tls --profile auto: exit 2', { skip }, async () => {
  const res = await runTap(sandbox, ['web', '-n', 'locked', '--tls', '-o', 'json']);
  assert.equal(res.code, 7, res.stderr);
  assert.equal(res.stdout, '');
  const lines = res.stderr.split('\n').filter((l) => l.startsWith('kubectl shark tap: '));
  assert.equal(lines[0], `kubectl shark tap: ${TLS_PROFILE_NOTICE}`, 'the profile is said first');
  assert.equal(lines.length, 2, res.stderr);
  assert.match(lines[1]!, /namespace locked enforces PodSecurity "baseline", which forbids the capture container \(baseline forbids privileged: true/);
  assert.match(res.stderr, /Capturing TLS plaintext \(--tls\) needs a privileged container/);
  assert.match(res.stderr, /kubectl label namespace locked pod-security.kubernetes.io\/enforce=privileged --overwrite/);
  assert.deepEqual(await ephemeral('locked', 'web'), [], 'nothing was patched');

  const auto = await runTap(sandbox, ['web', '-n', 'tls', '--tls', '--profile', 'auto', '-o', 'json']);
  assert.equal(auto.code, 2, auto.stderr);
  assert.match(auto.stderr, /^kubectl shark tap: --profile auto cannot capture TLS: --tls loads eBPF probes through bpf\(\) and perf_event_open\(\)/);
  assert.deepEqual(await ephemeral('tls', 'web'), [], 'nothing was patched');
});

test('tap web --tls in a privileged namespace: the profile line comes first, the capture container is privileged, the agent runs with --tls', { skip, timeout: 120_000 }, async () => {
  const res = await runTap(sandbox, ['^web$', '-n', 'tls', '--tls', '-o', 'json', '--duration', '6s'], 100_000);
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stderr.split('\n').filter((l) => l.startsWith('kubectl shark tap: '));
  assert.equal(lines[0], `kubectl shark tap: ${TLS_PROFILE_NOTICE}`, 'said before anything else');
  const [capture] = await ephemeral('tls', 'web');
  assert.deepEqual({ ...capture?.securityContext }, { privileged: true, runAsUser: 0, runAsNonRoot: false }, 'the capture container of --profile privileged');
  // Every agent started with --tls reports on TLS: hooked, not hooked, or unavailable.
  assert.match(res.stderr, /pod tls\/web: (TLS hooked|TLS not hooked|agent warning TLS_UNAVAILABLE)/, res.stderr);
  await assertNoAgents(sandbox, [['tls', 'web']]);
});

test('tap web --tls: a privileged capture container, said first; the client\'s HTTPS requests as tls rows named from the cluster, each once; no other pod\'s', { skip, timeout: 180_000 }, async (t) => {
  const tap = startTap(sandbox, ['^web$', '-n', 'tls', '--tls', '-o', 'json'], 150_000);
  const fromClient = (): HttpEntry[] => tap.allEntries().filter(isHttpEntry).filter((e) => e.request.url.includes('from=client'));
  try {
    await tap.until('12 of the client\'s requests', () => fromClient().length >= 12, 60_000);
  } finally {
    const res = await tap.interrupt();
    t.diagnostic(res.stderr);
    assert.equal(res.code, 0, res.stderr);
  }
  const notices = tap.stderr.split('\n').filter((l) => l.startsWith('kubectl shark tap: '));
  assert.equal(notices[0], `kubectl shark tap: ${TLS_PROFILE_NOTICE}`);
  assert.ok(notices.some((l) => /^kubectl shark tap: pod tls\/web: TLS hooked: .*nginx/.test(l)), `a hook report for nginx:\n${tap.stderr}`);
  const [capture] = await ephemeral('tls', 'web');
  assert.equal(capture?.securityContext?.privileged, true, 'the capture container is privileged');

  const rows = fromClient();
  for (const e of rows) {
    assert.ok(isTlsEntry(e), `${e.id}: tls: true`);
    assert.equal(e.response?.status, 200, e.id);
    assert.equal(e.response?.content.size, 1200, e.id);
    assert.match(e.src.name, /^client/, `${e.id}: client named from the cluster (${e.src.name})`);
    assert.match(e.dst.name, /^web/, `${e.id}: server named from the cluster (${e.dst.name})`);
    assert.equal(e.dst.port, PORT);
  }
  const seen = new Map<string, number>();
  for (const e of rows) seen.set(e.request.url, (seen.get(e.request.url) ?? 0) + 1);
  assert.deepEqual([...seen].filter(([, n]) => n > 1), [], 'each request once');
  const others = tap.allEntries().filter((e) => isHttpEntry(e) && e.request.url.includes('from=other'));
  assert.deepEqual(others.map((e) => e.id), [], 'nothing of the other pods (same libssl, other PID and network namespaces)');
  await assertNoAgents(sandbox, [['tls', 'web']]);
});
