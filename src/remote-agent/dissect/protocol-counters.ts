/**
 * Counters kept per protocol (the `protocol` of the dissector a connection is pinned to), so a
 * summary can say which dissector met bad input: "3 HTTP protocol violations". One place counts
 * them, in `stats.protocols` (src/model/protocol-tally.ts).
 */
import { tallyOf } from '../../model/protocol-tally.ts';
import type { CaptureStats } from '../stats.ts';
import type { CloseReason, Direction } from '../tcp/stream.ts';
import { ProtocolViolation } from '../thrown-errors.ts';
import type { DissectorStream } from './dissector.ts';

/**
 * Captured bytes broke `protocol`'s grammar: a message its parser resynchronised after, or a
 * connection its dissector gave up with a ProtocolViolation. Counted under the protocol's name only;
 * `stats.dissectionErrors` (all protocols together) is counted where the violation is caught.
 */
export function countViolation(stats: CaptureStats, protocol: string): void {
  tallyOf(stats.protocols, protocol).violations++;
}

/** An exchange of `protocol` seen but not emitted (ProtocolTally.lost: e.g. HTTP/2 request headers not captured). */
export function countLost(stats: CaptureStats, protocol: string): void {
  const tally = tallyOf(stats.protocols, protocol);
  tally.lost = (tally.lost ?? 0) + 1;
}

/** ProtocolViolations already counted under a protocol (a handed-off stream's, seen again by the pinned one). */
const counted = new WeakSet<ProtocolViolation>();

/**
 * `err` came out of a dissector of `protocol`: a ProtocolViolation is counted under it, once however
 * many streams it passes through on its way up (reassembly, which catches it, counts it in
 * dissectionErrors and drops the connection); anything else is a bug, counted elsewhere.
 */
export function countThrownViolation(stats: CaptureStats, protocol: string, err: unknown): void {
  if (!(err instanceof ProtocolViolation) || counted.has(err)) return;
  counted.add(err);
  countViolation(stats, protocol);
}

/**
 * The stream of a dissector that took a connection over (a hand-off): what it throws is counted
 * under its own protocol, not under the protocol of the dissector the connection was pinned to.
 */
export class ViolationCountingStream implements DissectorStream {
  readonly #inner: DissectorStream;
  readonly #stats: CaptureStats;
  readonly #protocol: string;

  constructor(inner: DissectorStream, stats: CaptureStats, protocol: string) {
    this.#inner = inner;
    this.#stats = stats;
    this.#protocol = protocol;
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    try {
      this.#inner.data(dir, bytes, tsUs);
    } catch (err) {
      countThrownViolation(this.#stats, this.#protocol, err);
      throw err;
    }
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    try {
      this.#inner.gap(dir, lostBytes, tsUs);
    } catch (err) {
      countThrownViolation(this.#stats, this.#protocol, err);
      throw err;
    }
  }

  end(dir: Direction, tsUs: number): void {
    try {
      this.#inner.end(dir, tsUs);
    } catch (err) {
      countThrownViolation(this.#stats, this.#protocol, err);
      throw err;
    }
  }

  close(reason: CloseReason, tsUs: number): void {
    try {
      this.#inner.close(reason, tsUs);
    } catch (err) {
      countThrownViolation(this.#stats, this.#protocol, err);
      throw err;
    }
  }

  oldestPendingUs(): number {
    return this.#inner.oldestPendingUs();
  }
}
