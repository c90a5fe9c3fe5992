/**
 * What each data protocol gives the protocol benchmark (test/bench/protocol-throughput.ts): the
 * bytes of one connection's exchanges, made from what real clients and servers send (recorded, or
 * built with the protocol's own encoder as a real client would), and how tshark counts the same
 * exchanges, so the benchmark reports entries/s on one core beside tshark's time on the same file.
 * One file per protocol in this folder: `<protocol>.ts`, exporting `benchCase`.
 */
import type { Prng } from '../prng.ts';
import type { Exchange } from '../../robustness/tcp-capture.ts';

export interface BenchConversation {
  /** In order; each is the client's bytes then the server's answer (a pipeline may put several requests in one). */
  readonly exchanges: readonly Exchange[];
  /** Entries our dissector must emit for this conversation (the benchmark checks the total). */
  readonly entries: number;
}

export interface ProtocolBenchCase {
  /** `protocol.name` of the entries. */
  readonly protocol: string;
  readonly serverPort: number;
  /**
   * Connection `index` of the capture: its opening (startup, handshake) and a run of typical
   * exchanges (a few dozen), varied by `rng`. Deterministic for a given (rng state, index).
   */
  conversation(rng: Prng, index: number): BenchConversation;
  /** tshark's display filter that selects the packets of the same messages, and any decode-as args. */
  readonly tshark: { readonly filter: string; readonly args?: readonly string[] };
}
