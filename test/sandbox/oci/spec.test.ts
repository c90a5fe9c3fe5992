/**
 * config.json as containerd writes it for a CRI container (spec.ts), and the RuntimeDefault
 * seccomp profile (seccomp.ts): pure functions, checked without root.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { allCapabilities, capabilityMask, CAPABILITY_NAMES, lastCapability } from './capabilities.ts';
import { runtimeDefaultProfile, type SeccompProfile } from './seccomp.ts';
import { MASKED_PATHS, ociSpec, READONLY_PATHS } from './spec.ts';
import type { ContainerConfig } from './types.ts';

/** containerd's default capabilities (what the kubelet passes for a container without securityContext). */
const DEFAULT_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];

function config(overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    image: {
      ref: 'docker.io/library/busybox:1.36',
      id: 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
      rootfs: '/images/busybox/rootfs',
      config: { entrypoint: [], cmd: ['sh'], env: ['PATH=/bin'], user: { uid: 0, gid: 0 }, workingDir: '/' },
    },
    args: ['sh', '-c', 'sleep 1'],
    env: { PATH: '/usr/bin:/bin', HOSTNAME: 'web' },
    cwd: '/work',
    uid: 1000,
    gid: 2000,
    groups: [3000, 3001],
    capabilities: DEFAULT_CAPS,
    privileged: false,
    noNewPrivileges: true,
    seccomp: 'RuntimeDefault',
    namespaces: { network: '/var/run/netns/ks-1-2-pod' },
    mounts: [{ destination: '/etc/hosts', source: '/tmp/ks-1-x/hosts', readOnly: false }, { destination: '/data', source: '/srv/data', readOnly: true }],
    cgroupsPath: 'ks-1-2-ns_pod/web',
    stdin: false,
    ...overrides,
  };
}

/** The errno a profile answers a call with (given its first argument), or 'allow'. */
function verdict(profile: SeccompProfile, call: string, arg0 = 0): number | 'allow' {
  for (const rule of profile.syscalls) {
    if (!rule.names.includes(call)) continue;
    const matches = (rule.args ?? []).every((a) => a.op === 'SCMP_CMP_MASKED_EQ' && (arg0 & a.value) === (a.valueTwo ?? 0));
    if (matches && rule.action === 'SCMP_ACT_ERRNO') return rule.errnoRet ?? 1;
  }
  return profile.defaultAction === 'SCMP_ACT_ALLOW' ? 'allow' : 1;
}

const EPERM = 1;
const ENOSYS = 38;
const CLONE_NEWNET = 0x40000000;
const FORK_FLAGS = 0x01200011; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, as glibc's fork
const THREAD_FLAGS = 0x003d0f00; // what pthread_create passes

