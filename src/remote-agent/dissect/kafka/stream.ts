/**
 * One Kafka connection: both directions cut at their 4-byte sizes (framing/message-framer.ts),
 * requests read as they come, responses paired with their request by correlation id
 * (pairing/by-id.ts) and read with the request's API key and version, which a response does not
 * repeat. A Produce with acks=0 gets no response and is emitted at once.
 *
 * Mid-stream joining: when the framing is lost (a size past MAX_MESSAGE_BYTES, a gap between
 * messages, a capture that starts inside a message), the client's direction looks for a plausible
 * request header again (sniff.ts), the server's for a size followed by the correlation id of a
 * request that waits for its answer.
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import { isoFromMicros } from '../../../model/entry.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction, type SocketAddress } from '../../tcp/stream.ts';
import type { CaptureStats } from '../../stats.ts';
import type { DissectContext, Dissector, DissectorStream } from '../dissector.ts';
import { MessageFramer, type FramedMessage, type FramerSpec } from '../framing/message-framer.ts';
import { IdPairing, type UnansweredReason } from '../pairing/by-id.ts';
import { API_KEY } from './api-keys.ts';
import { KAFKA_PROTOCOL_NAME, type KafkaEntry } from './entry.ts';
import { parseRequest, parseResponse, responseCorrelationId, type ParsedRequest, type ParsedResponse } from './message.ts';
import { findRequestStart, MAX_MESSAGE_BYTES, plausibleRequestAt, sniffKafka } from './sniff.ts';
import { unansweredAtClose } from '../pairing/close-error.ts';

export const KAFKA_PORTS: readonly number[] = Object.freeze([9092]);
/** Requests waiting for their response in one connection; past it the oldest is emitted unanswered. */
export const MAX_PENDING_PER_CONNECTION = 256;
/** Bytes of one message kept to decode (Kubeshark refuses messages over 1 MB); the rest is skipped, the body marked cut. */
export const MAX_KEEP_BYTES = 1024 * 1024;
/** Answered correlation ids remembered, to absorb retransmitted requests. */
const MAX_ANSWERED = 16;
/**
 * What waiting requests may hold, per connection and for all connections of a capture run, as
 * PendingCost counts it; past it a request is emitted at once, unanswered.
 */
export const MAX_PENDING_COST_PER_CONNECTION = 16 * 1024 * 1024;
export const MAX_PENDING_COST_PER_CAPTURE = 256 * 1024 * 1024;
/** Bytes a decoded value costs to hold, about (an object slot, a number, a short string). */
const BYTES_PER_VALUE = 64;

/** The cost of all connections' waiting requests of one capture run (keyed by its stats object). */
const captureCosts = new WeakMap<CaptureStats, { cost: number }>();

interface Pending {
  readonly request: ParsedRequest;
  readonly tsUs: number;
  readonly wireBytes: number;
  readonly ordinal: number;
  /** Kept bytes and decoded values, in bytes (BYTES_PER_VALUE each): what it costs while it waits. */
  readonly cost: number;
}

