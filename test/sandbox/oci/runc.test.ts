/**
 * The sandbox's container runtime for real (as root): runc containers from bundles with an overlay
 * root filesystem, in a network namespace made for the test. Isolation (own root, own PID
 * namespace, joining another's), the security the spec asks for as the kernel reports it (/proc
 * status, bpf and perf_event_open through seccomp), OOM kills, exec (plain and with a tty), command
 * lookup confined to the root, and that destroy and the sweep of a killed owner leave nothing.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { createNetns, type Netns } from '../../helpers/netns.ts';
import { skipFor } from '../../helpers/requirements.ts';
import { allCapabilities, capabilityMask, lastCapability } from './capabilities.ts';
import { hierarchies } from './cgroups.ts';
import { runcRoot, runtimeLeftovers, runtimeReason, startContainer, sweepStaleContainers } from './runc.ts';
import type { ContainerConfig, ExecOptions, RuncContainerApi } from './types.ts';
import { sandboxImages } from '../images/store.ts';
import type { SandboxImage } from '../images/types.ts';

const reason = runtimeReason();
const skip = skipFor(reason);
if (skip) process.stderr.write(`skipping the runc runtime tests: ${reason}\n`);

const DEFAULT_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];
const PREFIX = `ks-${process.pid}-`;
/** The real node_modules (koffi for the syscall probes), mounted read-only at its own path. */
const NODE_MODULES = realpathSync(join(import.meta.dirname, '../../../node_modules'));

