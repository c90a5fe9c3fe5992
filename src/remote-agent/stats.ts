import type { Entry } from '../model/entry.ts';
import { emptyTallies, tallyOf, type ProtocolTallies } from '../model/protocol-tally.ts';
import { emptyTlsCounts, type TlsCounts } from '../model/tls-counts.ts';
import { emptyUndissected, type UndissectedCounts } from '../model/undissected.ts';

/**
 * Counters of what the pipeline saw and what it had to drop. Every stage increments the ones it
 * owns; nothing is dropped silently. One mutable object per capture run, passed in (no globals).
 */
export interface CaptureStats {
  /** Frames read from the source. */
  packets: number;
  /** Bytes of frames read (captured length). */
  bytes: number;
  /** Frames or segments that could not be decoded (bad headers, lengths past the end). */
  malformed: number;
  /** Frames of a link type or network protocol we do not decode (ARP, ICMP ...): not an error. */
  ignored: number;
  /** IPv4 fragments waiting for their siblings dropped (timeout or memory cap). */
  fragmentsDropped: number;
  /** TCP connections opened by reassembly. */
  connections: number;
  /** Holes in a TCP byte stream that were skipped (lost segments, cap reached). */
  gaps: number;
  /** Bytes that were never delivered because of those holes. */
  gapBytes: number;
  /** Out-of-order bytes discarded because a per-connection or global cap was reached. */
  droppedBytes: number;
  /** TCP segments farther ahead than any window allows (a corrupt sequence number): ignored. */
  outOfWindowSegments: number;
  /** Connections closed because they were idle too long or evicted by the connection cap. */
  expiredConnections: number;
  /** Entries emitted. */
  entries: number;
  /** Requests that never got a response (emitted with `response: null` and an error). */
  unpairedRequests: number;
  /** Responses that had no request to pair with (not emitted). */
  orphanResponses: number;
  /**
   * Messages that broke the protocol's grammar (the parser resynchronised after them), and
   * connections a dissector gave up with a ProtocolViolation (thrown-errors.ts).
   */
  dissectionErrors: number;
  /** Exceptions that were bugs, not bad input (thrown-errors.ts); each dropped its connection. */
  internalErrors: number;
  /** Entries released out of timestamp order because the reorder buffer was full. */
  reorderOverflow: number;
  /** NDJSON input lines longer than the line limit: skipped. */
  oversizedLines: number;
  /**
   * Traffic no dissector took, by a guess of its protocol: TCP connections (counted once, when
   * the guess is made or the connection closes) and UDP datagrams and flows.
   */
  readonly undissected: UndissectedCounts;
  /**
   * By `protocol.name`: entries emitted (counted as the dissector registry passes them on, countEntry) and violations of dissectors
   * of that protocol (ProtocolViolation thrown or malformed messages reported; DissectContext.violation and the registry).
   */
  readonly protocols: ProtocolTallies;
  /** TLS plaintext capture (--tls): the probes' records and the connections made of them; zeros without it. */
  readonly tls: TlsCounts;
}

export function newCaptureStats(): CaptureStats {
  return {
    packets: 0,
    bytes: 0,
    malformed: 0,
    ignored: 0,
    fragmentsDropped: 0,
    connections: 0,
    gaps: 0,
    gapBytes: 0,
    droppedBytes: 0,
    outOfWindowSegments: 0,
    expiredConnections: 0,
    entries: 0,
    unpairedRequests: 0,
    orphanResponses: 0,
    dissectionErrors: 0,
    internalErrors: 0,
    reorderOverflow: 0,
    oversizedLines: 0,
    undissected: emptyUndissected(),
    protocols: emptyTallies(),
    tls: emptyTlsCounts(),
  };
}

/**
 * An entry is being emitted: counted in all and under its protocol. The one place entries are
 * counted (the dissector registry and the datagram path call it), so no dissector counts its own.
 */
export function countEntry(stats: CaptureStats, entry: Entry): void {
  stats.entries++;
  tallyOf(stats.protocols, entry.protocol.name).entries++;
}
