/**
 * Authorization: everyone may do everything except what a deny rule (Faults.deny) forbids, which
 * gives the 403 of the real RBAC authorizer and `allowed: false` in SelfSubjectAccessReviews.
 */
import type { DenyRule, Faults } from './types.ts';

export interface Attributes {
  user: string;
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
}

function ruleMatches(rule: DenyRule, a: Attributes): boolean {
  const [res, subFromResource] = rule.resource.split('/', 2) as [string, string | undefined];
  const sub = rule.subresource ?? subFromResource;
  if (rule.user !== undefined && rule.user !== a.user) return false;
  if (rule.verb !== '*' && rule.verb !== a.verb) return false;
  if (res !== '*' && res !== a.resource) return false;
  if ((sub ?? '') !== (a.subresource ?? '') && sub !== '*') return false;
  if (rule.namespace !== undefined && rule.namespace !== a.namespace) return false;
  return true;
}

export function isDenied(faults: Faults, a: Attributes): boolean {
  return faults.deny.some((rule) => ruleMatches(rule, a));
}
