/**
 * What each --profile grants the capture container, as its securityContext. Capturing opens an
 * AF_PACKET socket, which needs CAP_NET_RAW and nothing else: the agent sets no socket option
 * that needs NET_ADMIN (no promiscuous mode; `any` is read in SOCK_DGRAM), the keeper only reads
 * /proc, and the upload unpacks without changing owners (`tar --no-same-owner`, so no CAP_CHOWN).
 * So `auto` drops every capability but NET_RAW and forbids escalation; `privileged` is the last
 * resort for runtimes that withhold NET_RAW whatever the spec says.
 *
 * Both run as root explicitly (runAsUser 0, runAsNonRoot false): a pod-level runAsNonRoot would
 * otherwise make the kubelet refuse to start the container ("container has runAsNonRoot and image
 * will run as root"), and a pod-level runAsUser would leave a non-root user whose NET_RAW is not
 * effective.
 */
import type * as k8s from '@kubernetes/client-node';

export type Profile = 'auto' | 'privileged';
export const PROFILES: readonly Profile[] = ['auto', 'privileged'];

/** Profiles of earlier versions: what to say instead. */
export const RETIRED_PROFILES: Readonly<Record<string, string>> = {
  netadmin:
    '--profile netadmin is retired: capturing needs only CAP_NET_RAW, which --profile auto (the default) gives; ' +
    'nothing in kubectl shark uses NET_ADMIN. Use --profile auto, or --profile privileged where the container runtime withholds NET_RAW',
};

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/**
 * The capabilities containerd and Docker give a container by default (CRI-O gives fewer: no
 * NET_RAW, MKNOD, AUDIT_WRITE or SYS_CHROOT).
 */
export const RUNTIME_DEFAULT_CAPABILITIES: readonly string[] = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];

const ROOT: k8s.V1SecurityContext = { runAsUser: 0, runAsNonRoot: false };

/**
 * The capture container's securityContext. `podSecurity` is the namespace's enforce level when
 * known: `baseline` forbids adding NET_RAW but not keeping a default one, so there nothing is added
 * and every other default capability is dropped by name (drop lists are always allowed), which
 * leaves exactly the runtime's default NET_RAW. In `restricted` nothing can capture (pre-flight
 * says so); the spec is the usual one.
 */
export function captureSecurityContext(profile: Profile, podSecurity?: string | null): k8s.V1SecurityContext {
  switch (profile) {
    case 'auto':
      if (podSecurity === 'baseline') {
        return { allowPrivilegeEscalation: false, capabilities: { drop: RUNTIME_DEFAULT_CAPABILITIES.filter((c) => c !== 'NET_RAW') }, ...ROOT };
      }
      return { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_RAW'] }, ...ROOT };
    case 'privileged':
      // allowPrivilegeEscalation=false with privileged=true is invalid (the apiserver refuses it).
      return { privileged: true, ...ROOT };
  }
}

/**
 * What --tls needs, in one line (tap says it before patching anything): its eBPF programs and
 * uprobes are loaded with bpf() and perf_event_open(), which the runtime's default seccomp profile
 * refuses to a container without CAP_SYS_ADMIN (or CAP_BPF with CAP_PERFMON), and PodSecurity
 * `baseline` forbids adding those capabilities or leaving seccomp unconfined. Only a privileged
 * container has both, so --tls means --profile privileged.
 */
export const TLS_PROFILE_NOTICE =
  '--tls runs the capture container with --profile privileged: its eBPF probes need bpf() and perf_event_open() ' +
  '(CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN), which the default seccomp profile refuses to ordinary containers';

export type ProfileChoice = { readonly ok: true; readonly profile: Profile; readonly notice: string | null } | { readonly ok: false; readonly message: string };

/**
 * The profile for --profile (undefined: not given) and --tls. --tls picks `privileged` and says
 * why (`notice`); an explicit `--profile auto` with --tls cannot work, so it is refused.
 */
export function chooseProfile(requested: Profile | undefined, tls: boolean): ProfileChoice {
  if (!tls) return { ok: true, profile: requested ?? 'auto', notice: null };
  if (requested === 'auto') {
    return {
      ok: false,
      message:
        '--profile auto cannot capture TLS: --tls loads eBPF probes through bpf() and perf_event_open(), which the default seccomp profile ' +
        'refuses to a container with only NET_RAW. Leave --profile out (--tls picks privileged) or give --profile privileged',
    };
  }
  return { ok: true, profile: 'privileged', notice: requested === undefined ? TLS_PROFILE_NOTICE : null };
}

/** The lowest PodSecurity enforce level that admits a profile's container. */
export function requiredPodSecurity(profile: Profile): Exclude<PodSecurityLevel, 'restricted'> {
  return profile === 'privileged' ? 'privileged' : 'baseline';
}
