/**
 * What the kubelet and the container runtime make of a container's securityContext: the kubelet's
 * runAsNonRoot check against the image's USER (kuberuntime verifyRunAsNonRoot, which leaves the
 * container waiting in CreateContainerConfigError), and the identity, capabilities and
 * no_new_privs containerd gives the process (runc applies them: see container-config.ts).
 */
import { allCapabilities } from './oci/capabilities.ts';
import type { Container, Pod, SecurityContext } from './kobj.ts';

/** containerd's (and Docker's) default capability set for a container that asks for nothing else. */
export const RUNTIME_DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP',
  'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

/** The image's USER (images/types.ts ImageConfig.user). */
export interface ImageUser {
  readonly uid: number;
  readonly gid: number;
}

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
export function runAsNonRootViolation(pod: Pod, c: Container, image: ImageUser): string | undefined {
  const sc = effective(pod, c);
  if (sc.runAsNonRoot !== true) return undefined;
  const where = `(pod: ${JSON.stringify(`${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`)}, container: ${c.name})`;
  if (sc.runAsUser !== undefined) return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  return image.uid === 0 ? `container has runAsNonRoot and image will run as root ${where}` : undefined;
}

/**
 * containerd's capability arithmetic (WithCapabilities): start from the defaults, "ALL" in add then
 * in drop first, then the named adds, then the named drops.
 */
export function capabilitiesOf(sc: SecurityContext | undefined): string[] {
  const add = (sc?.capabilities?.add ?? []).map((c) => c.toUpperCase());
  const drop = (sc?.capabilities?.drop ?? []).map((c) => c.toUpperCase());
  let caps = new Set(RUNTIME_DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) caps = new Set(allCapabilities());
  if (drop.includes('ALL')) caps = new Set();
  for (const c of add) if (c !== 'ALL') caps.add(c);
  for (const c of drop) if (c !== 'ALL') caps.delete(c);
  return [...caps].sort();
}

export function processSecurity(pod: Pod, c: Container, image: ImageUser): ProcessSecurity {
  const sc = effective(pod, c);
  const podSc = pod.spec.securityContext ?? {};
  const groups = [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  const privileged = c.securityContext?.privileged === true;
  return {
    uid: sc.runAsUser ?? image.uid,
    // The image's group goes with the image's user only (a runAsUser without runAsGroup gets gid 0).
    gid: sc.runAsGroup ?? (sc.runAsUser === undefined ? image.gid : 0),
    groups: [...new Set(groups)].sort((a, b) => a - b),
    capabilities: privileged ? null : capabilitiesOf(c.securityContext),
    // The kubelet sets no_new_privs only when asked (AddNoNewPrivileges), never for privileged containers.
    noNewPrivs: !privileged && c.securityContext?.allowPrivilegeEscalation === false,
  };
}
