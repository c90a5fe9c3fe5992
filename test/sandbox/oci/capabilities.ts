/**
 * Linux capability names by number (include/uapi/linux/capability.h), and the set a privileged
 * container gets: every capability this kernel knows (up to /proc/sys/kernel/cap_last_cap) that
 * the runtime itself holds, as containerd grants them (its "all current capabilities"): runc cannot
 * give a container a capability it lacks (a machine whose root runs without CAP_SYS_RESOURCE, as
 * this one's, makes runc fail with "unable to apply caps: operation not permitted").
 */
import { readFileSync } from 'node:fs';

/** Index = capability number; names without the CAP_ prefix, as ContainerConfig carries them. */
export const CAPABILITY_NAMES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID',
  'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW',
  'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD',
  'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** The highest capability number this kernel has (the table's last when /proc does not say). */
export function lastCapability(): number {
  try {
    const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    if (Number.isInteger(n) && n >= 0) return Math.min(n, CAPABILITY_NAMES.length - 1);
  } catch {
    /* not Linux, or /proc hidden: fall back to the table */
  }
  return CAPABILITY_NAMES.length - 1;
}

/** The capabilities this process has in effect (/proc/self/status CapEff), or null when unknown. */
function ownEffectiveMask(): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : null;
  } catch {
    return null;
  }
}

/** Every capability of this kernel that we hold: what a privileged container gets. */
export function allCapabilities(): string[] {
  const own = ownEffectiveMask();
  return CAPABILITY_NAMES.slice(0, lastCapability() + 1).filter((_, bit) => own === null || (own & (1n << BigInt(bit))) !== 0n);
}

/**
 * The bit mask /proc/PID/status shows (CapEff, CapBnd: 16 hex digits) for a set of names; unknown
 * names throw, so a typo in a test or in the kubelet's defaults is caught.
 */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const bit = CAPABILITY_NAMES.indexOf(name);
    if (bit < 0) throw new Error(`unknown capability ${name} (names are upper case without CAP_, e.g. NET_ADMIN)`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}
