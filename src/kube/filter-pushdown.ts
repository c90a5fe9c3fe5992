/**
 * Whether a --filter may also run inside the agents (to spare the exec channel). Agents see entries
 * before the CLI names them from the cluster and rewrites their ids, and each agent would count a
 * limit() on its own, so a query touching endpoints, ids or limit() is only run in the CLI. The test
 * is on the query's words: a false "unsafe" only costs bandwidth, never correctness.
 */
const CLUSTER_WORDS = /\b(src|dst|namespaces?|pods?|services?|id|limit|node\w*|local_\w+|remote_\w+|(src|dst)_\w+)\b/;

export function pushdownSafe(query: string): boolean {
  return query.trim() !== '' && !CLUSTER_WORDS.test(query);
}