describe('ociSpec: the process', () => {
  test('runs the args with the env, cwd, user and groups it is given, without a terminal', () => {
    const p = ociSpec(config()).process;
    assert.deepEqual(p.args, ['sh', '-c', 'sleep 1']);
    assert.deepEqual(p.env, ['PATH=/usr/bin:/bin', 'HOSTNAME=web']);
    assert.equal(p.cwd, '/work');
    assert.deepEqual(p.user, { uid: 1000, gid: 2000, additionalGids: [3000, 3001] });
    assert.equal(p.terminal, false);
    assert.equal(p.noNewPrivileges, true);
    assert.equal(ociSpec(config({ noNewPrivileges: false })).process.noNewPrivileges, false);
  });

  test('bounding, effective and permitted are the capabilities given; inheritable and ambient empty', () => {
    const c = ociSpec(config()).process.capabilities;
    const expected = DEFAULT_CAPS.map((n) => `CAP_${n}`);
    assert.deepEqual(c.bounding, expected);
    assert.deepEqual(c.effective, expected);
    assert.deepEqual(c.permitted, expected);
    assert.deepEqual(c.inheritable, []);
    assert.deepEqual(c.ambient, []);
  });

  test('a privileged container gets every capability this kernel has', () => {
    const c = ociSpec(config({ privileged: true })).process.capabilities;
    const all = allCapabilities();
    assert.ok(all.includes('SYS_ADMIN') && all.includes('NET_ADMIN') && all[0] === 'CHOWN');
    assert.deepEqual(c.bounding, all.map((n) => `CAP_${n}`));
    assert.deepEqual(c.effective, c.bounding);
    assert.deepEqual(c.permitted, c.bounding);
    // "Every" as containerd means it: those of the kernel (cap_last_cap) that the runtime holds.
    if (existsSync('/proc/self/status')) {
      const own = BigInt(`0x${/^CapEff:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
      assert.equal(capabilityMask(all), own & ((1n << BigInt(lastCapability() + 1)) - 1n));
    }
  });

  test('oomScoreAdj only when given; no rlimits (the CRI plugin clears the default spec\'s)', () => {
    assert.equal('oomScoreAdj' in ociSpec(config()).process, false);
    assert.equal(ociSpec(config({ oomScoreAdj: 1000 })).process.oomScoreAdj, 1000);
    assert.equal('rlimits' in ociSpec(config()).process, false);
  });

  test('capabilityMask gives /proc/PID/status bits and refuses unknown names', () => {
    assert.equal(capabilityMask(['CHOWN', 'NET_RAW']), (1n << 0n) | (1n << 13n));
    assert.equal(capabilityMask(['BPF', 'PERFMON']), (1n << 39n) | (1n << 38n));
    assert.equal(CAPABILITY_NAMES.length, 41);
    assert.throws(() => capabilityMask(['CAP_CHOWN']), /unknown capability CAP_CHOWN/);
  });
});

describe('ociSpec: root, hostname, mounts', () => {
  test('root is the bundle\'s rootfs, writable', () => {
    assert.deepEqual(ociSpec(config()).root, { path: 'rootfs', readonly: false });
  });

  test('hostname only when given (the pod\'s own UTS namespace)', () => {
    assert.equal('hostname' in ociSpec(config()), false);
    assert.equal(ociSpec(config({ hostname: 'web-0' })).hostname, 'web-0');
  });

  test('the default mounts in containerd\'s order, then the binds; /sys and cgroups read only unless privileged', () => {
    const mounts = ociSpec(config()).mounts;
    assert.deepEqual(
      mounts.map((m) => `${m.destination} ${m.type}`),
      ['/proc proc', '/dev tmpfs', '/dev/pts devpts', '/dev/shm tmpfs', '/dev/mqueue mqueue', '/sys sysfs', '/sys/fs/cgroup cgroup', '/etc/hosts bind', '/data bind'],
    );
    const opt = (spec: ReturnType<typeof ociSpec>, dest: string): readonly string[] => spec.mounts.find((m) => m.destination === dest)!.options;
    assert.ok(opt(ociSpec(config()), '/sys').includes('ro'));
    assert.ok(opt(ociSpec(config()), '/sys/fs/cgroup').includes('ro'));
    assert.ok(opt(ociSpec(config({ privileged: true })), '/sys').includes('rw'));
    assert.ok(opt(ociSpec(config({ privileged: true })), '/sys/fs/cgroup').includes('rw'));
    assert.deepEqual(mounts.find((m) => m.destination === '/data'), { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate', 'ro'] });
    assert.ok(opt(ociSpec(config()), '/etc/hosts').includes('rw'));
    assert.equal(mounts.some((m) => m.destination === '/run'), false);
  });
});

describe('ociSpec: namespaces and cgroup', () => {
  test('new pid, ipc, uts and mount namespaces; the pod\'s network joined by path', () => {
    assert.deepEqual(ociSpec(config()).linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/var/run/netns/ks-1-2-pod' }]);
  });

  test('joined namespaces carry their paths (the pause container\'s ipc and uts, a target\'s pid)', () => {
    const ns = ociSpec(config({ namespaces: { network: '/var/run/netns/p', pid: '/proc/42/ns/pid', ipc: '/proc/7/ns/ipc', uts: '/proc/7/ns/uts' } })).linux.namespaces;
    assert.deepEqual(ns, [
      { type: 'pid', path: '/proc/42/ns/pid' },
      { type: 'ipc', path: '/proc/7/ns/ipc' },
      { type: 'uts', path: '/proc/7/ns/uts' },
      { type: 'mount' },
      { type: 'network', path: '/var/run/netns/p' },
    ]);
  });

  test('cgroupsPath as given (relative); devices denied but the default character devices', () => {
    const linux = ociSpec(config()).linux;
    assert.equal(linux.cgroupsPath, 'ks-1-2-ns_pod/web');
    assert.deepEqual(linux.resources.devices[0], { allow: false, access: 'rwm' });
    const allowed = linux.resources.devices.filter((d) => d.allow).map((d) => `${d.type} ${d.major}:${d.minor ?? '*'}`);
    assert.deepEqual(allowed, ['c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:*']);
    assert.deepEqual(ociSpec(config({ privileged: true })).linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  });

  test('memory limit (swap = limit where swap is accounted), CPU quota per 100 ms and shares', () => {
    assert.equal(ociSpec(config()).linux.resources.memory, undefined);
    assert.equal(ociSpec(config()).linux.resources.cpu, undefined);
    const r = ociSpec(config({ memoryLimitBytes: 64 * 2 ** 20, cpuQuotaUs: 50_000, cpuShares: 512 }), { memorySwap: true }).linux.resources;
    assert.deepEqual(r.memory, { limit: 64 * 2 ** 20, swap: 64 * 2 ** 20 });
    assert.deepEqual(r.cpu, { shares: 512, quota: 50_000, period: 100_000 });
    assert.deepEqual(ociSpec(config({ memoryLimitBytes: 1000 })).linux.resources.memory, { limit: 1000 });
    assert.deepEqual(ociSpec(config({ cpuShares: 2 })).linux.resources.cpu, { shares: 2 });
  });
});

describe('ociSpec: masked paths and seccomp', () => {
  test('containerd\'s masked and read-only paths; none for a privileged container', () => {
    const linux = ociSpec(config()).linux;
    assert.deepEqual(linux.maskedPaths, MASKED_PATHS);
    assert.ok(linux.maskedPaths.includes('/proc/kcore') && linux.maskedPaths.includes('/proc/keys') && linux.maskedPaths.includes('/sys/firmware'));
    assert.deepEqual(linux.readonlyPaths, READONLY_PATHS);
    assert.ok(linux.readonlyPaths.includes('/proc/sys') && linux.readonlyPaths.includes('/proc/sysrq-trigger'));
    const privileged = ociSpec(config({ privileged: true })).linux;
    assert.deepEqual(privileged.maskedPaths, []);
    assert.deepEqual(privileged.readonlyPaths, []);
  });

  test('RuntimeDefault has a profile; Unconfined and privileged have none', () => {
    assert.ok(ociSpec(config()).linux.seccomp);
    assert.equal(ociSpec(config({ seccomp: 'Unconfined' })).linux.seccomp, undefined);
    assert.equal(ociSpec(config({ privileged: true })).linux.seccomp, undefined);
    assert.deepEqual(ociSpec(config()).linux.seccomp, runtimeDefaultProfile(DEFAULT_CAPS));
  });
});

describe('RuntimeDefault seccomp', () => {
  const plain = runtimeDefaultProfile(DEFAULT_CAPS);

  test('allows by default; a default container is refused bpf, perf_event_open, mount, unshare, setns, keyctl, kexec (EPERM)', () => {
    assert.equal(plain.defaultAction, 'SCMP_ACT_ALLOW');
    for (const call of ['bpf', 'perf_event_open', 'mount', 'umount2', 'unshare', 'setns', 'keyctl', 'add_key', 'kexec_load', 'userfaultfd', 'process_vm_readv', 'init_module', 'reboot', 'settimeofday', 'open_by_handle_at', 'syslog']) {
      assert.equal(verdict(plain, call), EPERM, call);
    }
    for (const call of ['read', 'socket', 'execve', 'ptrace', 'chroot', 'io_uring_setup']) assert.equal(verdict(plain, call), 'allow', call);
  });

  test('each withheld call comes back with the capability the default profile keys it on', () => {
    const withCap = (cap: string): SeccompProfile => runtimeDefaultProfile([...DEFAULT_CAPS, cap]);
    assert.equal(verdict(withCap('BPF'), 'bpf'), 'allow');
    assert.equal(verdict(withCap('BPF'), 'perf_event_open'), EPERM);
    assert.equal(verdict(withCap('PERFMON'), 'perf_event_open'), 'allow');
    assert.equal(verdict(withCap('PERFMON'), 'bpf'), EPERM);
    for (const call of ['bpf', 'perf_event_open', 'mount', 'unshare', 'setns', 'sethostname', 'syslog']) assert.equal(verdict(withCap('SYS_ADMIN'), call), 'allow', call);
    for (const call of ['process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd']) assert.equal(verdict(withCap('SYS_PTRACE'), call), 'allow', call);
    assert.equal(verdict(withCap('SYS_MODULE'), 'finit_module'), 'allow');
    assert.equal(verdict(withCap('SYS_BOOT'), 'reboot'), 'allow');
    assert.equal(verdict(withCap('SYS_TIME'), 'clock_settime'), 'allow');
    assert.equal(verdict(withCap('SYSLOG'), 'syslog'), 'allow');
    assert.equal(verdict(withCap('SYS_NICE'), 'mbind'), 'allow');
    assert.equal(verdict(withCap('SYS_RAWIO'), 'iopl'), 'allow');
    assert.equal(verdict(withCap('SYS_PACCT'), 'acct'), 'allow');
    // Without SYS_CHROOT (dropped by the pod), chroot goes.
    assert.equal(verdict(runtimeDefaultProfile(DEFAULT_CAPS.filter((c) => c !== 'SYS_CHROOT')), 'chroot'), EPERM);
    // Never given back by a capability: only privileged/Unconfined containers have them.
    const everything = runtimeDefaultProfile(allCapabilities());
    for (const call of ['kexec_load', 'keyctl', 'request_key', 'userfaultfd']) assert.equal(verdict(everything, call), EPERM, call);
  });

  test('clone: fork and threads pass, namespace flags are refused without SYS_ADMIN; clone3 is ENOSYS', () => {
    assert.equal(verdict(plain, 'clone', FORK_FLAGS), 'allow');
    assert.equal(verdict(plain, 'clone', THREAD_FLAGS), 'allow');
    assert.equal(verdict(plain, 'clone', FORK_FLAGS | CLONE_NEWNET), EPERM);
    for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000]) assert.equal(verdict(plain, 'clone', flag), EPERM);
    assert.equal(verdict(plain, 'clone3'), ENOSYS);
    const admin = runtimeDefaultProfile([...DEFAULT_CAPS, 'SYS_ADMIN']);
    assert.equal(verdict(admin, 'clone', CLONE_NEWNET), 'allow');
    assert.equal(verdict(admin, 'clone3'), 'allow');
  });

  test('names the x86_64 architectures', () => {
    assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });
});
