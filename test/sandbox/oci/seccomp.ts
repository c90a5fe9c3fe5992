/**
 * The RuntimeDefault seccomp profile, as containerd's default profile behaves for a container, in
 * our own words: which system calls a container may not make, and which capability gives each back.
 *
 * containerd writes its profile as an allow-list (default action ERRNO, ~350 names allowed). This
 * one is the complement, a deny-list (default action ALLOW, the withheld calls listed), because:
 *  - it is short enough to read and review: every line says what is withheld and why it comes back;
 *  - the calls that matter to the sandbox (bpf, perf_event_open, mount, unshare, setns, ptrace's
 *    relatives, clone with namespace flags, clone3, keyctl, kexec, ...) get the same answer: EPERM
 *    (ENOSYS for clone3, so glibc falls back to clone);
 *  - where the two differ is in calls neither list names: calls newer than the profile (which
 *    containerd refuses and this allows), and personality() (containerd allows five values only;
 *    a deny-list cannot say "anything but these" on one argument). Neither is used by what the
 *    sandbox runs, nor by tap's agent.
 * Names are x86_64 system calls; runc skips names libseccomp does not know on an architecture.
 * Like containerd, a call is given back when its capability is in the container's BOUNDING set.
 * ptrace itself is allowed, as containerd allows it on kernels >= 4.8 (the kernel checks it).
 */

export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
export type SeccompOperator = 'SCMP_CMP_MASKED_EQ' | 'SCMP_CMP_EQ' | 'SCMP_CMP_NE';

/** runtime-spec linux.seccomp.syscalls[].args[] */
export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: SeccompOperator;
}

/** runtime-spec linux.seccomp.syscalls[] */
export interface SeccompSyscall {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[];
}

/** runtime-spec linux.seccomp */
export interface SeccompProfile {
  readonly defaultAction: SeccompAction;
  readonly architectures: readonly string[];
  readonly syscalls: readonly SeccompSyscall[];
}

const EPERM = 1;
const ENOSYS = 38;

/** One group of withheld calls and the capabilities (any of them) that give the group back. */
interface Withheld {
  readonly calls: readonly string[];
  /** Empty: never given back (only a privileged or Unconfined container has them). */
  readonly grantedBy: readonly string[];
  readonly why: string;
}

/** The withheld calls, grouped by the capability the default profile keys them on. */
export const WITHHELD: readonly Withheld[] = [
  { calls: ['bpf'], grantedBy: ['SYS_ADMIN', 'BPF'], why: 'loading eBPF programs and maps' },
  { calls: ['perf_event_open'], grantedBy: ['SYS_ADMIN', 'PERFMON'], why: 'performance monitoring of the host' },
  { calls: ['syslog'], grantedBy: ['SYS_ADMIN', 'SYSLOG'], why: 'the kernel log' },
  {
    calls: [
      'mount', 'umount2', 'mount_setattr', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
      'unshare', 'setns', 'fanotify_init', 'lookup_dcookie', 'name_to_handle_at', 'quotactl', 'quotactl_fd',
      'sethostname', 'setdomainname',
    ],
    grantedBy: ['SYS_ADMIN'],
    why: 'mounts, namespaces, host-wide names',
  },
  { calls: ['open_by_handle_at'], grantedBy: ['DAC_READ_SEARCH'], why: 'opens files by handle, around mount confinement' },
  { calls: ['reboot'], grantedBy: ['SYS_BOOT'], why: 'reboots the host' },
  { calls: ['chroot'], grantedBy: ['SYS_CHROOT'], why: 'changes root' },
  { calls: ['init_module', 'finit_module', 'delete_module'], grantedBy: ['SYS_MODULE'], why: 'kernel modules' },
  { calls: ['acct'], grantedBy: ['SYS_PACCT'], why: 'process accounting' },
  {
    calls: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev'],
    grantedBy: ['SYS_PTRACE'],
    why: "other processes' memory and files",
  },
  { calls: ['iopl', 'ioperm'], grantedBy: ['SYS_RAWIO'], why: 'raw I/O ports' },
  { calls: ['settimeofday', 'clock_settime'], grantedBy: ['SYS_TIME'], why: "the host's clock" },
  { calls: ['vhangup'], grantedBy: ['SYS_TTY_CONFIG'], why: 'hangs up terminals' },
  { calls: ['get_mempolicy', 'set_mempolicy', 'mbind'], grantedBy: ['SYS_NICE'], why: 'NUMA memory placement' },
  {
    calls: [
      'kexec_load', 'kexec_file_load', 'userfaultfd', 'keyctl', 'add_key', 'request_key', 'swapon', 'swapoff',
      'nfsservctl', 'uselib', 'ustat', 'sysfs', '_sysctl', 'create_module', 'get_kernel_syms', 'query_module',
      'move_pages', 'migrate_pages', 'afs_syscall', 'tuxcall', 'security', 'putpmsg', 'getpmsg', 'vserver',
    ],
    grantedBy: [],
    why: 'never allowed: the kernel keyring is not namespaced, obsolete or host-wide calls',
  },
];

/** clone() flags that make new namespaces: refused without SYS_ADMIN (fork and threads pass). */
export const CLONE_NAMESPACE_FLAGS: Readonly<Record<string, number>> = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};

/**
 * The RuntimeDefault profile for a container whose bounding set is `capabilities` (names without
 * CAP_). Privileged and Unconfined containers get no profile at all (spec.ts decides).
 */
export function runtimeDefaultProfile(capabilities: readonly string[]): SeccompProfile {
  const has = new Set(capabilities);
  const syscalls: SeccompSyscall[] = [];
  for (const group of WITHHELD) {
    if (group.grantedBy.some((cap) => has.has(cap))) continue;
    syscalls.push({ names: group.calls, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM });
  }
  if (!has.has('SYS_ADMIN')) {
    // clone(flags, ...): flags is argument 0 on x86_64. One rule per namespace flag, each "this
    // bit is set": libseccomp ORs rules of one call, so any namespace flag is refused.
    for (const flag of Object.values(CLONE_NAMESPACE_FLAGS)) {
      syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }] });
    }
    // clone3 passes its flags in memory, where seccomp cannot look: refused outright, with ENOSYS
    // so that glibc (2.34+) and others fall back to clone(), which the rules above can check.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls };
}
