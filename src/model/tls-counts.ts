/**
 * Counters of TLS plaintext capture (`agent.js capture --tls`): what the probes delivered and lost,
 * and what the agent made of it. They travel in the agent's stats frames (docs/agent-protocol.md),
 * so they are also checked here when they come back from a pod.
 */

export interface TlsCounts {
  /** Records taken from the probes' ring buffer (plaintext chunks, holes, socket closes). */
  events: number;
  /** Plaintext bytes those records carried. */
  bytes: number;
  /** Records the kernel could not put in the ring (it was full): their bytes are holes in streams. */
  lostEvents: number;
  /** Connections whose plaintext went to the dissectors (each once, whichever end was hooked first). */
  connections: number;
  /** Plaintext records dropped because their TCP connection could not be found (no socket, no /proc entry). */
  unresolved: number;
  /**
   * Plaintext records of the second hooked end of a connection whose first end is already shown
   * (client and server both in scope): not shown again.
   */
  duplicates: number;
}

export function emptyTlsCounts(): TlsCounts {
  return { events: 0, bytes: 0, lostEvents: 0, connections: 0, unresolved: 0, duplicates: 0 };
}

const FIELDS = ['events', 'bytes', 'lostEvents', 'connections', 'unresolved', 'duplicates'] as const;

/**
 * The `tls` field of a stats frame as it came from a pod: a count that is not a whole number >= 0
 * reads 0. Undefined when the field is absent or not an object (no TLS capture, or an older agent).
 */
export function tlsCountsFrom(value: unknown): TlsCounts | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out = emptyTlsCounts();
  for (const field of FIELDS) {
    const n = (value as Record<string, unknown>)[field];
    if (Number.isSafeInteger(n) && (n as number) >= 0) out[field] = n as number;
  }
  return out;
}
