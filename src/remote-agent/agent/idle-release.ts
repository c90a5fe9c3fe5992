/**
 * When the agent gives its idle memory back (live/idle-memory.ts): once the capture has seen no
 * packet for IDLE_RELEASE_AFTER_MS, and again each time it falls idle after traffic. Never while
 * packets flow: the pages dropped are read back on their next use, a page fault each, and a busy
 * agent would only pay for them again.
 */

/** Long past start-up (parsing, koffi, the first ring) and any pause between two requests of a client. */
export const IDLE_RELEASE_AFTER_MS = 5_000;

export class IdleRelease {
  readonly #afterMs: number;
  #lastActivity: number;
  #lastChangeMs: number;
  /** True until memory was given back in the current idle period. */
  #armed = true;

  /** `activity`: a counter that moves while there is traffic (packets captured). */
  constructor(nowMs: number, activity: number, afterMs = IDLE_RELEASE_AFTER_MS) {
    this.#afterMs = afterMs;
    this.#lastActivity = activity;
    this.#lastChangeMs = nowMs;
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
    return true;
  }
}
