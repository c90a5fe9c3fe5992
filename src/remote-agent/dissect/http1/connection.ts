/**
 * One HTTP/1.x connection: two direction parsers, the shared FIFO pairing (pairing/fifo.ts: the nth
 * response answers the nth request, RFC 9112 §9.3.2 pipelining; timeouts in capture time), and
 * entry emission.
 */
import type { EntryError } from '../../../model/entry.ts';
import type { DissectContext, DissectorStream } from '../dissector.ts';
import { fieldValue } from './head.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction } from '../../tcp/stream.ts';
import { bodyLimits } from '../body/body-collector.ts';
import { FifoPairing, type FifoSlot } from '../pairing/fifo.ts';
import { buildEntry, buildRequest } from './entry-builder.ts';
import type { UpgradeOpening } from './upgrade-opening.ts';
import { bodyPlan, isInterim, switchesProtocol, type BodyPlan } from './framing.ts';
import { MessageParser, type ParsedMessage, type ParserHooks, type ParserLimits } from './message-parser.ts';

export interface Http1Limits {
  /** Header block limit (start line + fields). */
  readonly maxHeadBytes: number;
  /** Requests waiting for a response on one connection. */
  readonly maxPendingRequests: number;
}

export const DEFAULT_HTTP1_LIMITS: Http1Limits = Object.freeze({ maxHeadBytes: 64 * 1024, maxPendingRequests: 1000 });

/** A request waiting for its response, and the response once complete. */
type Pending = FifoSlot<ParsedMessage, ParsedMessage>;

