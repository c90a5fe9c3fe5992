/**
 * Violations counted per protocol without each dissector knowing: the stream a dissector opens is
 * wrapped, and what the dissector reports while handling a call (malformed messages, counted in
 * `stats.dissectionErrors`) or throws (a ProtocolViolation: the connection is given up) is also
 * counted under the dissector's protocol in `stats.protocols`.
 */
import { tallyOf, type ProtocolTally } from '../../model/protocol-tally.ts';
import type { CaptureStats } from '../stats.ts';
import type { CloseReason, Direction } from '../tcp/stream.ts';
import { ProtocolViolation } from '../thrown-errors.ts';
import type { DissectorStream } from './dissector.ts';

/**
 * A stream handed off to after an upgrade (DissectContext.handOff) is wrapped too, inside the
 * wrapper of the stream that handed off: its violations are its protocol's, and the outer wrapper
 * must not count them again. Counted violations (a running total, only differences are read) and
 * thrown ones already counted tell it which.
 */
let attributedInside = 0;
const ATTRIBUTED = new WeakSet<object>();

export class ProtocolCountingStream implements DissectorStream {
  readonly #inner: DissectorStream;
  readonly #stats: CaptureStats;
  readonly #tally: ProtocolTally;

  constructor(inner: DissectorStream, stats: CaptureStats, protocol: string) {
    this.#inner = inner;
    this.#stats = stats;
    this.#tally = tallyOf(stats.protocols, protocol);
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    const before = this.#stats.dissectionErrors;
    const nestedBefore = attributedInside;
    try {
      this.#inner.data(dir, bytes, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#count(before, nestedBefore);
    }
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    const before = this.#stats.dissectionErrors;
    const nestedBefore = attributedInside;
    try {
      this.#inner.gap(dir, lostBytes, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#count(before, nestedBefore);
    }
  }

  end(dir: Direction, tsUs: number): void {
    const before = this.#stats.dissectionErrors;
    const nestedBefore = attributedInside;
    try {
      this.#inner.end(dir, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#count(before, nestedBefore);
    }
  }

  close(reason: CloseReason, tsUs: number): void {
    const before = this.#stats.dissectionErrors;
    const nestedBefore = attributedInside;
    try {
      this.#inner.close(reason, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#count(before, nestedBefore);
    }
  }

  oldestPendingUs(): number {
    return this.#inner.oldestPendingUs();
  }

  /**
   * A ProtocolViolation is counted once more here (the stage that catches it counts it in
   * `dissectionErrors`, after this call has returned); anything else is a bug, counted elsewhere.
   */
  #thrown(err: unknown): unknown {
    if (err instanceof ProtocolViolation && !ATTRIBUTED.has(err)) {
      ATTRIBUTED.add(err);
      this.#tally.violations++;
    }
    return err;
  }

  /** The violations reported during a call, less those a stream nested inside already counted. */
  #count(before: number, nestedBefore: number): void {
    const mine = this.#stats.dissectionErrors - before - (attributedInside - nestedBefore);
    this.#tally.violations += mine;
    attributedInside += mine;
  }
}
