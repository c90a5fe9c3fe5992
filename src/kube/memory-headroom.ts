/**
 * How much memory the capture agent may take in a pod. An ephemeral container cannot have resource
 * limits, and whatever it uses counts against the pod's own limit: an agent that pushes the pod over
 * it gets somebody OOM-killed. So tap sizes the agent's `--max-memory` from what the pod has left
 * (its limit minus its current usage from the metrics API), and refuses a pod where that is below
 * what the agent needs to run at all, unless `--force`. The agent also raises its OOM score to the
 * highest (src/remote-agent/agent/yield-to-app.ts), but the kernel ranks by size as well as score,
 * so where the pod has no room a Burstable app larger than the agent can still be the one killed
 * (tap then stops that pod's capture: src/tap/app-container-ends.ts). Sizing is what keeps the pod
 * from getting there. Pure: the pod, its usage and the flags in, a decision out.
 */
import type * as k8s from '@kubernetes/client-node';
import { DEFAULT_AGENT_MEMORY_BYTES, MIN_AGENT_MEMORY_BYTES } from '../model/agent-memory.ts';
import { formatMemory, parseMemoryQuantity } from './quantity.ts';

const MiB = 1024 * 1024;

/**
 * What the capture container costs besides the agent: its keeper (a shell that waits for the agent,
 * keeper.ts: ~2 MiB RSS; it was a `node -e` of ~43 MiB, ~8 MiB its own), with the room it kept.
 */
export const KEEPER_RESERVE_BYTES = 16 * MiB;
/**
 * Without a measured usage, tap assumes the app may use this share of its limit. A limit is
 * usually set some way above what the app needs (a quarter to a half above it is common advice),
 * so an app at three quarters of its limit is a healthy one; what is left is the agent's.
 */
export const ASSUMED_USAGE_SHARE = 0.75;
/** With a measured usage, this share of the limit stays free for the app's own ups and downs. */
export const APP_MARGIN_SHARE = 0.1;

/**
 * The pod's memory limit as the kubelet sets it on the pod's cgroup: the pod-level limit when the
 * spec has one; else the sum of its containers' and sidecars' limits, at least the largest
 * init container's, plus the RuntimeClass overhead. null (no limit) when any container has none.
 */
export function podMemoryLimit(pod: k8s.V1Pod): number | null {
  const spec = pod.spec;
  if (spec === undefined) return null;
  const overhead = parseMemoryQuantity(spec.overhead?.['memory']) ?? 0;
  const podLevel = parseMemoryQuantity(spec.resources?.limits?.['memory']);
  if (podLevel !== null) return podLevel + overhead;
  const limitOf = (c: k8s.V1Container): number | null => parseMemoryQuantity(c.resources?.limits?.['memory']);
  const inits = spec.initContainers ?? [];
  const sidecars = inits.filter((c) => c.restartPolicy === 'Always');
  const runOnce = inits.filter((c) => c.restartPolicy !== 'Always');
  let sum = 0;
  for (const c of [...spec.containers, ...sidecars]) {
    const limit = limitOf(c);
    if (limit === null) return null;
    sum += limit;
  }
  let largestInit = 0;
  for (const c of runOnce) {
    const limit = limitOf(c);
    if (limit === null) return null;
    largestInit = Math.max(largestInit, limit);
  }
  return Math.max(sum, largestInit) + overhead;
}

/** The pod's memory in use, as `kubectl top pod` shows it (the metrics API's working set), or why it is unknown. */
export type PodMemoryUsage = { readonly bytes: number; readonly source: 'metrics' } | { readonly bytes: null; readonly source: 'none'; readonly why: string };

export interface SizingInput {
  /** "namespace/name", for messages. */
  readonly pod?: string;
  /** podMemoryLimit(): null when the pod has no limit. */
  readonly limitBytes: number | null;
  readonly usage: PodMemoryUsage;
  /** tap --max-memory. */
  readonly explicitBytes?: number | undefined;
  /** True when a new capture container (and its keeper) is to be added; false when one is reused. */
  readonly addsContainer: boolean;
  readonly force: boolean;
}

