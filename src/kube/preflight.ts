/**
 * Before changing anything in the cluster: may we do what tap does (SelfSubjectAccessReview per
 * permission and namespace), and will PodSecurity admission accept the capture container (the
 * namespace's enforce label against the securityContext the profile gives it)? Decisions are pure
 * functions of the answers, so they are tested without a cluster.
 */
import type { SharkError } from '../model/errors.ts';
import { forbiddenError, permissionText, podSecurityError, type Permission } from './api-errors.ts';
import type { AccessAnswer, AccessQuestion } from './client.ts';
import { podSecurityProblems } from './pod-security.ts';
import { captureSecurityContext, type PodSecurityLevel, type Profile } from './profile.ts';
import type { NamespaceScope } from './targets.ts';

export interface PreflightApi {
  accessReview(q: AccessQuestion): Promise<AccessAnswer>;
  namespaceLabels(namespace: string): Promise<Record<string, string> | null>;
}

export interface AccessFinding extends Permission {
  /** null: the review itself failed (not served, or we may not ask). */
  readonly allowed: boolean | null;
  /** Without a required permission tap cannot work there; without an optional one it loses a feature. */
  readonly required: boolean;
  /** What is lost without an optional permission. */
  readonly purpose: string;
}

export interface PodSecurityFinding {
  readonly namespace: string;
  /** The enforce label ("" when unset: the cluster default applies, privileged unless configured); null when unreadable. */
  readonly enforce: string | null;
  /** null: unknown (the namespace could not be read). */
  readonly allowed: boolean | null;
  readonly detail: string;
}

export interface PreflightReport {
  /** The profile the PodSecurity findings were judged for. */
  readonly profile: Profile;
  /** The profile is privileged because --tls needs it (refusals say so). */
  readonly tls: boolean;
  readonly access: readonly AccessFinding[];
  readonly podSecurity: readonly PodSecurityFinding[];
}

export const POD_SECURITY_ENFORCE = 'pod-security.kubernetes.io/enforce';

/** The capture container in a few words, as a level would see it. */
function describeContainer(profile: Profile, level: PodSecurityLevel): string {
  if (profile === 'privileged') return 'privileged: true, as root';
  return level === 'baseline'
    ? "root, nothing added, every default capability but NET_RAW dropped (capture relies on the runtime's default NET_RAW)"
    : 'root, capabilities: drop ALL, add NET_RAW; no privilege escalation';
}

/** Would PodSecurity at this level admit the capture container of this profile? */
export function podSecurityVerdict(enforce: string, profile: Profile): { allowed: boolean; detail: string } {
  const level = enforce === '' ? 'privileged' : enforce;
  if (level !== 'privileged' && level !== 'baseline' && level !== 'restricted') return { allowed: true, detail: `unknown level "${enforce}": admission decides` };
  const what = describeContainer(profile, level);
  const problems = podSecurityProblems(captureSecurityContext(profile, level), level);
  if (problems.length === 0) {
    return { allowed: true, detail: enforce === '' ? `no enforce label (cluster default, privileged unless configured otherwise): ${what} allowed` : `${level}: ${what} allowed` };
  }
  return { allowed: false, detail: `${level} forbids ${problems.join(', ')}; capture runs as root with CAP_NET_RAW (profile ${profile})` };
}

interface Check {
  readonly q: AccessQuestion;
  readonly required: boolean;
  readonly purpose: string;
}

/** The questions to ask: list/watch where we look for pods, the rest where targets live. */
export function accessChecks(scope: NamespaceScope, targetNamespaces: readonly string[]): Check[] {
  const watchNamespaces = scope === 'all' ? [''] : [...scope];
  const checks: Check[] = [];
  for (const namespace of watchNamespaces) {
    checks.push({ q: { verb: 'list', resource: 'pods', namespace }, required: true, purpose: 'find target pods' });
    checks.push({ q: { verb: 'watch', resource: 'pods', namespace }, required: true, purpose: 'follow pods (new targets, deletions, container start)' });
    checks.push({ q: { verb: 'list', resource: 'services', namespace }, required: false, purpose: 'name service addresses' });
    checks.push({ q: { verb: 'watch', resource: 'services', namespace }, required: false, purpose: 'name service addresses' });
  }
  for (const namespace of targetNamespaces) {
    checks.push({ q: { verb: 'patch', resource: 'pods', subresource: 'ephemeralcontainers', namespace }, required: true, purpose: 'add the capture container' });
    checks.push({ q: { verb: 'create', resource: 'pods', subresource: 'exec', namespace }, required: true, purpose: 'run the agent' });
    checks.push({ q: { verb: 'get', resource: 'pods', subresource: 'exec', namespace }, required: true, purpose: 'run the agent (WebSocket exec)' });
  }
  if (scope !== 'all') {
    // Pods and services of other namespaces name the far ends of calls; without this only the
    // watched namespaces get names.
    checks.push({ q: { verb: 'list', resource: 'pods', namespace: '' }, required: false, purpose: 'name pods of other namespaces' });
    checks.push({ q: { verb: 'watch', resource: 'pods', namespace: '' }, required: false, purpose: 'name pods of other namespaces' });
  }
  return checks;
}