interface Output {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Collects a process's output until it exits. */
function collect(child: ChildProcess): Promise<Output> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A container's whole stdout or stderr (its held output stream, read to its end). */
async function output(c: RuncContainerApi, which: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  let text = '';
  for await (const chunk of c[which]) text += (chunk as Buffer).toString('utf8');
  return text;
}

describe('runc containers', { skip }, () => {
  let base: string;
  /** busybox:1.36 and node:24-slim of the sandbox's image store. */
  let image: SandboxImage;
  let nodeImage: SandboxImage;
  let ns: Netns;
  let n = 0;
  const started: RuncContainerApi[] = [];
  const startMs: number[] = [];
  const destroyMs: number[] = [];

  function config(o: Partial<ContainerConfig> = {}): ContainerConfig {
    n += 1;
    return {
      image,
      // An init that ends on SIGTERM (pid 1 ignores signals it has no handler for).
      args: ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'],
      env: { PATH: '/usr/local/bin:/bin', CONTAINER_VAR: 'from-the-spec' },
      cwd: '/',
      uid: 0,
      gid: 0,
      groups: [],
      capabilities: DEFAULT_CAPS,
      privileged: false,
      noNewPrivileges: false,
      seccomp: 'RuntimeDefault',
      namespaces: { network: `/var/run/netns/${ns.name}` },
      mounts: [],
      cgroupsPath: `${PREFIX}${n}-oci_pod/c${n}`,
      stdin: false,
      ...o,
    };
  }

  async function start(c: ContainerConfig = config()): Promise<RuncContainerApi> {
    const id = `${PREFIX}${n}-c`;
    const t0 = performance.now();
    const container = await startContainer({ id, bundleDir: join(base, 'bundles', id), config: c });
    startMs.push(performance.now() - t0);
    started.push(container);
    return container;
  }

  async function destroy(c: RuncContainerApi): Promise<void> {
    const t0 = performance.now();
    await c.destroy(2000);
    destroyMs.push(performance.now() - t0);
  }

  function exec(c: RuncContainerApi, args: string[], o: Partial<ExecOptions> = {}): Promise<Output> {
    return collect(c.exec({ args, env: { PATH: '/usr/local/bin:/bin' }, cwd: '/', tty: false, stdin: false, stdout: true, stderr: true, ...o }));
  }

  /** The /proc/self/status fields of a process inside the container. */
  async function status(c: RuncContainerApi): Promise<Record<string, string>> {
    const out = await exec(c, ['cat', '/proc/self/status']);
    return Object.fromEntries(out.stdout.split('\n').map((l) => l.split(':\t')).filter((kv) => kv.length === 2).map(([k, v]) => [k!, v!.trim()]));
  }

  /** Status of the container's init (pid 1 of its namespace), read through its own /proc. */
  async function initStatus(c: RuncContainerApi): Promise<Record<string, string>> {
    const text = readFileSync(`/proc/${c.pid}/status`, 'utf8');
    return Object.fromEntries(text.split('\n').map((l) => l.split(':\t')).filter((kv) => kv.length === 2).map(([k, v]) => [k!, v!.trim()]));
  }

  before(async () => {
    sweepStaleContainers();
    base = mkdtempSync(`/tmp/${PREFIX}oci-`);
    const store = sandboxImages();
    await store.ensure((line) => process.stderr.write(`${line}\n`));
    image = store.get('busybox:1.36')!;
    nodeImage = store.get('node:24-slim')!;
    ns = await createNetns('oci');
  });

  after(async () => {
    for (const c of started) await c.destroy(0).catch(() => {});
    await ns?.destroy();
    if (base) {
      const left = runtimeLeftovers(PREFIX, base);
      rmSync(base, { recursive: true, force: true });
      assert.deepEqual(left, { containers: [], cgroups: [], mounts: [] });
    }
  });

  test('a container sees its own root: not the host\'s files, its writes in its own upper layer only', async () => {
    const hostOnly = join(base, 'host-only-file');
    writeFileSync(hostOnly, 'host');
    const a = await start();
    const b = await start();
    assert.equal((await exec(a, ['test', '-e', hostOnly])).code, 1);
    assert.equal((await exec(a, ['sh', '-c', 'echo written-in-a > /root/a-file'])).code, 0);
    assert.equal(readFileSync(join(a.rootfs, 'root/a-file'), 'utf8'), 'written-in-a\n');
    assert.equal(existsSync(join(image.rootfs, 'root/a-file')), false, 'the image tree is not written');
    assert.equal(existsSync(join(b.rootfs, 'root/a-file')), false);
    assert.equal((await exec(b, ['test', '-e', '/root/a-file'])).code, 1);
    await destroy(a);
    await destroy(b);
  });

  test('pid 1 is its init in a new PID namespace; a container joining /proc/<pid>/ns/pid sees its processes', async () => {
    const a = await start(config({ args: ['sleep', '601'] }));
    assert.equal((await exec(a, ['cat', '/proc/1/cmdline'])).stdout, 'sleep\x00601\x00');
    assert.equal(readFileSync(`/proc/${a.pid}/cmdline`, 'utf8'), 'sleep\x00601\x00', 'pid is the host pid of the init');
    assert.notEqual(readFileSync(`/proc/${a.pid}/status`, 'utf8').match(/^NSpid:\t(.*)$/m)?.[1]?.split('\t').at(-1), undefined);
    assert.equal(readFileSync(`/proc/${a.pid}/status`, 'utf8').match(/^NSpid:\t(.*)$/m)![1]!.split('\t').at(-1), '1');
    const b = await start(config({ args: ['sleep', '602'], namespaces: { network: `/var/run/netns/${ns.name}`, pid: `/proc/${a.pid}/ns/pid` } }));
    const ps = (await exec(b, ['ps', '-o', 'pid,args'])).stdout;
    assert.match(ps, /^\s*1\s+sleep 601$/m, ps);
    assert.match(ps, /sleep 602/);
    // A process exec'd into the joining container lives in the shared namespace: destroy takes it too.
    const straggler = b.exec({ args: ['sleep', '703'], env: { PATH: '/bin' }, cwd: '/', tty: false, stdin: false, stdout: false, stderr: false });
    for (let i = 0; i < 100 && !/sleep 703/.test((await exec(a, ['ps', '-o', 'args'])).stdout); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match((await exec(a, ['ps', '-o', 'args'])).stdout, /sleep 703/);
    await destroy(b);
    const after = (await exec(a, ['ps', '-o', 'args'])).stdout;
    assert.doesNotMatch(after, /sleep 70[23]/);
    assert.match(after, /sleep 601/, 'the first container runs on');
    // Its `runc exec` ends with it.
    await new Promise((resolve) => (straggler.exitCode !== null || straggler.signalCode !== null ? resolve(null) : straggler.once('exit', resolve)));
    await destroy(a);
  });

  test('a pod\'s pattern: a pause-like container with its hostname, another joining its uts and ipc namespaces', async () => {
    const pause = await start(config({ hostname: 'pod-a' }));
    const app = await start(config({ namespaces: { network: `/var/run/netns/${ns.name}`, uts: `/proc/${pause.pid}/ns/uts`, ipc: `/proc/${pause.pid}/ns/ipc` } }));
    assert.equal((await exec(pause, ['hostname'])).stdout, 'pod-a\n');
    assert.equal((await exec(app, ['hostname'])).stdout, 'pod-a\n');
    const nsOf = async (c: RuncContainerApi, kind: string): Promise<string> => (await exec(c, ['readlink', `/proc/self/ns/${kind}`])).stdout.trim();
    assert.equal(await nsOf(app, 'ipc'), await nsOf(pause, 'ipc'));
    assert.equal(await nsOf(app, 'net'), await nsOf(pause, 'net'));
    assert.notEqual(await nsOf(app, 'mnt'), await nsOf(pause, 'mnt'));
    assert.notEqual(await nsOf(app, 'pid'), await nsOf(pause, 'pid'));
    await Promise.all([destroy(app), destroy(pause)]);
  });

  test('binds: a read-only folder cannot be written, a writable file is the host\'s', async () => {
    const shared = join(base, 'shared');
    const hostsFile = join(base, 'hosts');
    mkdirSync(shared);
    writeFileSync(hostsFile, '127.0.0.1 localhost\n');
    writeFileSync(join(shared, 'data'), 'shared data');
    const c = await start(config({ mounts: [{ destination: '/data', source: shared, readOnly: true }, { destination: '/etc/hosts', source: hostsFile, readOnly: false }] }));
    assert.equal((await exec(c, ['cat', '/data/data'])).stdout, 'shared data');
    const write = await exec(c, ['sh', '-c', 'echo x > /data/new']);
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /Read-only file system/);
    assert.equal((await exec(c, ['sh', '-c', 'echo "10.0.0.1 db" >> /etc/hosts'])).code, 0);
    assert.equal(readFileSync(hostsFile, 'utf8'), '127.0.0.1 localhost\n10.0.0.1 db\n');
    await destroy(c);
  });

  test('capabilities, no_new_privs and seccomp as configured, for the init and for exec', async (t: TestContext) => {
    const plain = await start(config({ noNewPrivileges: true }));
    const expected = capabilityMask(DEFAULT_CAPS).toString(16).padStart(16, '0');
    for (const s of [await initStatus(plain), await status(plain)]) {
      assert.equal(s['CapEff'], expected);
      assert.equal(s['CapPrm'], expected);
      assert.equal(s['CapBnd'], expected);
      assert.equal(s['CapInh'], '0000000000000000');
      assert.equal(s['CapAmb'], '0000000000000000');
      assert.equal(s['NoNewPrivs'], '1');
      assert.equal(s['Seccomp'], '2');
    }
    const privileged = await start(config({ privileged: true }));
    // Every capability this kernel has that we hold ourselves (runc can give no more).
    const all = capabilityMask(allCapabilities()).toString(16).padStart(16, '0');
    assert.equal(all, /^CapBnd:\t(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    assert.ok(allCapabilities().length >= lastCapability());
    for (const s of [await initStatus(privileged), await status(privileged)]) {
      assert.equal(s['CapBnd'], all);
      assert.equal(s['CapEff'], all);
      assert.equal(s['NoNewPrivs'], '0');
      assert.equal(s['Seccomp'], '0');
    }
    const unconfined = await start(config({ seccomp: 'Unconfined', capabilities: ['KILL'] }));
    const s = await status(unconfined);
    assert.equal(s['Seccomp'], '0');
    assert.equal(s['CapEff'], capabilityMask(['KILL']).toString(16).padStart(16, '0'));
    t.diagnostic(`CapBnd default ${expected}, privileged ${all}`);
    await Promise.all([destroy(plain), destroy(privileged), destroy(unconfined)]);
  });

  test('bpf() and perf_event_open() are EPERM in a default container, not in a privileged one; clone3 ENOSYS (node + koffi)', async (t: TestContext) => {
    // syscall(321 bpf, BPF_MAP_CREATE, NULL, 0) and syscall(298 perf_event_open, NULL, ...): with
    // the calls allowed the kernel answers EFAULT/EINVAL for the NULL attributes; seccomp: EPERM.
    const probe = [
      "const koffi = require(process.argv[1]);",
      "const syscall = koffi.load('libc.so.6').func('long syscall(long n, long a, long b, long c, long d, long e)');",
      "const errno = (n) => (syscall(n, 0, 0, 0, 0, 0) === -1 ? koffi.errno() : 0);",
      // clone3(NULL, 0): EINVAL from the kernel (size too small), never a new process.
      "console.log(JSON.stringify({ bpf: errno(321), perf: errno(298), unshare: errno(272), clone3: errno(435) }));",
    ].join('\n');
    const mounts = [{ destination: NODE_MODULES, source: NODE_MODULES, readOnly: true }];
    type Errnos = { bpf: number; perf: number; unshare: number; clone3: number };
    const run = async (c: ContainerConfig): Promise<Errnos> => {
      const container = await start(c);
      const out = await exec(container, ['node', '-e', probe, join(NODE_MODULES, 'koffi')]);
      await destroy(container);
      assert.equal(out.code, 0, out.stderr);
      return JSON.parse(out.stdout) as Errnos;
    };
    const EPERM = 1;
    const EINVAL = 22;
    const ENOSYS = 38;
    const plain = await run(config({ image: nodeImage, mounts }));
    assert.deepEqual(plain, { bpf: EPERM, perf: EPERM, unshare: EPERM, clone3: ENOSYS });
    const privileged = await run(config({ image: nodeImage, mounts, privileged: true }));
    assert.notEqual(privileged.bpf, EPERM);
    assert.notEqual(privileged.perf, EPERM);
    assert.equal(privileged.clone3, EINVAL);
    // CAP_BPF and CAP_PERFMON give their calls back through the profile (the kernel then checks them).
    const granted = await run(config({ image: nodeImage, mounts, capabilities: [...DEFAULT_CAPS, 'BPF', 'PERFMON'] }));
    assert.notEqual(granted.bpf, EPERM);
    assert.notEqual(granted.perf, EPERM);
    assert.equal(granted.unshare, EPERM);
    assert.equal(granted.clone3, ENOSYS);
    t.diagnostic(`errno default ${JSON.stringify(plain)}, privileged ${JSON.stringify(privileged)}, BPF+PERFMON ${JSON.stringify(granted)}`);
  });

  test('a memory limit exceeded: exit code 137 and oomKilled', async () => {
    const c = await start(
      config({
        image: nodeImage,
        args: ['node', '-e', 'const keep = []; for (;;) keep.push(Buffer.alloc(8 * 1048576, 1));'],
        memoryLimitBytes: 96 * 2 ** 20,
      }),
    );
    const exit = await c.exited;
    assert.deepEqual(exit, { exitCode: 137, signal: 'SIGKILL', oomKilled: true });
    await destroy(c);
  });

  test('an init that ends on its own: its exit code, not OOM', async () => {
    const c = await start(config({ args: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }));
    try {
      const [stdout, stderr] = [output(c), output(c, 'stderr')];
      assert.deepEqual(await c.exited, { exitCode: 3, signal: null, oomKilled: false });
      assert.equal(await stdout, 'out\n');
      assert.equal(await stderr, 'err\n');
    } finally {
      await destroy(c);
    }
  });

  test('stdin when asked: the init reads what is written to child.stdin', async () => {
    const c = await start(config({ args: ['sh', '-c', 'read line; echo got:$line'], stdin: true }));
    const out = output(c);
    c.child.stdin!.end('hello\n');
    assert.equal(await out, 'got:hello\n');
    assert.equal((await c.exited).exitCode, 0);
    await destroy(c);
  });

  test('a container that prints and ends at once keeps its output, read however late', async () => {
    // Node drains a child's unread pipes when it exits: runc of such a container is often gone
    // before startContainer resolves (2 of 20 lost before the output was held from the start).
    let kept = 0;
    for (let i = 0; i < 20; i++) {
      const c = await start(config({ args: ['echo', `hello ${i}`] }));
      await c.exited;
      await new Promise((r) => setTimeout(r, 20));
      if ((await output(c)) === `hello ${i}\n`) kept += 1;
      await destroy(c);
    }
    assert.equal(kept, 20);
  });

  test('exec gets its env, cwd, the container\'s user, and its exit code', async () => {
    const c = await start(config({ uid: 65534, gid: 65534, groups: [65534] }));
    const out = await exec(c, ['sh', '-c', 'echo "$FOO|$CONTAINER_VAR|$(pwd)|$(id -u):$(id -g)"; exit 7'], { env: { PATH: '/bin', FOO: "it's a $value" }, cwd: '/tmp' });
    assert.equal(out.stdout, "it's a $value||/tmp|65534:65534\n");
    assert.equal(out.code, 7);
    const missing = await exec(c, ['no-such-command']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /executable file not found/);
    await destroy(c);
  });

  test('a signal to the exec process reaches the exec\'d process (runc forwards it)', async () => {
    const c = await start();
    const child = c.exec({ args: ['sh', '-c', 'trap "echo got-term; exit 9" TERM; echo ready; sleep 100 >/dev/null 2>&1 & wait'], env: { PATH: '/bin' }, cwd: '/', tty: false, stdin: false, stdout: true, stderr: true });
    const out = collect(child);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.kill('SIGTERM');
    const o = await out;
    assert.equal(o.code, 9);
    assert.match(o.stdout, /got-term/);
    await destroy(c);
    assert.throws(() => c.exec({ args: ['true'], env: {}, cwd: '/', tty: false, stdin: false, stdout: false, stderr: false }), /being destroyed/);
  });

  test('a tty exec has a terminal; its arguments reach it unchanged however hostile', async () => {
    const c = await start();
    const hostile = `'; touch /tmp/pwned; echo '$(id) \`x\` "q"`;
    const out = await exec(c, ['sh', '-c', 'test -t 0 && test -t 1 && tty; printf "%s\\n" "$1"; exit 5', 'sh', hostile], { tty: true, stdin: true });
    assert.equal(out.code, 5);
    assert.match(out.stdout, /\/dev\/pts\/\d+/);
    assert.ok(out.stdout.replace(/\r/g, '').includes(`${hostile}\n`), out.stdout);
    assert.equal(existsSync('/tmp/pwned'), false);
    assert.equal((await exec(c, ['test', '-e', '/tmp/pwned'])).code, 1);
    const plain = await exec(c, ['sh', '-c', 'test -t 1']);
    assert.equal(plain.code, 1, 'no tty unless asked');
    await destroy(c);
  });

  test('resolve: PATH lookup inside the root, symlinks kept inside it', async () => {
    const c = await start();
    assert.equal(c.resolve('sh', '/usr/local/bin:/bin', '/'), '/bin/sh');
    assert.equal(c.resolve('/bin/sleep', '/nowhere', '/'), '/bin/sleep');
    assert.equal(c.resolve('./busybox', '', '/bin'), '/bin/busybox');
    assert.equal(c.resolve('no-such-command', '/usr/local/bin:/bin', '/'), undefined);
    assert.equal(c.resolve('passwd', '/etc', '/'), undefined, 'not executable');
    // Links the container made (its content is hostile): '..'s and absolute targets stay inside.
    assert.ok(existsSync('/usr/bin/dpkg'));
    assert.equal((await exec(c, ['sh', '-c', 'ln -s ../../../../../../../usr/bin/dpkg /tmp/up && ln -s /usr/bin/dpkg /tmp/abs && ln -s ../bin/busybox /tmp/good'])).code, 0);
    assert.equal(c.resolve('up', '/tmp', '/'), undefined, 'the target is the container\'s /usr/bin/dpkg, which it has not');
    assert.equal(c.resolve('abs', '/tmp', '/'), undefined);
    assert.equal(c.resolve('good', '/tmp', '/'), '/tmp/good');
    await destroy(c);
  });

  test('a command that does not exist: startContainer rejects with runc\'s error and leaves nothing', async () => {
    const c = config({ args: ['no-such-command'] });
    await assert.rejects(startContainer({ id: `${PREFIX}${n}-bad`, bundleDir: join(base, 'bundles', `${PREFIX}${n}-bad`), config: c }), /exec: "no-such-command": executable file not found in \$PATH/);
    assert.deepEqual(runtimeLeftovers(`${PREFIX}${n}-`, base), { containers: [], cgroups: [], mounts: [] });
    assert.equal(existsSync(join(base, 'bundles', `${PREFIX}${n}-bad`)), false);
  });

  test('bad names and a second start of a running id are refused, and the running one is untouched', async () => {
    const running = await start();
    const again = { id: running.id, bundleDir: join(base, 'bundles', `${running.id}-again`), config: config() };
    await assert.rejects(startContainer(again), /runc has one of that id already/);
    assert.equal((await exec(running, ['true'])).code, 0, 'still running');
    assert.ok(existsSync(join(running.rootfs, 'bin/sh')), 'still mounted');
    const bundleDir = join(base, 'bundles', 'x');
    await assert.rejects(startContainer({ id: 'a b; rm -rf /', bundleDir, config: config() }), /an id is letters, digits/);
    await assert.rejects(startContainer({ id: `${PREFIX}bad1`, bundleDir, config: config({ cgroupsPath: '/abs/path' }) }), /must be relative/);
    await assert.rejects(startContainer({ id: `${PREFIX}bad2`, bundleDir, config: config({ cgroupsPath: `${PREFIX}x/../../escape` }) }), /without '.', '..'/);
    assert.equal(existsSync(bundleDir), false);
    await destroy(running);
  });

  test('destroy leaves nothing: no runc container, no cgroup in any hierarchy, no mount, no bundle', async (t: TestContext) => {
    const c = await start(config({ memoryLimitBytes: 64 * 2 ** 20, cpuQuotaUs: 50_000, cpuShares: 256 }));
    const cg = `${PREFIX}${n}-oci_pod/c${n}`;
    const folders = hierarchies().map((h) => join(h.base, cg));
    assert.ok(folders.length > 0 && folders.every((f) => existsSync(f)), 'runc made the group in every hierarchy');
    const memory = hierarchies().find((h) => h.controllers.includes('memory'));
    if (memory) assert.equal(readFileSync(join(memory.base, cg, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 2 ** 20));
    const cpu = hierarchies().find((h) => h.controllers.includes('cpu'));
    if (cpu) {
      assert.equal(readFileSync(join(cpu.base, cg, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
      assert.equal(readFileSync(join(cpu.base, cg, 'cpu.cfs_period_us'), 'utf8').trim(), '100000');
      assert.equal(readFileSync(join(cpu.base, cg, 'cpu.shares'), 'utf8').trim(), '256');
    }
    // An exec'd process still running when the container goes.
    const straggler = c.exec({ args: ['sleep', '500'], env: { PATH: '/bin' }, cwd: '/', tty: false, stdin: false, stdout: false, stderr: false });
    await destroy(c);
    assert.deepEqual(runtimeLeftovers(`${PREFIX}${n}-`, base), { containers: [], cgroups: [], mounts: [] });
    assert.ok(folders.every((f) => !existsSync(f)));
    assert.equal(existsSync(join(base, 'bundles', c.id)), false);
    assert.equal(existsSync(`/proc/${c.pid}`), false);
    await new Promise((resolve) => (straggler.exitCode !== null || straggler.signalCode !== null ? resolve(null) : straggler.once('exit', resolve)));
    t.diagnostic(`runc root ${runcRoot()}`);
  });

  test('sweepStaleContainers removes what a SIGKILLed owner left', async () => {
    const holderBase = join(base, 'held');
    const holder = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'hold-container.ts'), holderBase, image.rootfs, `/var/run/netns/${ns.name}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      holder.stdout.setEncoding('utf8').on('data', (s: string) => {
        text += s;
        if (text.includes('\n')) resolve(text.trim());
      });
      holder.once('exit', (code) => reject(new Error(`hold-container exited ${code}: ${text}`)));
    });
    const [, id] = line.split(' ');
    const ownerPrefix = `ks-${holder.pid}-`;
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    const left = runtimeLeftovers(ownerPrefix, holderBase);
    assert.deepEqual(left.containers, [id]);
    assert.ok(left.cgroups.length >= hierarchies().length, left.cgroups.join(' '));
    assert.equal(left.mounts.length, 1);
    sweepStaleContainers();
    assert.deepEqual(runtimeLeftovers(ownerPrefix, holderBase), { containers: [], cgroups: [], mounts: [] });
    assert.equal(existsSync(join(holderBase, id!)), false);
  });

  test('start and destroy times', (t: TestContext) => {
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    t.diagnostic(`start: ${startMs.length} containers, median ${median(startMs).toFixed(0)} ms, max ${Math.max(...startMs).toFixed(0)} ms`);
    t.diagnostic(`destroy: ${destroyMs.length} containers, median ${median(destroyMs).toFixed(0)} ms, max ${Math.max(...destroyMs).toFixed(0)} ms`);
    assert.ok(startMs.length > 5 && destroyMs.length > 5);
  });
});
