/**
 * What a real apiserver checks on `PATCH pods/NAME/ephemeralcontainers`: the strategy's field
 * validation (422, ValidatePodEphemeralContainersUpdate) and then PodSecurity admission (403).
 */
import { fieldErrors, forbidden, invalid, type FieldError, type StatusError } from './errors.ts';
import type { Container, Pod } from './kobj.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Fields an ephemeral container may not set, in the order of the Go struct (validateFieldAllowList). */
const DISALLOWED = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'];

const POINTERS = new Set(['restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle']);

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).every(isZero);
  return false;
}

/** Defaults applied on decode, so stored entries compare equal to what clients send back. */
export function defaultContainer(c: Container): Container {
  const out: Container = { ...c };
  if (typeof out.image === 'string' && out.imagePullPolicy === undefined) {
    const last = out.image.split('/').pop() ?? '';
    const tagged = last.includes(':') && !last.endsWith(':latest');
    out.imagePullPolicy = tagged || out.image.includes('@') ? 'IfNotPresent' : 'Always';
  }
  out.terminationMessagePath ??= '/dev/termination-log';
  out.terminationMessagePolicy ??= 'File';
  return out;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v as Record<string, unknown>).sort()) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined) out[k] = canonical(x);
  }
  return out;
}

function sameContainer(a: Container, b: Container): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Field errors of replacing `old`'s ephemeral containers with `next` (already defaulted). */
export function validateEphemeralUpdate(old: Pod, next: readonly Container[]): FieldError[] {
  const errors: FieldError[] = [];
  const base = 'spec.ephemeralContainers';
  const others = new Set([...old.spec.containers, ...(old.spec.initContainers ?? [])].map((c) => c.name));
  const allNames = new Set(others);
  next.forEach((c, i) => {
    const at = `${base}[${i}]`;
    const name: unknown = c.name;
    if (typeof name !== 'string' || name === '') {
      errors.push(fieldErrors.required(`${at}.name`));
    } else {
      if (name.length > 63) errors.push(fieldErrors.invalid(`${at}.name`, name, 'must be no more than 63 characters'));
      if (!DNS1123_LABEL.test(name)) errors.push(fieldErrors.invalid(`${at}.name`, name, DNS1123_LABEL_MSG));
    }
    if (typeof c.image !== 'string' || c.image === '') errors.push(fieldErrors.required(`${at}.image`));
    if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy)) {
      errors.push(fieldErrors.notSupported(`${at}.imagePullPolicy`, String(c.imagePullPolicy), ['Always', 'IfNotPresent', 'Never']));
    }
    if (c.terminationMessagePolicy !== undefined && !['File', 'FallbackToLogsOnError'].includes(c.terminationMessagePolicy)) {
      errors.push(fieldErrors.notSupported(`${at}.terminationMessagePolicy`, String(c.terminationMessagePolicy), ['File', 'FallbackToLogsOnError']));
    }
    if (typeof name === 'string' && name !== '') {
      if (allNames.has(name)) errors.push(fieldErrors.duplicate(`${at}.name`, name));
      else allNames.add(name);
    }
    if (typeof c.targetContainerName === 'string' && c.targetContainerName !== '' && !others.has(c.targetContainerName)) {
      errors.push(fieldErrors.notFound(`${at}.targetContainerName`, c.targetContainerName));
    }
    for (const field of DISALLOWED) {
      // Pointers in the Go struct (probes, lifecycle, restartPolicy) count when present at all.
      const set = POINTERS.has(field) ? c[field] !== undefined && c[field] !== null : !isZero(c[field]);
      if (set) errors.push(fieldErrors.forbidden(`${at}.${field}`, 'cannot be set for an Ephemeral Container'));
    }
    const mounts = Array.isArray(c['volumeMounts']) ? (c['volumeMounts'] as Record<string, unknown>[]) : [];
    mounts.forEach((m, j) => {
      for (const f of ['subPath', 'subPathExpr']) {
        if (!isZero(m[f])) errors.push(fieldErrors.forbidden(`${at}.volumeMounts[${j}].${f}`, 'cannot be set for an Ephemeral Container'));
      }
    });
  });
  const byName = new Map(next.map((c) => [c.name, c]));
  for (const prev of old.spec.ephemeralContainers ?? []) {
    const now = byName.get(prev.name);
    if (now === undefined) errors.push(fieldErrors.forbidden(base, `existing ephemeral containers ${JSON.stringify(prev.name)} may not be removed`));
    else if (!sameContainer(prev, now)) errors.push(fieldErrors.forbidden(base, `existing ephemeral containers ${JSON.stringify(prev.name)} may not be changed`));
  }
  return errors;
}

export function ephemeralInvalid(pod: Pod, errors: FieldError[]): StatusError {
  return invalid('Pod', pod.metadata.name, errors);
}

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

const BASELINE_CAPS = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

function quoteList(xs: readonly string[]): string {
  return xs.map((x) => JSON.stringify(x)).join(', ');
}

function containersPhrase(names: readonly string[]): string {
  return `${names.length === 1 ? 'container' : 'containers'} ${quoteList(names)}`;
}

