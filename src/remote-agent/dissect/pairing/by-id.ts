/**
 * Pairing by id, for protocols whose responses name their request (a DNS message id, an HTTP/2
 * stream id, a Kafka correlation id) and so may come back in any order. Shared so each protocol
 * does not reinvent the bookkeeping (Pixie's parse/stitch split, STYLE.md §9): requests wait under
 * their key, bounded in number and in capture time; a response takes its request; what is left
 * is handed back as unanswered, once.
 *
 * - Retransmissions: a request under a key already waiting (or answered within the timeout) with
 *   the same `fingerprint` is not a new call: it is absorbed, and a second answer to it is a
 *   duplicate, neither an entry nor an orphan. Only fingerprints of answered requests are kept,
 *   and at most `maxAnswered` of them: memory stays small however many flows use the helper.
 * - A different request under a waiting key (the id was reused) supersedes it: the old one is
 *   unanswered.
 * - Counters: `unpairedRequests` for every request handed back unanswered, `orphanResponses`
 *   for every response with no request.
 */
import type { PairingCounters } from './counters.ts';

export interface IdPairingLimits {
  /** Requests waiting at once; past it the oldest is handed back unanswered ('evicted'). */
  readonly maxPending: number;
  /** A request waiting longer than this (capture time) is handed back unanswered ('timeout'). */
  readonly timeoutUs: number;
  /** Fingerprints of answered requests remembered (for retransmissions and duplicate answers). */
  readonly maxAnswered: number;
}


/** Why a request came back without a response. */
export type UnansweredReason = 'timeout' | 'evicted' | 'superseded' | 'closed';

export type RequestOutcome = 'new' | 'retransmission';

export type ResponseOutcome<R> =
  | { readonly kind: 'paired'; readonly request: R; readonly startUs: number }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'orphan' };

/** What tells a retransmission from a new request under the same key: small (a hash, a short text). */
export type Fingerprint = string | number;

interface Waiting<R> {
  readonly request: R;
  readonly fingerprint: Fingerprint;
  readonly startUs: number;
}

export class IdPairing<K, R> {
  readonly #limits: IdPairingLimits;
  readonly #counters: PairingCounters;
  readonly #unanswered: (request: R, reason: UnansweredReason, startUs: number) => void;
  readonly #fingerprint: (request: R) => Fingerprint;
  /** In order of arrival: the first is the oldest (expiry and eviction take from the front). */
  readonly #waiting = new Map<K, Waiting<R>>();
  /** Recently answered requests, by answer time, for telling retransmissions and duplicate answers. */
  readonly #answered = new Map<K, { readonly fingerprint: Fingerprint; readonly atUs: number }>();

  constructor(
    limits: IdPairingLimits,
    counters: PairingCounters,
    fingerprint: (request: R) => Fingerprint,
    unanswered: (request: R, reason: UnansweredReason, startUs: number) => void,
  ) {
    this.#limits = limits;
    this.#counters = counters;
    this.#fingerprint = fingerprint;
    this.#unanswered = unanswered;
  }

  /** Requests waiting for their response. */
  get size(): number {
    return this.#waiting.size;
  }

  request(key: K, request: R, tsUs: number): RequestOutcome {
    this.expire(tsUs);
    const fingerprint = this.#fingerprint(request);
    const waiting = this.#waiting.get(key);
    if (waiting !== undefined) {
      if (waiting.fingerprint === fingerprint) return 'retransmission';
      this.#waiting.delete(key);
      this.#handBack(waiting, 'superseded');
    } else {
      const answered = this.#answered.get(key);
      if (answered !== undefined) {
        if (answered.fingerprint === fingerprint) return 'retransmission';
        this.#answered.delete(key);
      }
    }
    if (this.#waiting.size >= this.#limits.maxPending) {
      const [oldestKey, oldest] = this.#waiting.entries().next().value!;
      this.#waiting.delete(oldestKey);
      this.#handBack(oldest, 'evicted');
    }
    this.#waiting.set(key, { request, fingerprint, startUs: tsUs });
    return 'new';
  }

  response(key: K, tsUs: number): ResponseOutcome<R> {
    const waiting = this.#waiting.get(key);
    if (waiting !== undefined) {
      this.#waiting.delete(key);
      this.#remember(key, waiting.fingerprint, tsUs);
      // Expire after pairing: a slow answer that arrives still pairs with its request.
      this.expire(tsUs);
      return { kind: 'paired', request: waiting.request, startUs: waiting.startUs };
    }
    this.expire(tsUs);
    if (this.#answered.has(key)) return { kind: 'duplicate' };
    this.#counters.orphanResponses++;
    return { kind: 'orphan' };
  }

  /**
   * Takes a waiting request away without an answer and without counting it unanswered: it moves
   * elsewhere (a retransmission sent from another socket, which is another flow, was answered).
   */
  withdraw(key: K): { readonly request: R; readonly startUs: number } | undefined {
    const waiting = this.#waiting.get(key);
    if (waiting === undefined) return undefined;
    this.#waiting.delete(key);
    return { request: waiting.request, startUs: waiting.startUs };
  }

  /** Hands back requests waiting longer than the timeout at `nowUs` (capture time), oldest first. */
  expire(nowUs: number): void {
    const timeout = this.#limits.timeoutUs;
    for (const [key, w] of this.#waiting) {
      if (!(nowUs - w.startUs > timeout)) break;
      this.#waiting.delete(key);
      this.#handBack(w, 'timeout');
    }
    for (const [key, a] of this.#answered) {
      if (!(nowUs - a.atUs > timeout)) break;
      this.#answered.delete(key);
    }
  }

  /** Hands back every waiting request (the flow or connection is over). */
  closeAll(): void {
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    this.#answered.clear();
    for (const w of all) this.#handBack(w, 'closed');
  }

  /** Capture time of the oldest waiting request; Infinity when none waits. */
  oldestPendingUs(): number {
    let oldest = Infinity;
    // Arrival order is start order unless the capture's clock stepped back: take the minimum.
    for (const w of this.#waiting.values()) if (w.startUs < oldest) oldest = w.startUs;
    return oldest;
  }

  #remember(key: K, fingerprint: Fingerprint, atUs: number): void {
    this.#answered.delete(key);
    if (this.#limits.maxAnswered <= 0) return;
    if (this.#answered.size >= this.#limits.maxAnswered) this.#answered.delete(this.#answered.keys().next().value!);
    this.#answered.set(key, { fingerprint, atUs });
  }

  #handBack(w: Waiting<R>, reason: UnansweredReason): void {
    this.#counters.unpairedRequests++;
    this.#unanswered(w.request, reason, w.startUs);
  }
}