export interface MemoryDecision {
  /** ok: fits. forced: does not fit, tapped anyway (--force). refused: does not fit. */
  readonly verdict: 'ok' | 'forced' | 'refused';
  /** The agent's --max-memory (for refused: what --force would use). */
  readonly maxMemoryBytes: number;
  /** What the pod can give the agent; null when the pod has no limit. */
  readonly budgetBytes: number | null;
  /** One line: limit, usage, what the agent gets (for --dry-run and notices). */
  readonly summary: string;
  /** refused and forced: what is wrong and what to do. */
  readonly problem?: string;
}

/**
 * The agent's --max-memory for one pod:
 * - no limit: --max-memory, else the agent's default;
 * - a limit: budget = limit - usage - a tenth of the limit (or, without metrics, a quarter of the
 *   limit), less the keeper when a container is added; the agent gets --max-memory or
 *   min(default, budget), refused when that does not fit the budget or the budget is below what
 *   the agent needs (MIN_AGENT_MEMORY_BYTES); with --force it runs anyway with --max-memory or that
 *   minimum.
 */
export function sizeAgentMemory(input: SizingInput): MemoryDecision {
  const explicit = input.explicitBytes;
  if (input.limitBytes === null) {
    const max = explicit ?? DEFAULT_AGENT_MEMORY_BYTES;
    return { verdict: 'ok', maxMemoryBytes: max, budgetBytes: null, summary: `no memory limit: agent --max-memory ${formatMemory(max)}${explicit === undefined ? ' (default)' : ''}` };
  }
  const limit = input.limitBytes;
  const { usage } = input;
  const free = usage.bytes === null ? limit * (1 - ASSUMED_USAGE_SHARE) : limit - usage.bytes - limit * APP_MARGIN_SHARE;
  // Whole MiB, rounded down: the agent takes its --max-memory in MiB, and a suggested value must fit.
  const budget = Math.max(0, Math.floor((free - (input.addsContainer ? KEEPER_RESERVE_BYTES : 0)) / MiB) * MiB);
  const usageText =
    usage.bytes === null
      ? `usage unknown (${usage.why}; assuming ${Math.round(ASSUMED_USAGE_SHARE * 100)}% of the limit)`
      : `usage ${formatMemory(usage.bytes)} (metrics API)`;
  const facts = `limit ${formatMemory(limit)}, ${usageText}, room for the agent ${formatMemory(budget)}`;
  const wanted = explicit ?? Math.min(DEFAULT_AGENT_MEMORY_BYTES, budget);
  if (budget >= MIN_AGENT_MEMORY_BYTES && wanted <= budget) {
    return { verdict: 'ok', maxMemoryBytes: wanted, budgetBytes: budget, summary: `memory ${facts}: agent --max-memory ${formatMemory(wanted)}` };
  }
  const forcedMax = explicit ?? MIN_AGENT_MEMORY_BYTES;
  const who = input.pod === undefined ? 'the pod' : `pod ${input.pod}`;
  const why =
    explicit !== undefined && budget >= MIN_AGENT_MEMORY_BYTES
      ? `--max-memory ${formatMemory(explicit)} is more than the ${formatMemory(budget)} it has room for`
      : `the capture agent needs at least ${formatMemory(MIN_AGENT_MEMORY_BYTES)}`;
  const problem =
    `${who} has too little free memory for the capture agent (${facts}): ${why}, and its memory counts against the pod's limit. ` +
    (usage.bytes === null ? 'Install metrics-server so tap can measure the usage, or ' : '') +
    `tap a replica with more room, raise the pod's memory limit` +
    (explicit !== undefined && budget >= MIN_AGENT_MEMORY_BYTES ? `, lower --max-memory to ${formatMemory(budget)}` : '') +
    `, or pass --force (the agent then runs with --max-memory ${formatMemory(forcedMax)}; if the pod runs out of memory, the kernel may kill the app rather than the agent, and tap then stops that pod's capture)`;
  if (input.force) {
    return { verdict: 'forced', maxMemoryBytes: forcedMax, budgetBytes: budget, summary: `memory ${facts}: too little, forced: agent --max-memory ${formatMemory(forcedMax)}`, problem };
  }
  return { verdict: 'refused', maxMemoryBytes: forcedMax, budgetBytes: budget, summary: `memory ${facts}: too little for the agent (needs ${formatMemory(Math.max(MIN_AGENT_MEMORY_BYTES, explicit ?? 0))}): refused without --force`, problem };
}