class KafkaStream implements DissectorStream {
  readonly #conn: ConnectionInfo;
  readonly #ctx: DissectContext;
  readonly #framers: [MessageFramer, MessageFramer];
  readonly #pairing: IdPairing<number, Pending>;
  /** Correlation ids waiting, for the server direction's resync. */
  readonly #waitingIds = new Set<number>();
  /** The client's direction: known from the SYN, else from the first request header seen (#startsInStep). */
  #clientDir: Direction | null;
  #nextOrdinal = 0;
  /** Cost of this connection's waiting requests, and of the whole capture run's. */
  #cost = 0;
  readonly #captureCost: { cost: number };
  #closeError: EntryError = { type: 'timeout', msg: 'no response' };
  #closed = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.#clientDir = conn.aIsClientKnown ? 0 : null;
    let shared = captureCosts.get(ctx.stats);
    if (shared === undefined) captureCosts.set(ctx.stats, (shared = { cost: 0 }));
    this.#captureCost = shared;
    this.#pairing = new IdPairing<number, Pending>(
      { maxPending: MAX_PENDING_PER_CONNECTION, timeoutUs: ctx.options.responseTimeoutUs, maxAnswered: MAX_ANSWERED },
      ctx.stats,
      (p) => `${p.request.apiKey}/${p.request.apiVersion}/${p.wireBytes}`,
      (p, reason) => this.#unanswered(p, reason),
    );
    this.#framers = [this.#framer(0), this.#framer(1)];
  }

  #framer(dir: Direction): MessageFramer {
    const spec: FramerSpec = {
      frameLength: (head) => {
        if (head.length < 4) return 'more';
        const size = new DataView(head.buffer, head.byteOffset, 4).getInt32(0);
        if (size < 4 || size > MAX_MESSAGE_BYTES) return 'bad';
        return this.#startsInStep(dir, head) ?? 4 + size;
      },
      maxKeepBytes: MAX_KEEP_BYTES,
      resync: (window) => (this.#isClient(dir) ? findRequestStart(window) : this.#findResponseStart(window)),
    };
    return new MessageFramer(spec, (m) => this.#message(dir, m), () => this.#ctx.violation());
  }

  /**
   * Whether a message may start here, beyond its size: a request must have a request header (a
   * capture that joined mid-message would otherwise cut the stream at sizes read from the middle of
   * one); a response, while requests wait, must answer one of them (a broker answers a
   * connection's requests in order). Undefined when it may; 'more' or 'bad' otherwise.
   */
  #startsInStep(dir: Direction, head: Uint8Array): 'more' | 'bad' | undefined {
    if (this.#clientDir === null) {
      // Roles unknown (no SYN): the first request header names the client; other bytes wait for
      // the resync, which finds responses once the requests they answer are known.
      const r = plausibleRequestAt(head, 0, true);
      if (r === 'match') this.#clientDir = dir;
      return r === 'match' ? undefined : r === 'more' ? 'more' : 'bad';
    }
    if (dir === this.#clientDir) {
      const r = plausibleRequestAt(head, 0, false);
      return r === 'match' ? undefined : r === 'more' ? 'more' : 'bad';
    }
    if (this.#waitingIds.size === 0) return undefined;
    if (head.length < 8) return 'more';
    const id = new DataView(head.buffer, head.byteOffset, 8).getInt32(4);
    return this.#waitingIds.has(id) ? undefined : 'bad';
  }

  #isClient(dir: Direction): boolean {
    return this.#clientDir === null ? true : this.#clientDir === dir;
  }

  /** A size, then the correlation id of a request waiting for its answer. */
  #findResponseStart(window: Uint8Array): number {
    if (this.#waitingIds.size === 0) return -1;
    const view = new DataView(window.buffer, window.byteOffset, window.byteLength);
    for (let at = 0; at + 8 <= window.length; at++) {
      const size = view.getInt32(at);
      if (size < 4 || size > MAX_MESSAGE_BYTES) continue;
      if (this.#waitingIds.has(view.getInt32(at + 4))) return at;
    }
    return -1;
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#pairing.expire(tsUs);
    this.#framers[dir].data(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    this.#framers[dir].gap(lostBytes, tsUs);
  }

  end(_dir: Direction, _tsUs: number): void {}

  close(reason: CloseReason, _tsUs: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = unansweredAtClose(reason);
    this.#framers[0].reset();
    this.#framers[1].reset();
    this.#pairing.closeAll();
    this.#waitingIds.clear();
  }

  oldestPendingUs(): number {
    return this.#pairing.oldestPendingUs();
  }

  #message(dir: Direction, m: FramedMessage): void {
    if (m.lostBytes > 0) {
      // Its fields would be misread across the hole; its size kept the framing in step.
      this.#ctx.violation();
      return;
    }
    if (dir === this.#clientDir || this.#clientDir === null) this.#request(m);
    else this.#response(m);
  }

  #request(m: FramedMessage): void {
    const parsed = { values: 0 };
    const request = parseRequest(m.bytes, m.length - 4, this.#ctx.options.maxBodyBytes, parsed);
    if (request === null) {
      this.#ctx.violation();
      return;
    }
    if (request.decoded === 'partial' && request.note?.startsWith('malformed')) this.#ctx.violation();
    const cost = m.bytes.length + parsed.values * BYTES_PER_VALUE;
    const pending: Pending = { request, tsUs: m.startUs, wireBytes: m.length, ordinal: this.#nextOrdinal, cost };
    if (request.apiKey === API_KEY.Produce && request.payload['acks'] === 0) {
      // acks=0: the broker never answers; the call is complete as sent.
      this.#nextOrdinal++;
      this.#emit(pending, null, 0, 0, null);
      return;
    }
    if (this.#cost + cost > MAX_PENDING_COST_PER_CONNECTION || this.#captureCost.cost + cost > MAX_PENDING_COST_PER_CAPTURE) {
      // Too much waiting: this request is not kept, it comes out at once, unanswered (its answer will be an orphan).
      this.#nextOrdinal++;
      this.#ctx.stats.unpairedRequests++;
      this.#emit(pending, null, 0, 0, { type: 'pair-not-found', msg: 'too many Kafka requests waiting for a response' });
      return;
    }
    if (this.#pairing.request(request.correlationID, pending, m.startUs) === 'new') {
      this.#nextOrdinal++;
      this.#waitingIds.add(request.correlationID);
      this.#charge(cost);
    }
  }

  #response(m: FramedMessage): void {
    const id = responseCorrelationId(m.bytes);
    if (id === null) {
      this.#ctx.violation();
      return;
    }
    const outcome = this.#pairing.response(id, m.startUs);
    if (outcome.kind !== 'paired') return; // an orphan (counted by the pairing) or a duplicate answer
    this.#waitingIds.delete(id);
    this.#charge(-outcome.request.cost);
    const req = outcome.request.request;
    const response = parseResponse(m.bytes, m.length - 4, req.apiKey, req.apiVersion, this.#ctx.options.maxBodyBytes);
    if (response === null || (response.decoded === 'partial' && response.note?.startsWith('malformed'))) this.#ctx.violation();
    this.#emit(outcome.request, response, m.startUs, m.length, null);
  }

  #charge(cost: number): void {
    this.#cost += cost;
    this.#captureCost.cost += cost;
  }

  #unanswered(p: Pending, reason: UnansweredReason): void {
    this.#waitingIds.delete(p.request.correlationID);
    this.#charge(-p.cost);
    const timeoutS = Math.round(this.#ctx.options.responseTimeoutUs / 1e6);
    const error: EntryError =
      reason === 'timeout' ? { type: 'timeout', msg: `no response within ${timeoutS} s` }
      : reason === 'evicted' ? { type: 'pair-not-found', msg: `more than ${MAX_PENDING_PER_CONNECTION} Kafka requests waiting for a response` }
      : reason === 'superseded' ? { type: 'pair-not-found', msg: 'correlation id reused before the response' }
      : this.#closeError;
    this.#emit(p, null, 0, 0, error);
  }

  #emit(p: Pending, response: ParsedResponse | null, responseUs: number, responseBytes: number, error: EntryError | null): void {
    const clientDir = this.#clientDir ?? 0;
    const client = clientDir === 0 ? this.#conn.a : this.#conn.b;
    const server = clientDir === 0 ? this.#conn.b : this.#conn.a;
    const req = p.request;
    const entry: KafkaEntry = {
      id: `${connectionLabel(this.#conn)}-${p.ordinal}`,
      protocol: { name: KAFKA_PROTOCOL_NAME, version: String(req.apiVersion), abbr: 'KAFKA' },
      src: endpoint(client),
      dst: endpoint(server),
      timestamp: Math.floor(p.tsUs / 1000),
      startTime: isoFromMicros(p.tsUs),
      elapsedTime: response === null ? 0 : Math.max(0, (responseUs - p.tsUs) / 1000),
      requestSize: p.wireBytes,
      responseSize: responseBytes,
      tls: false,
      request: req,
      response: response ?? null,
      error: error ?? (response === null && responseBytes > 0 ? { type: 'dissection', msg: 'response header cut' } : null),
    };
    this.#ctx.emit(entry, {});
  }
}

function endpoint(a: SocketAddress): KafkaEntry['src'] {
  return { ip: a.ip, port: a.port, name: '', namespace: '' };
}

export const kafkaDissector: Dissector = Object.freeze({
  id: 'kafka',
  protocol: KAFKA_PROTOCOL_NAME,
  ports: KAFKA_PORTS,
  sniff: (prefix: Uint8Array) => sniffKafka(prefix),
  open: (conn: ConnectionInfo, ctx: DissectContext): DissectorStream => new KafkaStream(conn, ctx),
});
