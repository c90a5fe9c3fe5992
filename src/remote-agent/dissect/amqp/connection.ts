/**
 * One AMQP 0-9-1 connection: frames cut by the shared MessageFramer per direction, methods decoded,
 * content (header and body frames) joined to its method per channel and direction, and methods
 * paired per channel: a synchronous request waits (by-id pairing, keyed by its sender, class and
 * method number) for the method that answers it, one-way methods (Publish, Deliver, Ack...) are
 * entries at once. A Channel.Close or Connection.Close that names a waiting request answers it
 * (the request failed) and is an entry of its own too; Close-Ok ends what still waits on the
 * channel (or the connection). Heartbeats are not entries.
 *
 * Bounded on hostile bytes: frames by the framer (kept at most MAX_KEEP_BYTES each), channels
 * tracked (MAX_CHANNELS), requests waiting per connection (MAX_PENDING), body bytes held by
 * unfinished messages (MAX_HELD_BODY_BYTES), field tables by the reader (wire-reader.ts).
 */
import type { EntryError } from '../../../model/entry-envelope.ts';
import { connectionLabel, type CloseReason, type ConnectionInfo, type Direction } from '../../tcp/stream.ts';
import type { DissectContext, DissectorStream } from '../dissector.ts';
import { MessageFramer, type FramedMessage } from '../framing/message-framer.ts';
import { IdPairing, type UnansweredReason } from '../pairing/by-id.ts';
import { decodeContentHeader } from './content-header.ts';
import { buildAmqpEntry, buildBody, type SentMethod } from './entry-builder.ts';
import type { AmqpMethod, AmqpSender } from './entry.ts';
import {
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_OVERHEAD,
  firstFrameLength,
  frameLength,
  protocolHeaderAt,
  resyncFrames,
} from './frames.ts';
import { decodeMethod, type MethodSpec } from './methods.ts';
import { unansweredAtClose } from '../pairing/close-error.ts';

/** Channels tracked at once (RabbitMQ's channel_max is 2047 by default). */
export const MAX_CHANNELS = 2048;
/** Requests waiting for their answer in one connection, all channels together. */
export const MAX_PENDING = 1024;
/** Per channel: a client waits for each synchronous answer, so a few is plenty. */
const MAX_PENDING_PER_CHANNEL = 64;
/** Body bytes held by messages whose content is not complete yet, per connection. */
export const MAX_HELD_BODY_BYTES = 8 * 1024 * 1024;
/** Bytes of one frame kept whole; a longer frame (a big body frame) is kept only in part. */
const MIN_KEEP_BYTES = 1024 * 1024;

/** The AMQP port (5671 is AMQP over TLS: its bytes are not AMQP's until decrypted). */
export const AMQP_PORTS: readonly number[] = Object.freeze([5672]);

/** A request waiting for its answer. */
interface Waiting {
  readonly sent: SentMethod;
  readonly ordinal: number;
}

/** A content method whose header and body frames are still coming. */
interface Content {
  readonly method: AmqpMethod;
  readonly spec: MethodSpec;
  readonly startUs: number;
  size: number;
  bodySize: number;
  received: number;
  headerSeen: boolean;
  readonly kept: Uint8Array[];
  keptBytes: number;
  problem: string | undefined;
}

interface ChannelState {
  readonly id: number;
  readonly pairing: IdPairing<string, Waiting>;
  /** Per direction: the content message being joined. */
  readonly content: [Content | null, Content | null];
}

function keyOf(dir: Direction, classId: number, methodId: number): string {
  return `${dir}|${classId}|${methodId}`;
}

