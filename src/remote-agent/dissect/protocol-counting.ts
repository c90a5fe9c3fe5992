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
    try {
      this.#inner.data(dir, bytes, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#tally.violations += this.#stats.dissectionErrors - before;
    }
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    const before = this.#stats.dissectionErrors;
    try {
      this.#inner.gap(dir, lostBytes, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#tally.violations += this.#stats.dissectionErrors - before;
    }
  }

  end(dir: Direction, tsUs: number): void {
    const before = this.#stats.dissectionErrors;
    try {
      this.#inner.end(dir, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#tally.violations += this.#stats.dissectionErrors - before;
    }
  }

  close(reason: CloseReason, tsUs: number): void {
    const before = this.#stats.dissectionErrors;
    try {
      this.#inner.close(reason, tsUs);
    } catch (err) {
      throw this.#thrown(err);
    } finally {
      this.#tally.violations += this.#stats.dissectionErrors - before;
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
    if (err instanceof ProtocolViolation) this.#tally.violations++;
    return err;
  }
}
