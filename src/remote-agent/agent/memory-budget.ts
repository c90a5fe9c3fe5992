/**
 * Splits the agent's `--max-memory` among the things that grow with traffic, so the process stays
 * under it: the kernel ring (its pages count in RSS), the output queue (strings on the JS heap),
 * TCP reassembly buffers (outside the heap), and the JS heap itself, whose limits are V8 flags
 * (see heap-flags.ts: the agent re-executes itself with them). What is left covers Node's own
 * baseline (~55 MB with koffi loaded).
 */
import { MIN_AGENT_MEMORY_BYTES } from '../../model/agent-memory.ts';

const MiB = 1024 * 1024;

/** RSS of the agent before any traffic: Node, the bundle, koffi. */
export const BASELINE_RSS_BYTES = 56 * MiB;

export interface MemoryBudget {
  readonly maxMemoryBytes: number;
  readonly ringBytes: number;
  readonly outputQueueBytes: number;
  readonly tcpTotalBytes: number;
  readonly tcpPerConnectionBytes: number;
  /** V8 old generation limit (--max-old-space-size), MiB. */
  readonly oldSpaceMb: number;
  /** V8 semi-space limit (--max-semi-space-size), MiB; the young generation is about three of them. */
  readonly semiSpaceMb: number;
  /** Live heap above which reassembly and dissector state is discarded (counted, warned). */
  readonly resetAboveHeapBytes: number;
}

export function memoryBudget(maxMemoryBytes: number): MemoryBudget {
  const max = Math.max(MIN_AGENT_MEMORY_BYTES, maxMemoryBytes);
  // The ring is whole 1 MiB blocks (one block must hold a 64 KiB GSO frame).
  const ringBytes = clamp(Math.floor(max / 8 / MiB), 4, 32) * MiB;
  const outputQueueBytes = clamp(Math.floor(max / 10), MiB, 32 * MiB);
  const tcpTotalBytes = Math.floor(max / 10);
  const semiSpaceMb = max >= 160 * MiB ? 8 : 4;
  const heapRoom = max - BASELINE_RSS_BYTES - ringBytes - tcpTotalBytes - 3 * semiSpaceMb * MiB;
  const oldSpaceMb = Math.max(32, Math.floor(heapRoom / MiB));
  return {
    maxMemoryBytes: max,
    ringBytes,
    outputQueueBytes,
    tcpTotalBytes,
    tcpPerConnectionBytes: Math.min(4 * MiB, Math.floor(tcpTotalBytes / 4)),
    oldSpaceMb,
    semiSpaceMb,
    // Well below the old-space limit: V8 aborts the process when it is reached.
    resetAboveHeapBytes: Math.floor(oldSpaceMb * MiB * 0.75),
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