export class AmqpConnection implements DissectorStream {
  readonly #ctx: DissectContext;
  readonly #conn: ConnectionInfo;
  readonly #label: string;
  readonly #framers: [MessageFramer, MessageFramer];
  readonly #channels = new Map<number, ChannelState>();
  /** The direction that carries the client's bytes; `#clientKnown` once the bytes said so. */
  #clientDir: Direction;
  #clientKnown: boolean;
  /** Per direction: no frame found yet on a connection joined midway (the bytes may start anywhere). */
  readonly #fresh: [boolean, boolean];
  /**
   * Per direction: a frame ended without its end octet, so its size was wrong: the next frame is
   * taken only where one plausibly starts, as on a connection joined midway.
   */
  readonly #badEnd: [boolean, boolean] = [false, false];
  #nextOrdinal = 0;
  #pending = 0;
  #heldBodyBytes = 0;
  #lastExpireUs = -Infinity;
  #closeError: EntryError = { type: 'connection', msg: 'connection closed before the response' };
  #closed = false;

  constructor(conn: ConnectionInfo, ctx: DissectContext) {
    this.#ctx = ctx;
    this.#conn = conn;
    this.#label = connectionLabel(conn);
    // Until the bytes tell (a protocol header, a method only one side sends), the side on the
    // AMQP port is the server.
    this.#clientDir = !conn.aIsClientKnown && AMQP_PORTS.includes(conn.a.port) && !AMQP_PORTS.includes(conn.b.port) ? 1 : 0;
    this.#clientKnown = conn.aIsClientKnown;
    this.#fresh = [!conn.aIsClientKnown, !conn.aIsClientKnown];
    const keep = Math.max(MIN_KEEP_BYTES, ctx.options.maxBodyBytes + FRAME_OVERHEAD);
    this.#framers = [this.#framer(0, keep), this.#framer(1, keep)];
  }

