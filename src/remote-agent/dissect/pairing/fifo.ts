/**
 * Pairing for pipelined request/response protocols (HTTP/1.1 pipelining, RFC 9112 §9.3.2; Redis;
 * PostgreSQL's simple query): a server answers in request order, so the nth response belongs to
 * the nth request. Requests wait in a queue; a response is matched to the oldest unanswered one;
 * pairs leave from the front, so entries come out in request order even when a later response is
 * complete first. Bounded (a cap on waiting requests) and timed in capture time, so a replay gives
 * the same pairs every run.
 *
 * Multiplexed protocols, whose responses carry the id of their request, use the id-keyed helper
 * beside this one instead.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import type { PairingCounters } from './counters.ts';
import type { CloseReason } from '../../tcp/stream.ts';
import { unansweredAtClose } from './close-error.ts';

const lostInGap = (): EntryError => ({ type: 'dissection', msg: 'response lost in a capture gap' });

export interface FifoLimits {
  /** Requests waiting for a response; past it the oldest unanswered one leaves one-sided. */
  readonly maxPending: number;
  /** A complete request unanswered for longer than this (capture time, µs) leaves one-sided. */
  readonly timeoutUs: number;
}

/** One request in the queue, and what is known of its response. */
export interface FifoSlot<Req, Res> {
  /** 0, 1, 2 ... in request order on the connection (entry ids are made of it). */
  readonly ordinal: number;
  readonly request: Req;
  /** Capture time (µs) the request started: what oldestPendingUs reports. */
  readonly startUs: number;
  /** The request has been received whole. */
  requestDone: boolean;
  /** Capture time (µs) the request was received whole: its timeout counts from here. */
  doneUs: number;
  /** A response was matched to it (its body may still be in flight): no timeout any more. */
  answered: boolean;
  /** The complete response. */
  response: Res | null;
}


/**
 * Receives each pair as it leaves the queue, in request order: whole (`missing` null), or without
 * its response and the reason (timeout, cap, connection closed).
 */
export type PairSink<Req, Res> = (slot: FifoSlot<Req, Res>, missing: EntryError | null) => void;

export class FifoPairing<Req, Res> {
  readonly #limits: FifoLimits;
  readonly #counters: PairingCounters;
  readonly #sink: PairSink<Req, Res>;
  readonly #queue: FifoSlot<Req, Res>[] = [];
  #nextOrdinal = 0;
  /** A response was seen starting while a later request was already sent: the client pipelines. */
  #pipelined = false;
  /** Requests whose response fell in a capture gap: they leave without one, in their turn. */
  readonly #lost = new Set<FifoSlot<Req, Res>>();

  constructor(limits: FifoLimits, counters: PairingCounters, sink: PairSink<Req, Res>) {
    this.#limits = limits;
    this.#counters = counters;
    this.#sink = sink;
  }

