/**
 * Which pods `tap` captures: the pods of the -n namespaces (or all with -A) that the server's label
 * selector (-l) returns, whose name matches the POD_REGEX (RE2, unanchored, like stern: compiled
 * by src/tap/pod-regex.ts with KFL's RE2 compiler), and that are Running and not being deleted.
 */
import type * as k8s from '@kubernetes/client-node';
import { SharkError } from '../model/errors.ts';

export type NamespaceScope = readonly string[] | 'all';

export interface TargetQuery {
  readonly namespaces: NamespaceScope;
  readonly selector?: string | undefined;
  readonly podRegex?: string | undefined;
}

export interface PodMatcher {
  readonly query: TargetQuery;
  matchesName(name: string): boolean;
  inScope(namespace: string): boolean;
}

/** -n may be repeated and each value may be a comma list; empty parts are ignored, duplicates dropped. */
export function parseNamespaces(values: readonly string[] | string | undefined, fallback: string): string[] {
  const raw = values === undefined ? [] : Array.isArray(values) ? values : [values as string];
  const out: string[] = [];
  for (const value of raw) {
    for (const part of String(value).split(',')) {
      const ns = part.trim();
      if (ns !== '' && !out.includes(ns)) out.push(ns);
    }
  }
  return out.length > 0 ? out : [fallback];
}

/** The compiled POD_REGEX of a query (unanchored). */
export interface NameTest {
  test(name: string): boolean;
}

/** `regex` is query.podRegex compiled (null: any name). */
export function podMatcher(query: TargetQuery, regex: NameTest | null): PodMatcher {
  const namespaces = query.namespaces === 'all' ? null : new Set(query.namespaces);
  return {
    query,
    matchesName: (name) => regex === null || regex.test(name),
    inScope: (ns) => namespaces === null || namespaces.has(ns),
  };
}

export type Candidacy = 'target' | 'not-running' | 'deleting' | 'name' | 'scope';

/** Why a pod is or is not a target (the label selector is applied by the server). */
export function candidacy(pod: k8s.V1Pod, matcher: PodMatcher): Candidacy {
  const ns = pod.metadata?.namespace ?? '';
  if (!matcher.inScope(ns)) return 'scope';
  if (!matcher.matchesName(pod.metadata?.name ?? '')) return 'name';
  if (pod.metadata?.deletionTimestamp) return 'deleting';
  if (pod.status?.phase !== 'Running') return 'not-running';
  return 'target';
}

export function podKey(pod: k8s.V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export function describeQuery(query: TargetQuery): string {
  const parts: string[] = [];
  parts.push(query.podRegex ? `name matching /${query.podRegex}/` : 'any name');
  if (query.selector) parts.push(`labels ${query.selector}`);
  return parts.join(', ');
}

export function describeScope(scope: NamespaceScope): string {
  return scope === 'all' ? 'all namespaces' : `namespace${scope.length > 1 ? 's' : ''} ${scope.join(', ')}`;
}

/** Picks the targets of a listing; with none, the error says what was searched and what was seen. */
export function selectTargets(pods: readonly k8s.V1Pod[], matcher: PodMatcher): k8s.V1Pod[] {
  const targets: k8s.V1Pod[] = [];
  let notRunning = 0;
  let deleting = 0;
  let named = 0;
  for (const pod of pods) {
    const c = candidacy(pod, matcher);
    if (c === 'target') targets.push(pod);
    else if (c === 'not-running') notRunning++;
    else if (c === 'deleting') deleting++;
    if (c !== 'name' && c !== 'scope') named++;
  }
  if (targets.length > 0) return targets.sort((a, b) => podKey(a).localeCompare(podKey(b)));
  const seen =
    pods.length === 0
      ? `no pods${matcher.query.selector ? ` with labels ${matcher.query.selector}` : ''} there`
      : `${pods.length} pod${pods.length === 1 ? '' : 's'} seen, ${named} matching the name` +
        (notRunning > 0 ? `, ${notRunning} of them not Running` : '') +
        (deleting > 0 ? `, ${deleting} of them being deleted` : '');
  throw new SharkError(
    'KUBE_NO_TARGETS',
    `no running pod matches (${describeQuery(matcher.query)}) in ${describeScope(matcher.query.namespaces)} (${seen}); ` +
      'check the pod regex, -n/-A and -l (kubectl get pods shows what there is)',
    { namespaces: matcher.query.namespaces === 'all' ? '*' : matcher.query.namespaces.join(',') },
  );
}
