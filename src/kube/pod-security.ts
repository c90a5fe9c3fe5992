/**
 * The Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards) as they
 * judge one container's securityContext, so pre-flight can tell before patching whether a
 * namespace's PodSecurity admission will take the capture container, and say which rule refuses
 * it. Only the container-level rules are here (the pod-level ones are the app's business: if the
 * pod were non-compliant, it would not be running there).
 */
import type * as k8s from '@kubernetes/client-node';
import type { PodSecurityLevel } from './profile.ts';

/** Capabilities baseline admits in capabilities.add. */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** What the level forbids in this securityContext, one phrase per rule; empty when admitted. */
export function podSecurityProblems(sc: k8s.V1SecurityContext, level: PodSecurityLevel): string[] {
  if (level === 'privileged') return [];
  const problems: string[] = [];
  const add = sc.capabilities?.add ?? [];
  if (sc.privileged === true) problems.push('privileged: true (privileged containers are forbidden)');
  if (level === 'baseline') {
    const extra = add.filter((c) => !BASELINE_CAPABILITIES.has(c));
    if (extra.length > 0) problems.push(`capabilities.add ${extra.join(', ')} (only the runtime's default capabilities may be added)`);
    return problems;
  }
  if (sc.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation unset or true (must be false)');
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push('capabilities.drop without ALL (must drop ALL)');
  const extra = add.filter((c) => c !== 'NET_BIND_SERVICE');
  if (extra.length > 0) problems.push(`capabilities.add ${extra.join(', ')} (only NET_BIND_SERVICE may be added)`);
  if (sc.runAsNonRoot !== true) problems.push(`runAsNonRoot ${sc.runAsNonRoot === false ? 'false' : 'unset'} (must be true)`);
  if (sc.runAsUser === 0) problems.push('runAsUser 0 (root is forbidden)');
  return problems;
}
