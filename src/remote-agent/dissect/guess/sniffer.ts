/**
 * The contract of a protocol sniffer: a cheap, pure look at the first bytes of one direction of a
 * connection (or at one datagram) that says whether they belong to its protocol. Sniffers name the
 * traffic no dissector takes (counted in stats as "not dissected"); a dissector written later for
 * the same protocol keeps the sniffer's `id` and its `sniff`, so counts and entries agree on names.
 */
import type { SniffResult } from '../dissector.ts';

/** Which way the bytes went: from the side that opened the connection (or sent first) or back. */
export type SniffDirection = 'to-server' | 'to-client';

export interface ProtocolSniffer {
  /** Counts are kept under this id (src/model/undissected.ts has its label). */
  readonly id: string;
  /** Where the protocol usually lives. For streams only a hint; see `needsPort`. */
  readonly ports: readonly number[];
  /**
   * True when the bytes alone say too little (a DNS header is any 12 bytes): the sniffer is only
   * asked when one of the two ports is in `ports`.
   */
  readonly needsPort?: boolean;
  /**
   * Pure, never throws, reads a bounded prefix. 'match' only on strong evidence (a wrong name is
   * worse than "unknown"); 'more' when the prefix is too short to say.
   */
  sniff(prefix: Uint8Array, direction: SniffDirection): SniffResult;
}
