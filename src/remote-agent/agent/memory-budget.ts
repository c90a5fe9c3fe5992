/**
 * Splits the agent's `--max-memory` among the things that grow with traffic, so the process stays
 * under it: the kernel ring (its pages count in RSS), the output queue, TCP reassembly buffers.
 * What is left covers Node itself (~45 MB), dissector state and garbage awaiting collection; when
 * RSS still climbs, the agent first sheds entries, then throws reassembly state away.
 */
const MiB = 1024 * 1024;

export const MIN_MAX_MEMORY_BYTES = 64 * MiB;
export const DEFAULT_MAX_MEMORY_BYTES = 200 * MiB;

export interface MemoryBudget {
  readonly maxMemoryBytes: number;
  readonly ringBytes: number;
  readonly outputQueueBytes: number;
  readonly tcpTotalBytes: number;
  readonly tcpPerConnectionBytes: number;
  /** RSS above which new entries are dropped (counted) instead of queued. */
  readonly shedAboveRss: number;
  /** RSS above which reassembly and dissector state is discarded (counted, warned). */
  readonly resetAboveRss: number;
}

export function memoryBudget(maxMemoryBytes: number): MemoryBudget {
  const max = Math.max(MIN_MAX_MEMORY_BYTES, maxMemoryBytes);
  // The ring is whole 1 MiB blocks (one block must hold a 64 KiB GSO frame).
  const ringBytes = clamp(Math.floor(max / 8 / MiB), 4, 32) * MiB;
  const outputQueueBytes = clamp(Math.floor(max / 8), MiB, 32 * MiB);
  const tcpTotalBytes = Math.floor(max / 8);
  return {
    maxMemoryBytes: max,
    ringBytes,
    outputQueueBytes,
    tcpTotalBytes,
    tcpPerConnectionBytes: Math.min(4 * MiB, Math.floor(tcpTotalBytes / 4)),
    shedAboveRss: Math.floor(max * 0.85),
    resetAboveRss: Math.floor(max * 0.95),
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
