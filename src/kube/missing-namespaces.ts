/**
 * When a tap finds no pod, a namespace given with -n that does not exist is the likelier reason
 * than the regex or the labels (`-n prod` for `production`): ask the API server about each searched
 * namespace that listed no pod, and say so. Only a 404 is an answer: a 403 (many users may list
 * pods but not get namespaces) or any other failure leaves the original message as it was, so tap
 * never claims a namespace is missing when it could not tell.
 */
import { SharkError } from '../model/errors.ts';
import type * as k8s from '@kubernetes/client-node';
import type { NamespaceScope } from './targets.ts';

export interface NamespaceLookup {
  /** true/false when the server said; null when it would not or could not. */
  namespaceExists(name: string): Promise<boolean | null>;
  readonly config: { readonly context: string };
}

/** `err` with the missing namespaces named, or `err` itself when none is known to be missing. */
export async function explainMissingNamespaces(client: NamespaceLookup, scope: NamespaceScope, pods: readonly k8s.V1Pod[], err: unknown): Promise<unknown> {
  if (scope === 'all' || !(err instanceof SharkError) || err.code !== 'KUBE_NO_TARGETS') return err;
  const withPods = new Set(pods.map((p) => p.metadata?.namespace));
  const empty = scope.filter((ns) => !withPods.has(ns));
  const answers = await Promise.all(empty.map(async (ns) => ((await client.namespaceExists(ns)) === false ? ns : null)));
  const missing = answers.filter((ns): ns is string => ns !== null);
  if (missing.length === 0) return err;
  const names = missing.map((ns) => JSON.stringify(ns)).join(', ');
  const verb = missing.length === 1 ? `namespace ${names} does not exist` : `namespaces ${names} do not exist`;
  const where = `in context "${client.config.context}" (kubectl get namespaces lists them)`;
  const message = missing.length === scope.length ? `${verb} ${where}` : `${err.message}; ${verb} ${where}`;
  return new SharkError('KUBE_NO_TARGETS', message, err.context, err);
}
