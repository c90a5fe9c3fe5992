/**
 * Counters kept per protocol (the `protocol` of the dissector a connection is pinned to), so a
 * summary can say which dissector met bad input: "3 HTTP protocol violations". One place counts
 * them, in `stats.protocols` (src/model/protocol-tally.ts).
 */
import { tallyOf } from '../model/protocol-tally.ts';
import type { CaptureStats } from './stats.ts';

/**
 * Captured bytes broke `protocol`'s grammar: a message its parser resynchronised after, or a
 * connection its dissector gave up with a ProtocolViolation. Counted under the protocol's name only;
 * `stats.dissectionErrors` (all protocols together) is counted where the violation is caught.
 */
export function countViolation(stats: CaptureStats, protocol: string): void {
  tallyOf(stats.protocols, protocol).violations++;
}