  #framer(dir: Direction, keep: number): MessageFramer {
    return new MessageFramer(
      {
        frameLength: (head) => (this.#fresh[dir] || this.#badEnd[dir] ? firstFrameLength(head) : frameLength(head)),
        maxKeepBytes: keep,
        resync: resyncFrames,
      },
      (m) => this.#frame(dir, m),
      // Joined midway, the first bytes are no frame start: not a violation. A bad end octet was counted.
      () => {
        if (!this.#fresh[dir] && !this.#badEnd[dir]) this.#ctx.violation();
      },
    );
  }

  data(dir: Direction, bytes: Uint8Array, tsUs: number): void {
    this.#expire(tsUs);
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
    for (const ch of [...this.#channels.values()]) this.#closeChannel(ch, this.#closeError);
    for (const f of this.#framers) f.reset();
  }

  oldestPendingUs(): number {
    let oldest = Infinity;
    for (const ch of this.#channels.values()) {
      oldest = Math.min(oldest, ch.pairing.oldestPendingUs());
      for (const c of ch.content) if (c !== null) oldest = Math.min(oldest, c.startUs);
    }
    return oldest;
  }

  /** Requests unanswered past the timeout leave; at most once per tenth of the timeout (capture time). */
  #expire(nowUs: number): void {
    if (nowUs - this.#lastExpireUs < Math.min(1_000_000, this.#ctx.options.responseTimeoutUs / 10)) return;
    this.#lastExpireUs = nowUs;
    for (const ch of this.#channels.values()) if (ch.pairing.size > 0) ch.pairing.expire(nowUs);
  }

  #senderOf(dir: Direction): AmqpSender {
    return dir === this.#clientDir ? 'client' : 'server';
  }

  /** The bytes showed who the client is (a protocol header, a method one side alone sends). */
  #learnClient(dir: Direction, from: AmqpSender | 'either'): void {
    if (this.#clientKnown || from === 'either') return;
    this.#clientDir = from === 'client' ? dir : dir === 0 ? 1 : 0;
    this.#clientKnown = true;
  }

  #frame(dir: Direction, m: FramedMessage): void {
    this.#fresh[dir] = false;
    this.#badEnd[dir] = false;
    const b = m.bytes;
    if (b[0] === 0x41) {
      // A protocol header: the client's opening (or a server offering the version it speaks).
      if (protocolHeaderAt(b) === 'yes') this.#learnClient(dir, 'client');
      return;
    }
    if (!m.truncated && m.lostBytes === 0 && b[m.length - 1] !== FRAME_END) {
      // The size did not lead to a frame end: the framing is wrong from here; find frames again.
      this.#ctx.violation();
      this.#badEnd[dir] = true;
      return;
    }
    const type = b[0]!;
    if (type === FRAME_HEARTBEAT) return;
    const channelId = (b[1]! << 8) | b[2]!;
    const payload = b.subarray(7, Math.min(b.length, m.length - 1));
    if (type === FRAME_METHOD) this.#methodFrame(dir, channelId, payload, m);
    else if (type === FRAME_HEADER) this.#headerFrame(dir, channelId, payload, m);
    else if (type === FRAME_BODY) this.#bodyFrame(dir, channelId, payload, m);
  }

  #channel(id: number): ChannelState | null {
    let ch = this.#channels.get(id);
    if (ch !== undefined) return ch;
    if (this.#channels.size >= MAX_CHANNELS) return null;
    const state: ChannelState = {
      id,
      content: [null, null],
      pairing: new IdPairing<string, Waiting>(
        { maxPending: MAX_PENDING_PER_CHANNEL, timeoutUs: this.#ctx.options.responseTimeoutUs, maxAnswered: 0 },
        this.#ctx.stats,
        // Every request is a call of its own (TCP has no retransmission to absorb here).
        (w) => w.ordinal,
        (w, reason) => this.#unanswered(state, w, reason),
      ),
    };
    ch = state;
    this.#channels.set(id, ch);
    return ch;
  }

  #methodFrame(dir: Direction, channelId: number, payload: Uint8Array, m: FramedMessage): void {
    if (m.lostBytes > 0 || m.truncated) {
      // Arguments the capture lost (or a method frame past what is kept) cannot be read.
      if (m.truncated) this.#ctx.violation();
      return;
    }
    const decoded = decodeMethod(payload, channelId, this.#senderOf(dir));
    if (decoded === null) {
      this.#ctx.violation();
      return;
    }
    this.#learnClient(dir, decoded.spec.from);
    decoded.method.sender = this.#senderOf(dir);
    const ch = this.#channel(channelId);
    if (ch === null) {
      // More channels than any broker allows at once: no state is kept for this one.
      this.#ctx.violation();
      this.#untracked(dir, decoded.spec, { method: decoded.method, startUs: m.startUs, size: m.length });
      return;
    }
    const open = ch.content[dir];
    if (open !== null) {
      // The previous message's content never completed: it goes out as it is.
      this.#ctx.violation();
      open.problem ??= 'its content was cut by the next method';
      this.#finishContent(ch, dir);
    }
    if (decoded.problem !== undefined) this.#ctx.violation();
    if (decoded.spec.content) {
      ch.content[dir] = {
        method: decoded.method,
        spec: decoded.spec,
        startUs: m.startUs,
        size: m.length,
        bodySize: 0,
        received: 0,
        headerSeen: false,
        kept: [],
        keptBytes: 0,
        problem: decoded.problem,
      };
      return;
    }
    this.#method(ch, dir, decoded.spec, { method: decoded.method, startUs: m.startUs, size: m.length }, decoded.problem);
  }

  #headerFrame(dir: Direction, channelId: number, payload: Uint8Array, m: FramedMessage): void {
    const ch = this.#channels.get(channelId);
    const c = ch?.content[dir] ?? null;
    if (ch === undefined || c === null || c.headerSeen) {
      // Joined midway (its method came before the capture), or a header out of place.
      if (c !== null && c.headerSeen) this.#ctx.violation();
      return;
    }
    c.size += m.length;
    c.headerSeen = true;
    const header = m.lostBytes > 0 || m.truncated ? null : decodeContentHeader(payload);
    if (header === null) {
      c.problem ??= m.lostBytes > 0 ? 'content header lost in a capture gap' : 'content header unreadable';
      if (m.lostBytes === 0) this.#ctx.violation();
      this.#finishContent(ch, dir);
      return;
    }
    if (header.problem !== undefined) {
      this.#ctx.violation();
      c.problem ??= `content header: ${header.problem}`;
    }
    c.method.properties = header.properties;
    c.bodySize = header.bodySize;
    if (c.bodySize === 0) this.#finishContent(ch, dir);
  }

  #bodyFrame(dir: Direction, channelId: number, payload: Uint8Array, m: FramedMessage): void {
    const ch = this.#channels.get(channelId);
    const c = ch?.content[dir] ?? null;
    if (ch === undefined || c === null || !c.headerSeen) return; // joined midway: its message started before
    c.size += m.length;
    const payloadLength = m.length - FRAME_OVERHEAD;
    // Only bytes the capture has, in order: after a gap nothing more of this body is kept.
    if (m.lostBytes === 0 && c.received === c.keptBytes) {
      const room = Math.min(this.#ctx.options.maxBodyBytes - c.keptBytes, MAX_HELD_BODY_BYTES - this.#heldBodyBytes);
      if (room > 0 && payload.length > 0) {
        const part = payload.subarray(0, Math.min(room, payload.length, payloadLength));
        // A short part of a long frame is copied: kept as a view, it would hold the whole frame.
        c.kept.push(part.length * 2 < m.bytes.length ? part.slice() : part);
        c.keptBytes += part.length;
        this.#heldBodyBytes += part.length;
      }
    }
    c.received += payloadLength;
    if (c.received >= c.bodySize) {
      if (c.received > c.bodySize) {
        this.#ctx.violation();
        c.problem ??= `body frames carried ${c.received} bytes, the header announced ${c.bodySize}`;
      }
      this.#finishContent(ch, dir);
    }
  }

  /** The content message of `dir` on `ch` is complete (or cut): its method goes on. */
  #finishContent(ch: ChannelState, dir: Direction): void {
    const c = ch.content[dir]!;
    ch.content[dir] = null;
    this.#heldBodyBytes -= c.keptBytes;
    if (c.headerSeen) {
      const kept = c.kept.length === 1 ? c.kept[0]! : Buffer.concat(c.kept, c.keptBytes);
      const size = Math.max(c.bodySize, c.received);
      c.method.body = buildBody(kept, size, c.method.properties?.contentType);
    }
    this.#method(ch, dir, c.spec, { method: c.method, startUs: c.startUs, size: c.size }, c.problem);
  }

  /** A whole method (with its content): paired, or an entry at once. */
  #method(ch: ChannelState, dir: Direction, spec: MethodSpec, sent: SentMethod, problem: string | undefined): void {
    const error: EntryError | null = problem === undefined ? null : { type: 'dissection', msg: `malformed ${spec.specName}: ${problem}` };
    if (spec.role === 'one-way' || (spec.role === 'request' && sent.method.noWait === true)) {
      this.#emit(this.#nextOrdinal++, sent, null, error);
      return;
    }
    if (spec.role === 'request') {
      if (this.#isClose(spec)) this.#closeAnswersFailed(ch, dir, sent);
      const ordinal = this.#nextOrdinal++;
      if (error !== null || this.#pending >= MAX_PENDING) {
        // Not kept waiting: malformed, or too many requests wait already.
        if (error === null) this.#ctx.stats.unpairedRequests++;
        this.#emit(ordinal, sent, null, error ?? { type: 'pair-not-found', msg: `more than ${MAX_PENDING} AMQP requests waiting for an answer` });
        return;
      }
      this.#pending++;
      ch.pairing.request(keyOf(dir, spec.classId, spec.methodId), { sent, ordinal }, sent.startUs);
      return;
    }
    // An answer: to the request its peer sent on this channel.
    const other: Direction = dir === 0 ? 1 : 0;
    const outcome = ch.pairing.response(keyOf(other, spec.classId, spec.answers!), sent.startUs);
    if (outcome.kind === 'paired') {
      this.#pending--;
      this.#emit(outcome.request.ordinal, outcome.request.sent, sent, error);
    }
    if (spec.classId === 20 && spec.methodId === 41) this.#closeChannel(ch, { type: 'connection', msg: 'channel closed before the response' });
    if (spec.classId === 10 && spec.methodId === 51) {
      for (const c of [...this.#channels.values()]) this.#closeChannel(c, { type: 'connection', msg: 'connection closed before the response' });
    }
  }

  /**
   * A method on a channel past MAX_CHANNELS: a request or one-way method is an entry at once (a
   * request without its answer), an answer is an orphan; content is not followed.
   */
  #untracked(dir: Direction, spec: MethodSpec, sent: SentMethod): void {
    if (spec.role === 'answer') {
      this.#ctx.stats.orphanResponses++;
      return;
    }
    if (spec.role === 'one-way' || sent.method.noWait === true) {
      this.#emit(this.#nextOrdinal++, sent, null, null);
      return;
    }
    this.#ctx.stats.unpairedRequests++;
    this.#emit(this.#nextOrdinal++, sent, null, { type: 'pair-not-found', msg: `more than ${MAX_CHANNELS} channels in use: not followed` });
  }

  #isClose(spec: MethodSpec): boolean {
    return (spec.classId === 20 && spec.methodId === 40) || (spec.classId === 10 && spec.methodId === 50);
  }

  /**
   * A Close that names the method that failed (a passive Queue.Declare of a missing queue: 404)
   * answers that method's waiting request: it goes out with the Close as its response.
   */
  #closeAnswersFailed(ch: ChannelState, dir: Direction, close: SentMethod): void {
    const { classId, methodId } = close.method;
    if (classId === undefined || methodId === undefined || classId === 0) return;
    const other: Direction = dir === 0 ? 1 : 0;
    const key = keyOf(other, classId, methodId);
    // A Connection.Close names a method of any channel: its own first.
    const channels = close.method.classNumber === 10 ? [ch, ...[...this.#channels.values()].filter((c) => c !== ch)] : [ch];
    for (const c of channels) {
      const failed = c.pairing.withdraw(key);
      if (failed === undefined) continue;
      this.#pending--;
      this.#emit(failed.request.ordinal, failed.request.sent, { ...close, method: { ...close.method, byClose: true } }, null);
      return;
    }
  }

  /** The channel is over: what waits on it leaves unanswered, an unfinished message as it is. */
  #closeChannel(ch: ChannelState, error: EntryError): void {
    const saved = this.#closeError;
    this.#closeError = error;
    for (const dir of [0, 1] as const) {
      const c = ch.content[dir];
      if (c === null) continue;
      c.problem ??= 'its content was cut by the end of the channel';
      this.#finishContent(ch, dir);
    }
    ch.pairing.closeAll();
    this.#closeError = saved;
    this.#channels.delete(ch.id);
  }

  #unanswered(_ch: ChannelState, w: Waiting, reason: UnansweredReason): void {
    this.#pending--;
    this.#emit(w.ordinal, w.sent, null, this.#unansweredError(reason));
  }

  #unansweredError(reason: UnansweredReason): EntryError {
    switch (reason) {
      case 'timeout':
        return { type: 'timeout', msg: `no answer within ${this.#ctx.options.responseTimeoutUs / 1e6} s` };
      case 'evicted':
        return { type: 'pair-not-found', msg: `more than ${MAX_PENDING_PER_CHANNEL} requests waiting on the channel` };
      case 'superseded':
        return { type: 'pair-not-found', msg: 'the same method was sent again on the channel before an answer came' };
      case 'closed':
        return this.#closeError;
    }
  }

  #emit(ordinal: number, request: SentMethod, response: SentMethod | null, error: EntryError | null): void {
    const client = this.#clientDir === 0 ? this.#conn.a : this.#conn.b;
    const server = this.#clientDir === 0 ? this.#conn.b : this.#conn.a;
    const entry = buildAmqpEntry({ id: `${this.#label}-${ordinal}`, client, server, request, response, error });
    this.#ctx.emit(entry, {});
  }
}