interface Violation {
  reason: string;
  detail: string;
}

/**
 * PodSecurity checks (pod-security-admission, policy/check_*.go) with their reasons and details,
 * in the order the admission reports them: the baseline checks by ID, then the restricted ones;
 * restricted replaces the baseline capabilities and seccomp checks with its stricter ones.
 */
export function podSecurityViolations(pod: Pod, level: PodSecurityLevel): Violation[] {
  if (level === 'privileged') return [];
  const restricted = level === 'restricted';
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])];
  const podSc = pod.spec.securityContext ?? {};
  const out: Violation[] = [];

  // capabilities_baseline: only the default capabilities may be added.
  if (!restricted) {
    const bad: string[] = [];
    const caps = new Set<string>();
    for (const c of all) {
      const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPS.has(cap));
      if (extra.length > 0) {
        bad.push(c.name);
        for (const cap of extra) caps.add(cap);
      }
    }
    if (bad.length > 0) {
      out.push({ reason: 'non-default capabilities', detail: `${containersPhrase(bad)} must not include ${quoteList([...caps].sort())} in securityContext.capabilities.add` });
    }
  }

  const hostNs = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => pod.spec[f] === true).map((f) => `${f}=true`);
  if (hostNs.length > 0) out.push({ reason: 'host namespaces', detail: hostNs.join(', ') });

  const privileged = all.filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  if (privileged.length > 0) out.push({ reason: 'privileged', detail: `${containersPhrase(privileged)} must not set securityContext.privileged=true` });

  const seccompOf = (c: Container): string | undefined => c.securityContext?.seccompProfile?.type ?? podSc.seccompProfile?.type;
  if (!restricted) {
    const bad = all.filter((c) => seccompOf(c) === 'Unconfined').map((c) => c.name);
    if (bad.length > 0) out.push({ reason: 'seccompProfile', detail: `${containersPhrase(bad)} must not set securityContext.seccompProfile.type to "Unconfined"` });
    return out;
  }

  // allowPrivilegeEscalation: must be false, explicitly.
  const escalating = all.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  if (escalating.length > 0) out.push({ reason: 'allowPrivilegeEscalation != false', detail: `${containersPhrase(escalating)} must set securityContext.allowPrivilegeEscalation=false` });

  // capabilities_restricted: drop ALL, add at most NET_BIND_SERVICE.
  const missingDrop = all.filter((c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL')).map((c) => c.name);
  const adding: string[] = [];
  const caps = new Set<string>();
  for (const c of all) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (extra.length > 0) {
      adding.push(c.name);
      for (const cap of extra) caps.add(cap);
    }
  }
  const capDetails: string[] = [];
  if (missingDrop.length > 0) capDetails.push(`${containersPhrase(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length > 0) capDetails.push(`${containersPhrase(adding)} must not include ${quoteList([...caps].sort())} in securityContext.capabilities.add`);
  if (capDetails.length > 0) out.push({ reason: 'unrestricted capabilities', detail: capDetails.join('; ') });

  // runAsNonRoot: explicit false anywhere is named first; else every container must be covered by a true.
  const podNonRoot = podSc.runAsNonRoot === true;
  const setters: string[] = podSc.runAsNonRoot === false ? ['pod'] : [];
  const explicitlyBad = all.filter((c) => c.securityContext?.runAsNonRoot === false).map((c) => c.name);
  if (explicitlyBad.length > 0) setters.push(containersPhrase(explicitlyBad));
  const implicitlyBad = all.filter((c) => c.securityContext?.runAsNonRoot === undefined && !podNonRoot).map((c) => c.name);
  if (setters.length > 0) out.push({ reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` });
  else if (implicitlyBad.length > 0) out.push({ reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(implicitlyBad)} must set securityContext.runAsNonRoot=true` });

  // runAsUser: an explicit 0 anywhere.
  const rootSetters: string[] = podSc.runAsUser === 0 ? ['pod'] : [];
  const rootContainers = all.filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
  if (rootContainers.length > 0) rootSetters.push(containersPhrase(rootContainers));
  if (rootSetters.length > 0) out.push({ reason: 'runAsUser=0', detail: `${rootSetters.join(' and ')} must not set runAsUser=0` });

  const badSeccomp = all.filter((c) => !['RuntimeDefault', 'Localhost'].includes(seccompOf(c) ?? '')).map((c) => c.name);
  if (badSeccomp.length > 0) out.push({ reason: 'seccompProfile', detail: `pod or ${containersPhrase(badSeccomp)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` });
  return out;
}

/** The 403 of PodSecurity admission, or undefined when the pod passes. */
export function podSecurityError(pod: Pod, level: PodSecurityLevel): StatusError | undefined {
  const v = podSecurityViolations(pod, level);
  if (v.length === 0) return undefined;
  const text = v.map((x) => `${x.reason} (${x.detail})`).join(', ');
  return forbidden('pods', pod.metadata.name, `violates PodSecurity "${level}:latest": ${text}`);
}