  /** Requests in the queue (answered or not, not yet emitted). */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * A request started. At the cap, the oldest unanswered request leaves first without a response
   * (counted in unpairedRequests): memory stays bounded when responses never come.
   */
  request(request: Req, startUs: number): FifoSlot<Req, Res> {
    const max = this.#limits.maxPending;
    if (this.#queue.length >= max) {
      const idx = this.#queue.findIndex((s) => !s.answered);
      const victim = this.#queue.splice(idx < 0 ? 0 : idx, 1)[0]!;
      this.#leave(victim, { type: 'pair-not-found', msg: `more than ${max} requests waiting for a response` });
    }
    const slot: FifoSlot<Req, Res> = { ordinal: this.#nextOrdinal++, request, startUs, requestDone: false, doneUs: Infinity, answered: false, response: null };
    this.#queue.push(slot);
    return slot;
  }

  /** The request received whole at `nowUs`: pairs complete up to here leave. */
  requestDone(slot: FifoSlot<Req, Res>, nowUs: number): void {
    slot.requestDone = true;
    slot.doneUs = nowUs;
    this.#flush();
  }

  /** The request the next response answers: the oldest one not yet answered. */
  nextUnanswered(): FifoSlot<Req, Res> | undefined {
    for (const s of this.#queue) if (!s.answered) return s;
    return undefined;
  }

  /** The ordinal the next request will get (a dissector handed the connection on continues from it). */
  get nextOrdinal(): number {
    return this.#nextOrdinal;
  }

  /**
   * A response started for `slot` (from nextUnanswered) at `responseStartUs`: the next response
   * answers the one after. When given, the start time tells whether the client pipelines (a later
   * request was sent before this response began), which `responsesLost` needs to know.
   */
  answer(slot: FifoSlot<Req, Res>, responseStartUs?: number): void {
    slot.answered = true;
    if (responseStartUs === undefined || this.#pipelined) return;
    const after = this.#queue[this.#queue.indexOf(slot) + 1];
    if (after !== undefined && after.startUs < responseStartUs) this.#pipelined = true;
  }

  /**
   * Responses may have been lost in a capture gap, and a response starts at `responseStartUs`.
   * A client that waits for each response (the usual keep-alive client) sent the request this
   * response answers last before it began, so the unanswered requests before that one lost their
   * responses in the gap: they leave without one, and pairing stays aligned instead of answering
   * every later request with the previous request's response. A pipelining client gives no such
   * clue: its queue is left as it is.
   */
  responsesLost(responseStartUs: number): void {
    if (this.#pipelined) return;
    let newest = -1;
    for (let i = 0; i < this.#queue.length; i++) {
      const s = this.#queue[i]!;
      if (s.startUs > responseStartUs) break;
      if (!s.answered) newest = i;
    }
    for (let i = 0; i < newest; i++) {
      const s = this.#queue[i]!;
      if (s.answered) continue;
      s.answered = true;
      this.#lost.add(s);
    }
    this.#flush();
  }

  /** The response of `slot` is complete: pairs complete up to here leave. */
  respond(slot: FifoSlot<Req, Res>, response: Res): void {
    slot.response = response;
    this.#flush();
  }

  /** A response with no request to answer (joined midway, or a request lost): counted, not emitted. */
  orphan(): void {
    this.#counters.orphanResponses++;
  }

  /** Complete requests unanswered for longer than the timeout at `nowUs` leave with a timeout error. */
  expire(nowUs: number): void {
    const timeout = this.#limits.timeoutUs;
    while (this.#queue.length > 0) {
      const s = this.#queue[0]!;
      if (s.answered || !(nowUs - s.doneUs > timeout)) return;
      this.#queue.shift();
      this.#leave(s, { type: 'timeout', msg: `no response within ${timeout / 1e6} s` });
    }
  }

  /** The connection is over: every request leaves, with its response when complete. */
  close(reason: CloseReason): void {
    while (this.#queue.length > 0) {
      const s = this.#queue.shift()!;
      const lost = this.#lost.delete(s);
      this.#leave(s, s.response !== null ? null : lost ? lostInGap() : unansweredAtClose(reason));
    }
  }

  /** Capture time (µs) the oldest queued request started; Infinity when none (for the orderer). */
  oldestPendingUs(): number {
    return this.#queue.length > 0 ? this.#queue[0]!.startUs : Infinity;
  }

  /** Pairs whose request and response are both complete leave from the front, in request order. */
  #flush(): void {
    while (this.#queue.length > 0) {
      const s = this.#queue[0]!;
      if (this.#lost.size > 0 && s.requestDone && this.#lost.delete(s)) {
        this.#queue.shift();
        this.#leave(s, lostInGap());
        continue;
      }
      if (!s.requestDone || s.response === null) return;
      this.#queue.shift();
      this.#leave(s, null);
    }
  }

  #leave(slot: FifoSlot<Req, Res>, missing: EntryError | null): void {
    if (slot.response === null) this.#counters.unpairedRequests++;
    this.#sink(slot, missing);
  }
}
