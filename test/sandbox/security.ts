/**
 * What the kubelet and the container runtime make of a container's securityContext, played for
 * real: the kubelet's runAsNonRoot check (kuberuntime verifyRunAsNonRoot, which leaves the
 * container waiting in CreateContainerConfigError), and the identity, capabilities and
 * no_new_privs containerd gives the process, applied with util-linux `setpriv` to the container's
 * main process and to every process exec'd into it.
 */
import { spawnSync } from 'node:child_process';
import type { Container, Pod, SecurityContext } from './kobj.ts';

/** containerd's (and Docker's) default capability set for a container that asks for nothing else. */
export const RUNTIME_DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP',
  'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** Every image the sandbox knows runs as root (uid 0, gid 0), as the official node, busybox and nginx images do. */
export const IMAGE_UID = 0;
const IMAGE_GID = 0;

export interface ProcessSecurity {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (the pod's supplementalGroups and fsGroup). */
  readonly groups: readonly number[];
  /** Upper-case names without CAP_; null for a privileged container (every capability). */
  readonly capabilities: readonly string[] | null;
  readonly noNewPrivs: boolean;
}

/** The pod's securityContext overlaid by the container's (securitycontext.DetermineEffectiveSecurityContext). */
function effective(pod: Pod, c: Container): SecurityContext {
  const podSc = pod.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  return {
    runAsUser: sc.runAsUser ?? podSc.runAsUser,
    runAsGroup: sc.runAsGroup ?? podSc.runAsGroup,
    runAsNonRoot: sc.runAsNonRoot ?? podSc.runAsNonRoot,
  };
}

/** The kubelet's refusal to start a container whose runAsNonRoot it cannot honour (its message), or undefined. */
export function runAsNonRootViolation(pod: Pod, c: Container): string | undefined {
  const sc = effective(pod, c);
  if (sc.runAsNonRoot !== true) return undefined;
  const where = `(pod: ${JSON.stringify(`${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`)}, container: ${c.name})`;
  if (sc.runAsUser !== undefined) return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  return IMAGE_UID === 0 ? `container has runAsNonRoot and image will run as root ${where}` : undefined;
}

/**
 * containerd's capability arithmetic (WithCapabilities): start from the defaults, "ALL" in add then
 * in drop first, then the named adds, then the named drops.
 */
export function capabilitiesOf(sc: SecurityContext | undefined): string[] {
  const add = (sc?.capabilities?.add ?? []).map((c) => c.toUpperCase());
  const drop = (sc?.capabilities?.drop ?? []).map((c) => c.toUpperCase());
  let caps = new Set(RUNTIME_DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) caps = new Set(knownCapabilities());
  if (drop.includes('ALL')) caps = new Set();
  for (const c of add) if (c !== 'ALL') caps.add(c);
  for (const c of drop) if (c !== 'ALL') caps.delete(c);
  return [...caps].sort();
}

export function processSecurity(pod: Pod, c: Container): ProcessSecurity {
  const sc = effective(pod, c);
  const podSc = pod.spec.securityContext ?? {};
  const groups = [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  const privileged = c.securityContext?.privileged === true;
  return {
    uid: sc.runAsUser ?? IMAGE_UID,
    gid: sc.runAsGroup ?? IMAGE_GID,
    groups: [...new Set(groups)].sort((a, b) => a - b),
    capabilities: privileged ? null : capabilitiesOf(c.securityContext),
    // The kubelet sets no_new_privs only when asked (AddNoNewPrivileges), never for privileged containers.
    noNewPrivs: !privileged && c.securityContext?.allowPrivilegeEscalation === false,
  };
}

let capList: readonly string[] | undefined;
let setprivPath: string | undefined;

/** The capabilities this kernel and setpriv know (upper case). */
function knownCapabilities(): readonly string[] {
  capList ??= spawnSync(setpriv(), ['--list-caps'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.trim().toUpperCase())
    .filter(Boolean);
  return capList;
}

function setpriv(): string {
  if (setprivPath === undefined) {
    const r = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
    setprivPath = r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : '/usr/bin/setpriv';
  }
  return setprivPath;
}

/** null when setpriv is there, else why the sandbox cannot run. */
export function requireSetpriv(): string | null {
  return spawnSync(setpriv(), ['--version'], { stdio: 'ignore' }).status === 0 ? null : '`setpriv` (util-linux) is not installed (the sandbox applies securityContexts with it)';
}

/**
 * The argv prefix that gives a process this identity and these capabilities (empty when nothing
 * changes: a privileged root container). Root keeps exactly its bounding set across exec; another
 * uid loses every capability, as it does in a container without ambient capabilities.
 */
export function setprivPrefix(sec: ProcessSecurity): string[] {
  const args: string[] = [];
  if (sec.uid !== 0 || sec.gid !== 0 || sec.groups.length > 0) {
    args.push(`--reuid=${sec.uid}`, `--regid=${sec.gid}`, sec.groups.length > 0 ? `--groups=${sec.groups.join(',')}` : '--clear-groups');
  }
  if (sec.capabilities !== null) {
    const known = new Set(knownCapabilities());
    // Unknown names are ignored, as runc ignores capabilities the kernel does not have.
    const keep = sec.capabilities.filter((c) => known.has(c)).map((c) => `,+${c.toLowerCase()}`);
    args.push('--inh-caps=-all', `--bounding-set=-all${keep.join('')}`);
  }
  if (sec.noNewPrivs) args.push('--no-new-privs');
  return args.length === 0 ? [] : [setpriv(), ...args, '--'];
}
