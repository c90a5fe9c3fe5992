/**
 * When the agent gives its idle memory back (live/idle-memory.ts): once the capture has seen no
 * packet for a while, and again each time it falls idle after traffic. Never while packets flow:
 * the pages dropped are read back on their next use, a page fault each (from the file: the kernel
 * reclaimed them), and a busy agent would only pay for them again.
 *
 * The wait doubles after each release (5 s, 10 s, 20 s ... at most 5 minutes): a pod whose traffic
 * comes every few seconds would otherwise have its agent drop and read back the same ~30 MB of
 * node at every pause. A pod that idles for long stretches still gets its release in each of them.
 */

/** Long past start-up (parsing, koffi, the first ring) and any pause between two requests of a client. */
export const IDLE_RELEASE_AFTER_MS = 5_000;
/** The longest wait the doubling reaches. */
export const IDLE_RELEASE_MAX_AFTER_MS = 300_000;

export class IdleRelease {
  #afterMs: number;
  readonly #maxAfterMs: number;
  #lastActivity: number;
  #lastChangeMs: number;
  /** True until memory was given back in the current idle period. */
  #armed = true;

  /** `activity`: a counter that moves while there is traffic (packets captured). */
  constructor(nowMs: number, activity: number, afterMs = IDLE_RELEASE_AFTER_MS, maxAfterMs = IDLE_RELEASE_MAX_AFTER_MS) {
    this.#afterMs = afterMs;
    this.#maxAfterMs = maxAfterMs;
    this.#lastActivity = activity;
    this.#lastChangeMs = nowMs;
  }

  /** How long the capture must idle now before the next release. */
  get afterMs(): number {
    return this.#afterMs;
  }

  /** Called every second or so: true when memory should be given back now. */
  due(nowMs: number, activity: number): boolean {
    if (activity !== this.#lastActivity) {
      this.#lastActivity = activity;
      this.#lastChangeMs = nowMs;
      this.#armed = true;
      return false;
    }
    if (!this.#armed || nowMs - this.#lastChangeMs < this.#afterMs) return false;
    this.#armed = false;
    this.#afterMs = Math.min(this.#maxAfterMs, this.#afterMs * 2);
    return true;
  }
}
