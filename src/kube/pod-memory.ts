/**
 * The agent's memory for one pod, from the cluster: the pod's limit (its spec), its usage (the
 * metrics API, asked only when there is a limit), and whether a capture container, with its
 * keeper, is still to be added; memory-headroom.ts decides from those.
 */
import type * as k8s from '@kubernetes/client-node';
import type { KubeClient } from './client.ts';
import { chooseReusable, targetContainerOf, type EnsureOptions } from './ephemeral.ts';
import { podMemoryLimit, sizeAgentMemory, type MemoryDecision } from './memory-headroom.ts';

/** How the agent's memory is decided: tap's --max-memory and --force. */
export interface MemoryPolicy {
  readonly explicitBytes?: number | undefined;
  readonly force: boolean;
}

/** The capture container tap wants in the pod: whether one is running already decides the keeper's share. */
export type WantedContainer = Omit<EnsureOptions, 'signal' | 'noReuse' | 'timeoutMs'>;

export async function decidePodMemory(client: KubeClient, pod: k8s.V1Pod, policy: MemoryPolicy, wanted: WantedContainer): Promise<MemoryDecision> {
  const limitBytes = podMemoryLimit(pod);
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const usage = limitBytes === null ? ({ bytes: null, source: 'none', why: 'no limit' } as const) : await client.podMemoryUsage(namespace, name);
  let addsContainer = true;
  try {
    const target = targetContainerOf(pod, wanted.container);
    addsContainer = chooseReusable(pod, { image: wanted.image, target, profile: wanted.profile, podSecurity: wanted.podSecurity ?? null }).reuse === null;
  } catch {
    // A bad -c is reported when the container is added; counting a keeper is the safe side.
  }
  return sizeAgentMemory({ pod: `${namespace}/${name}`, limitBytes, usage, explicitBytes: policy.explicitBytes, addsContainer, force: policy.force });
}