export class Http1Connection implements DissectorStream {
  readonly #conn: ConnectionInfo;
  readonly #ctx: DissectContext;
  readonly #parsers: readonly [MessageParser, MessageParser];
  /** The direction that carries requests; -1 until the first message says. */
  #clientDir: Direction | -1 = -1;
  readonly #pairs: FifoPairing<ParsedMessage, ParsedMessage>;
  #closed = false;
  /** Capture time of the current call, for completion times. */
  #nowUs = 0;
  /** The dissector the connection was handed to after an upgrade; it gets every byte from then on. */
  #next: DissectorStream | null = null;
  /** The upgrade request whose answer the taker of a hand-off emits (h2c): no entry here. */
  #claimed: Pending | null = null;
  /** A gap hit the response direction: responses may be lost, checked at the next response head. */
  #responsesMayBeLost = false;
  /** A gap hit either direction at some point: from then on a response may be an orphan. */
  #gapSeen = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext, limits: Http1Limits = DEFAULT_HTTP1_LIMITS) {
    this.#conn = conn;
    this.#ctx = ctx;
    this.#pairs = new FifoPairing({ maxPending: limits.maxPendingRequests, timeoutUs: ctx.options.responseTimeoutUs }, ctx.stats, (p, missing) => this.#emit(p, missing));
    const parserLimits: ParserLimits = { maxHeadBytes: limits.maxHeadBytes, body: bodyLimits(ctx.options.maxBodyBytes) };
    const atBoundary = conn.aIsClientKnown;
    this.#parsers = [
      new MessageParser(this.#hooksFor(0), parserLimits, atBoundary),
      new MessageParser(this.#hooksFor(1), parserLimits, atBoundary),
    ];
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    if (this.#next !== null) return this.#next.data(dir, bytes, tsUs);
    if (this.#closed) return;
    this.#nowUs = tsUs;
    this.#pairs.expire(tsUs);
    this.#parsers[dir].push(bytes, tsUs);
  }

  gap(dir: Direction, lostBytes: number, tsUs: number): void {
    if (this.#next !== null) return this.#next.gap(dir, lostBytes, tsUs);
    if (this.#closed) return;
    this.#nowUs = tsUs;
    this.#pairs.expire(tsUs);
    this.#gapSeen = true;
    if (this.#clientDir !== -1 && dir !== this.#clientDir) this.#responsesMayBeLost = true;
    this.#parsers[dir].gap(lostBytes);
  }

  end(dir: Direction, tsUs: number): void {
    if (this.#next !== null) return this.#next.end(dir, tsUs);
    if (this.#closed) return;
    this.#nowUs = tsUs;
    this.#pairs.expire(tsUs);
    this.#parsers[dir].end();
  }

  close(reason: CloseReason, tsUs: number): void {
    if (this.#closed) return;
    this.#nowUs = tsUs;
    // Requests first, so a request cut by the close is in the FIFO before responses are ended.
    const order: Direction[] = this.#clientDir === 1 ? [1, 0] : [0, 1];
    for (const d of order) this.#parsers[d].end();
    this.#closed = true;
    this.#pairs.close(reason);
    this.#next?.close(reason, tsUs);
  }

  oldestPendingUs(): number {
    let oldest = this.#pairs.oldestPendingUs();
    // A request still in its header block is not in the FIFO yet but will become an entry.
    if (this.#clientDir !== 1) oldest = Math.min(oldest, this.#parsers[0].messageStartUs());
    if (this.#clientDir !== 0) oldest = Math.min(oldest, this.#parsers[1].messageStartUs());
    if (this.#next !== null) oldest = Math.min(oldest, this.#next.oldestPendingUs());
    return oldest;
  }

  #hooksFor(dir: Direction): ParserHooks {
    return {
      head: (msg) => this.#onHead(dir, msg),
      message: (msg) => this.#onMessage(dir, msg),
      dissectionError: () => this.#ctx.violation(),
    };
  }

  /** The first message fixes who the client is, whatever ConnectionInfo.a says. */
  #learnRoles(dir: Direction, isRequest: boolean): void {
    if (this.#clientDir !== -1) return;
    const client: Direction = isRequest ? dir : dir === 0 ? 1 : 0;
    this.#clientDir = client;
    this.#parsers[client].setAccepted('request');
    this.#parsers[client === 0 ? 1 : 0].setAccepted('response');
  }

  #onHead(dir: Direction, msg: ParsedMessage): BodyPlan {
    const head = msg.head;
    if (head.badLines > 0) this.#ctx.violation();
    if (head.kind === 'request') {
      const plan = bodyPlan(head, undefined);
      if (plan.kind === 'invalid') return plan;
      this.#learnRoles(dir, true);
      msg.link = this.#pairs.request(msg, msg.startUs);
      return plan;
    }
    if (this.#responsesMayBeLost) {
      this.#responsesMayBeLost = false;
      this.#pairs.responsesLost(msg.startUs);
    }
    // After a gap, a response never answers a request sent after it began: that request's response
    // is still to come, and this one's request was lost in the gap (an orphan). Only after a gap:
    // TLS plaintext from probes is stamped when the call was made, and a Go client's Read is
    // posted before its Write, so without loss a response may be stamped before its request.
    const next = this.#pairs.nextUnanswered();
    const p = next !== undefined && (!this.#gapSeen || next.startUs <= msg.startUs) ? next : undefined;
    const plan = bodyPlan(head, p?.request.head.method);
    if (plan.kind === 'invalid') return plan;
    this.#learnRoles(dir, false);
    if (p !== undefined && !isInterim(head.status)) {
      this.#pairs.answer(p, msg.startUs);
      msg.link = p;
    }
    return plan;
  }

  #onMessage(dir: Direction, msg: ParsedMessage): void {
    const p = msg.link as Pending | null;
    if (msg.head.kind === 'request') {
      if (p === null) return;
      this.#pairs.requestDone(p, this.#nowUs);
      return;
    }
    if (isInterim(msg.head.status)) return; // e.g. 100 Continue: the final response follows
    if (p === null) return this.#pairs.orphan();
    if (switchesProtocol(msg.head.status, p.request.head.method) && !this.#handOff(p, dir, msg)) {
      // Upgrade / CONNECT tunnel nobody takes over: what follows is not HTTP/1 in either direction.
      this.#parsers[0].kill();
      this.#parsers[1].kill();
    }
    this.#pairs.respond(p, msg);
  }

  /**
   * After a `101 Switching Protocols`: hands both directions, from the byte after the 101's head
   * and after the upgrade request, to the dissector registered for the protocol switched to (the
   * 101's Upgrade token, RFC 9110 §7.8, else the request's). False when none takes it. The
   * request side continues from everything it delivered so far: a client waits for the 101
   * before it speaks the new protocol (RFC 6455 §4.1), so that is the end of the upgrade request.
   */
  #handOff(p: Pending, responseDir: Direction, response: ParsedMessage): boolean {
    if (response.head.status !== 101 || !p.requestDone || this.#ctx.handOff === undefined) return false;
    const token = upgradeToken(fieldValue(response.head, 'upgrade') ?? fieldValue(p.request.head, 'upgrade'));
    if (token === '') return false;
    const requestDir: Direction = responseDir === 0 ? 1 : 0;
    const offsets: [number, number] = [0, 0];
    offsets[responseDir] = response.startOffset + response.wireBytes;
    offsets[requestDir] = this.#parsers[requestDir].offset;
    // Null prototype: header names are captured bytes ("__proto__" must stay a plain key).
    const params = Object.create(null) as Record<string, string>;
    for (const f of response.head.fields) params[f.key] = params[f.key] === undefined ? f.value : `${params[f.key]}, ${f.value}`;
    let claimed = false;
    const opening: UpgradeOpening = {
      kind: 'http1-upgrade',
      ordinal: p.ordinal,
      request: buildRequest(p.request),
      startUs: p.request.startUs,
      requestSize: p.request.wireBytes,
      requestSeq: this.#conn.sequenceAt?.(requestDir, p.request.startOffset),
      claim: () => {
        claimed = true;
      },
    };
    const next = this.#ctx.handOff(this.#conn, {
      to: token,
      parentId: `${connectionLabel(this.#conn)}-${p.ordinal}`,
      nextOrdinal: this.#pairs.nextOrdinal,
      clientDir: requestDir,
      offsets,
      params,
      opening,
    });
    if (next === null) return false;
    if (claimed) this.#claimed = p;
    this.#next = next;
    this.#parsers[requestDir].kill();
    this.#parsers[responseDir].divert((bytes, tsUs) => next.data(responseDir, bytes, tsUs));
    return true;
  }

  #emit(p: Pending, missing: EntryError | null): void {
    // The taker of the upgrade emits this request with the answer it gets after the switch.
    if (p === this.#claimed) return;
    const res = p.response;
    const error = missing ?? res?.problem ?? p.request.problem ?? null;
    const a = this.#conn.a;
    const b = this.#conn.b;
    const clientIsA = this.#clientDir !== 1;
    const requestSeq = this.#conn.sequenceAt?.(clientIsA ? 0 : 1, p.request.startOffset);
    const entry = buildEntry({
      id: `${connectionLabel(this.#conn)}-${p.ordinal}`,
      client: clientIsA ? a : b,
      server: clientIsA ? b : a,
      request: p.request,
      response: res,
      error,
    });
    this.#ctx.emit(entry, requestSeq === undefined ? {} : { requestSeq });
  }
}

/** The first protocol of an Upgrade value, lower case, without its version ("WebSocket" -> "websocket"); "" when none. */
function upgradeToken(value: string | undefined): string {
  if (value === undefined) return '';
  const first = value.split(',')[0].trim().toLowerCase();
  const slash = first.indexOf('/');
  return slash < 0 ? first : first.slice(0, slash);
}
