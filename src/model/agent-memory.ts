/**
 * The capture agent's memory bound (`--max-memory`), shared by the agent (which splits it up, see
 * src/remote-agent/agent/memory-budget.ts) and `tap` (which sizes it from the tapped pod's limit,
 * see src/kube/memory-headroom.ts).
 */
const MiB = 1024 * 1024;

/**
 * Below this the agent runs but sheds entries even when its reader keeps up: idle it is ~62 MiB
 * RSS (Node, the bundle, koffi, the capture ring), and at 500 requests/s it peaks at ~88 MiB. With
 * 80 it dropped half the entries of that load, with 64 four fifths (test/e2e/agent-oom.test.ts and
 * docs/tap.md "Safety: memory and CPU" have the figures).
 */
export const MIN_AGENT_MEMORY_BYTES = 96 * MiB;
/** When nothing says otherwise (a pod without a memory limit, a capture file). */
export const DEFAULT_AGENT_MEMORY_BYTES = 200 * MiB;
