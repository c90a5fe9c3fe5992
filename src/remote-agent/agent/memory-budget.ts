/**
 * Splits the agent's `--max-memory` among the things that grow with traffic, so the process stays
 * under it: the kernel ring (its pages count in RSS), the output queue (strings on the JS heap),
 * TCP reassembly buffers (outside the heap), and the JS heap itself, whose limits are V8 flags
 * (see heap-flags.ts: the agent re-executes itself with them). What is left covers Node's own
 * baseline (~56 MB with the bundle and koffi loaded, before the ring).
 *
 * The ring and the young generation are resident from the start or soon after (the kernel maps
 * every ring page at mmap; V8 grows the semi-spaces under load and keeps them), so both are a
 * small share of the bound: they are what the agent costs the pod when it idles. The capture even
 * starts on a smaller ring and moves to this one only when it falls behind (live-capture.ts). The old
 * generation is a limit, not a reservation: it only grows with live state.
 */
import { MIN_AGENT_MEMORY_BYTES } from '../../model/agent-memory.ts';
import { RING_BLOCK_SIZE } from '../live/live-capture.ts';

const MiB = 1024 * 1024;

/** RSS of the agent before any traffic: Node, the bundle, koffi. */
export const BASELINE_RSS_BYTES = 56 * MiB;

export interface MemoryBudget {
  readonly maxMemoryBytes: number;
  /** The packet ring the capture may grow to under load (live-capture.ts). */
  readonly ringBytes: number;
  /** The packet ring it starts with: what an idle agent holds. */
  readonly initialRingBytes: number;
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
  // Whole blocks: 1/8 of the bound, 2 to 32 MiB (25 MiB at the default 200 MB). A 4 MiB ring (1/48)
  // idled 21 MB lower, but at the soak's 8k requests/s (test/bench/soak.ts, 4 agents at nice 19)
  // the kernel dropped 2,232 frames in 2.6 minutes; with 25 MiB, none (959,930 requests, each once).
  const ringBytes = Math.floor(clamp(Math.floor(max / 8), RING_MIN_BYTES, RING_MAX_BYTES) / RING_BLOCK_SIZE) * RING_BLOCK_SIZE;
  // The ring is resident from the mmap, so the capture starts small and moves to the full ring the
  // first time it falls a quarter of a ring behind (its 16 blocks retired every 63 ms hold as long a
  // trickle as the full ring's 100 of 10 ms: smallRingBlockTimeoutMs).
  const initialRingBytes = Math.min(ringBytes, INITIAL_RING_BYTES);
  const outputQueueBytes = clamp(Math.floor(max / 10), MiB, 32 * MiB);
  const tcpTotalBytes = Math.floor(max / 10);
  // 1/64 of the bound, 1 to 8 MiB (3 at the default): the young generation (~3 semi-spaces) stays
  // ~5% of the bound, yet large enough that an entry in flight dies young.
  const semiSpaceMb = clamp(Math.floor(max / 64 / MiB), 1, 8);
  const heapRoom = max - BASELINE_RSS_BYTES - ringBytes - tcpTotalBytes - 3 * semiSpaceMb * MiB;
  const oldSpaceMb = Math.max(32, Math.floor(heapRoom / MiB));
  return {
    maxMemoryBytes: max,
    ringBytes,
    initialRingBytes,
    outputQueueBytes,
    tcpTotalBytes,
    tcpPerConnectionBytes: Math.min(4 * MiB, Math.floor(tcpTotalBytes / 4)),
    oldSpaceMb,
    semiSpaceMb,
    // Well below the old-space limit: V8 aborts the process when it is reached.
    resetAboveHeapBytes: Math.floor(oldSpaceMb * MiB * 0.75),
  };
}

const RING_MIN_BYTES = 2 * MiB;
const RING_MAX_BYTES = 32 * MiB;
const INITIAL_RING_BYTES = 4 * MiB;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