export async function runPreflight(
  api: PreflightApi,
  scope: NamespaceScope,
  targetNamespaces: readonly string[],
  profile: Profile,
  options: { readonly tls?: boolean } = {},
): Promise<PreflightReport> {
  const checks = accessChecks(scope, targetNamespaces);
  const access = await Promise.all(
    checks.map(async (c): Promise<AccessFinding> => {
      let allowed: boolean | null;
      try {
        allowed = (await api.accessReview(c.q)).allowed;
      } catch (err) {
        // Unreachable or unauthorised is fatal for everything else too: say it now.
        const code = (err as SharkError).code;
        if (code === 'KUBE_UNREACHABLE' || code === 'KUBE_UNAUTHORIZED') throw err;
        allowed = null;
      }
      return { ...c.q, allowed, required: c.required, purpose: c.purpose };
    }),
  );
  const podSecurity = await Promise.all(
    targetNamespaces.map(async (namespace): Promise<PodSecurityFinding> => {
      const labels = await api.namespaceLabels(namespace);
      if (labels === null) return { namespace, enforce: null, allowed: null, detail: 'namespace labels unreadable: admission decides' };
      const enforce = labels[POD_SECURITY_ENFORCE] ?? '';
      return { namespace, enforce, ...podSecurityVerdict(enforce, profile) };
    }),
  );
  return { profile, tls: options.tls === true, access, podSecurity };
}

/** May names cover the whole cluster (pods listable and watchable in all namespaces)? */
export function clusterWideNames(report: PreflightReport): boolean {
  const clusterPods = report.access.filter((a) => a.namespace === '' && a.resource === 'pods' && !a.subresource);
  return clusterPods.length === 2 && clusterPods.every((a) => a.allowed === true);
}

export interface PreflightDecision {
  /** Namespaces whose pods can be tapped. */
  readonly usable: ReadonlySet<string>;
  /** Why each other namespace cannot (the first blocking problem). */
  readonly blocked: ReadonlyMap<string, SharkError>;
  /** A problem that blocks every namespace (list/watch missing where we look). */
  readonly fatal: SharkError | null;
  /** Optional permissions missing: what is lost. */
  readonly warnings: readonly string[];
}

export function decide(report: PreflightReport, targetNamespaces: readonly string[], who: { context: string; user?: string }): PreflightDecision {
  const denied = (a: AccessFinding): boolean => a.allowed === false;
  // The required checks without a subresource are list/watch pods where targets are looked for.
  const scopeMissing = report.access.filter((a) => a.required && denied(a) && !a.subresource);
  const fatal = scopeMissing.length > 0 ? forbiddenError(scopeMissing, undefined, who) : null;
  const blocked = new Map<string, SharkError>();
  for (const namespace of targetNamespaces) {
    const missing = report.access.filter((a) => a.required && denied(a) && a.namespace === namespace && a.subresource);
    if (missing.length > 0) {
      blocked.set(namespace, forbiddenError(missing, undefined, who));
      continue;
    }
    const ps = report.podSecurity.find((p) => p.namespace === namespace);
    if (ps && ps.allowed === false) blocked.set(namespace, podSecurityError(namespace, ps.enforce ?? '?', ps.detail, report.profile, report.tls));
  }
  const usable = new Set(targetNamespaces.filter((n) => !blocked.has(n)));
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const a of report.access) {
    // One warning per lost feature (list and watch missing together say the same thing).
    if (a.required || !denied(a) || seen.has(a.purpose)) continue;
    seen.add(a.purpose);
    warnings.push(`may not ${permissionText(a)}: cannot ${a.purpose}`);
  }
  return { usable, blocked, fatal, warnings };
}

/** The --dry-run report: one line per finding. */
export function formatPreflight(report: PreflightReport): string {
  const lines: string[] = [];
  for (const a of report.access) {
    const mark = a.allowed === true ? 'ok     ' : a.allowed === null ? 'unknown' : a.required ? 'MISSING' : 'missing';
    lines.push(`  ${mark}  ${permissionText(a)}${a.allowed === true ? '' : ` (needed to ${a.purpose}${a.required ? '' : '; optional'})`}`);
  }
  for (const p of report.podSecurity) {
    const mark = p.allowed === true ? 'ok     ' : p.allowed === null ? 'unknown' : 'BLOCKED';
    lines.push(`  ${mark}  PodSecurity in namespace ${p.namespace}: ${p.detail}`);
  }
  return lines.join('\n');
}
