/**
 * "Never shown twice" between the two sources of one agent: packet capture sees a TLS connection as
 * encrypted bytes no dissector takes (counted in `stats.undissected.connections` as `tls`), while the
 * probes show its plaintext. A connection whose plaintext the probes deliver is claimed here by its
 * 4-tuple; packet capture's count of it as undissected is then left out (or taken back, when packet
 * capture counted it before the first plaintext came: the handshake precedes any plaintext).
 *
 * Packet capture never emits entries for such a connection: its bytes are TLS records, which no
 * dissector takes (their sniffers refuse a TLS record header), so the count is all there is to undo.
 */
import { countProtocol } from '../../model/undissected.ts';
import type { CaptureStats } from '../stats.ts';
import { connectionKey } from '../tcp/connection-key.ts';
import type { ConnectionInfo } from '../tcp/stream.ts';

export interface PlaintextClaimLimits {
  /** Claims kept (live ones and ended ones in their grace time); past it the oldest ended claim goes. */
  readonly maxClaims: number;
  /** Packet connections remembered as counted undissected, oldest forgotten first. */
  readonly maxCounted: number;
  /**
   * An ended plaintext connection still claims its 4-tuple this long (capture time): packet capture
   * may see its last segments, or close it, after the probes reported the close.
   */
  readonly graceUs: number;
}

export const DEFAULT_PLAINTEXT_CLAIM_LIMITS: PlaintextClaimLimits = Object.freeze({
  maxClaims: 32_768,
  maxCounted: 16_384,
  graceUs: 30_000_000,
});

export class PlaintextClaims {
  readonly #stats: CaptureStats;
  readonly #limits: PlaintextClaimLimits;
  /** Claimed 4-tuple keys -> capture time the claim ends (Infinity while the connection lives). */
  readonly #claims = new Map<string, number>();
  /** Packet connections counted as undissected, by key -> the protocol they were counted under. */
  readonly #counted = new Map<string, string>();

  constructor(stats: CaptureStats, limits: Partial<PlaintextClaimLimits> = {}) {
    this.#stats = stats;
    this.#limits = { ...DEFAULT_PLAINTEXT_CLAIM_LIMITS, ...limits };
  }

  /** Packet capture: `conn` carried bytes no dissector took (SharedDissectContext.undissected). */
  undissected(conn: ConnectionInfo, protocol: string): void {
    const key = connectionKey(conn.a.ip, conn.a.port, conn.b.ip, conn.b.port);
    if (this.#claims.has(key)) return;
    countProtocol(this.#stats.undissected.connections, protocol);
    if (this.#counted.size >= this.#limits.maxCounted) this.#counted.delete(this.#counted.keys().next().value!);
    this.#counted.set(key, protocol);
  }

  /** The probes deliver the plaintext of the connection `key` (tls/socket-tuple.ts tupleKey). */
  claim(key: string): void {
    this.#claims.delete(key);
    if (this.#claims.size >= this.#limits.maxClaims) this.#evictOne();
    this.#claims.set(key, Infinity);
    const protocol = this.#counted.get(key);
    if (protocol === undefined) return;
    this.#counted.delete(key);
    const counts = this.#stats.undissected.connections;
    const left = (counts[protocol] ?? 0) - 1;
    if (left > 0) counts[protocol] = left;
    else delete counts[protocol];
  }

  /** The plaintext connection `key` ended at `nowUs`: its claim lasts the grace time more. */
  release(key: string, nowUs: number): void {
    if (!this.#claims.has(key)) return;
    // Re-inserted: ended claims then sit in the order they end, which expiry walks.
    this.#claims.delete(key);
    this.#claims.set(key, nowUs + this.#limits.graceUs);
  }

  isClaimed(key: string): boolean {
    return this.#claims.has(key);
  }

  get size(): number {
    return this.#claims.size;
  }

  expire(nowUs: number): void {
    for (const [key, until] of this.#claims) if (until <= nowUs) this.#claims.delete(key);
  }

  /** Room for one more: the first ended claim goes, else the oldest claim of all. */
  #evictOne(): void {
    for (const [key, until] of this.#claims) {
      if (until !== Infinity) {
        this.#claims.delete(key);
        return;
      }
    }
    this.#claims.delete(this.#claims.keys().next().value!);
  }
}
